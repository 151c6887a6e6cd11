"""The gated deep linear network (``gdln``): its forward pass against hand-written pathway
products, its orthogonal initialisation, gradients against a naive per-pathway loop, the
ensemble contract (member e is ``build(generators[e])``, bit-identical alone and in a group),
config checks and the analysis helpers ``layer_singular_values`` and ``pathway_maps``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learnscope import config
from learnscope.errors import ConfigError
from learnscope.models import MODELS
from learnscope.models.base import ModelConfig
from learnscope.models.gdln import EnsembleGatedDLN, GatedDLN, GatedDLNConfig

M, WIDTH, D_ITEM, N_OUT = 3, 5, 2, 3
N_INPUTS, N_OUTPUTS = D_ITEM + 2 * M, M * N_OUT


def _gens(seeds) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(s) for s in seeds]


def _build(seed: int = 0, **fields) -> GatedDLN:
    return GatedDLNConfig(pathways=M, **fields).build(N_INPUTS, N_OUTPUTS, WIDTH, torch.Generator().manual_seed(seed))


def _rows(*shape: int, seed: int = 9, soft: bool = False) -> torch.Tensor:
    """Random inputs [item, g_in, g_out] (*shape, N_INPUTS): one-hot gates, or random reals if ``soft``."""
    g = torch.Generator().manual_seed(seed)
    item = torch.randn(*shape, D_ITEM, generator=g)
    if soft:
        return torch.cat([item, torch.randn(*shape, 2 * M, generator=g)], -1)
    i, j = torch.randint(M, shape, generator=g), torch.randint(M, shape, generator=g)
    eye = torch.eye(M)
    return torch.cat([item, eye[i], eye[j]], -1)


# Float32 comparisons of one product computed by two kernels or summation orders (bmm vs mm,
# hand-written loops): relative tolerance 1e-5 (~80 ulps) with atol = 1e-5 * max|expected| for
# entries that cancel to near zero; equal-by-construction checks use torch.equal instead.


def _naive(x: torch.Tensor, w_in, w_shared, w_out) -> torch.Tensor:
    """Reference forward (B, N_INPUTS) -> (B, M·N_OUT): explicit loops over pathways and layers."""
    item, g_in, g_out = x[:, :D_ITEM], x[:, D_ITEM:D_ITEM + M], x[:, D_ITEM + M:]
    h = sum(g_in[:, i:i + 1] * (item @ w_in[i].T) for i in range(len(w_in)))
    for w in w_shared:
        h = h @ w.T
    return torch.cat([g_out[:, j:j + 1] * (h @ w_out[j].T) for j in range(len(w_out))], -1)


def test_registry_and_config_round_trip():
    assert MODELS["gdln"] is GatedDLNConfig
    cfg = config.build(ModelConfig, {"name": "gdln", "pathways": 4, "shared_layers": 2}, "model")
    assert cfg == GatedDLNConfig(pathways=4, shared_layers=2)
    assert config.to_data(cfg) == {"name": "gdln", "pathways": 4, "shared_layers": 2, "init_scale": 0.2}


@pytest.mark.parametrize("field, value", [("pathways", 0), ("shared_layers", 0), ("init_scale", 0.0),
                                          ("init_scale", -0.1)])
def test_check_names_the_key(field, value):
    with pytest.raises(ConfigError, match=rf"model\.{field} "):
        config.build(ModelConfig, {"name": "gdln", field: value}, "model")


@pytest.mark.parametrize("n_inputs, n_outputs, match", [(2 * M, N_OUTPUTS, "n_inputs = 6"),
                                                        (N_INPUTS, N_OUTPUTS + 1, "10 % 3 = 1")])
def test_build_rejects_shapes_that_do_not_fit_the_pathways(n_inputs, n_outputs, match):
    with pytest.raises(ValueError, match=match):
        GatedDLNConfig(pathways=M).build(n_inputs, n_outputs, WIDTH, torch.Generator())


def test_parameter_names_and_shapes():
    net = _build(shared_layers=2)
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes == {"W_in": (M, WIDTH, D_ITEM), "W_shared": (2, WIDTH, WIDTH), "W_out": (M, N_OUT, WIDTH)}
    assert net(_rows(4)).shape == (4, N_OUTPUTS)
    with pytest.raises(ValueError, match="8 columns"):
        net(torch.zeros(4, N_INPUTS + 1))


@pytest.mark.parametrize("layers", [1, 2])
def test_one_hot_gates_select_one_pathway_product(layers):
    net = _build(shared_layers=layers)
    w_in, w_shared, w_out = net.W_in.detach(), net.W_shared.detach(), net.W_out.detach()
    item = torch.tensor([0.7, -1.3])
    for i in range(M):
        for j in range(M):
            x = torch.cat([item, torch.eye(M)[i], torch.eye(M)[j]])
            h = w_in[i] @ item
            for k in range(layers):
                h = w_shared[k] @ h
            y = net(x[None])[0].detach().view(M, N_OUT)
            expected = w_out[j] @ h
            torch.testing.assert_close(y[j], expected, rtol=1e-5, atol=1e-5 * float(expected.detach().abs().max()))
            assert all(torch.equal(y[k], torch.zeros(N_OUT)) for k in range(M) if k != j)


def test_soft_gates_mix_pathways_linearly():
    net = _build(shared_layers=2)
    item, eye = torch.tensor([1.1, 0.4]), torch.eye(M)

    def out(g_in, g_out):
        return net(torch.cat([item, g_in, g_out])[None])[0].detach()

    g_in = torch.tensor([0.3, -1.2, 2.0])
    mixed = sum(g_in[i] * out(eye[i], torch.ones(M)) for i in range(M))
    torch.testing.assert_close(out(g_in, torch.ones(M)), mixed, rtol=1e-5, atol=1e-5 * float(mixed.abs().max()))
    g_out = torch.tensor([0.5, 0.0, -2.0])
    gated = out(g_in, torch.ones(M)) * g_out.repeat_interleave(N_OUT)
    torch.testing.assert_close(out(g_in, g_out), gated, rtol=1e-5, atol=1e-5 * float(gated.abs().max()))


@pytest.mark.parametrize("scale", [0.2, 1.5])
def test_every_weight_matrix_starts_with_all_singular_values_init_scale(scale):
    cfg = GatedDLNConfig(pathways=M, shared_layers=2, init_scale=scale)
    svals = cfg.layer_singular_values(_build(shared_layers=2, init_scale=scale).state_dict())
    assert {k: v.shape for k, v in svals.items()} == {"W_in": (M, D_ITEM), "W_shared": (2, WIDTH),
                                                      "W_out": (M, N_OUT)}
    for value in svals.values():
        np.testing.assert_allclose(value, scale, rtol=1e-5, atol=0)  # float32 orthogonal matrices


def test_init_draws_each_matrix_from_the_generator_in_order():
    net = _build(seed=4, shared_layers=2, init_scale=0.3)
    g, expected = torch.Generator().manual_seed(4), []
    for shape, count in [((WIDTH, D_ITEM), M), ((WIDTH, WIDTH), 2), ((N_OUT, WIDTH), M)]:
        expected += [torch.nn.init.orthogonal_(torch.empty(shape), gain=0.3, generator=g) for _ in range(count)]
    got = list(net.W_in.detach()) + list(net.W_shared.detach()) + list(net.W_out.detach())
    assert all(torch.equal(a, b) for a, b in zip(got, expected, strict=True))


def test_same_generator_seed_same_weights_whatever_the_global_seed():
    torch.manual_seed(1)
    a = _build(seed=3).state_dict()
    torch.manual_seed(2)
    torch.rand(10)
    b, c = _build(seed=3).state_dict(), _build(seed=4).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(not torch.equal(a[k], c[k]) for k in a)
    w = _build(seed=3).W_in.detach()
    assert not torch.equal(w[0], w[1])  # pathways are drawn independently


@pytest.mark.parametrize("layers", [1, 3])
def test_gradients_match_a_naive_per_pathway_loop(layers):
    net = _build(shared_layers=layers, init_scale=0.9).double()  # float64: compare the algebra, not rounding
    x = _rows(11, soft=True).double()
    target = torch.randn(11, N_OUTPUTS, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    (net(x) - target).square().sum().backward()
    params = [p.detach().clone().requires_grad_() for p in (net.W_in, net.W_shared, net.W_out)]
    (_naive(x, *params) - target).square().sum().backward()
    for p, ref in zip((net.W_in, net.W_shared, net.W_out), params):
        assert ref.grad.abs().max() > 1e-3
        torch.testing.assert_close(p.grad, ref.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shared", [True, False])
def test_each_member_equals_its_network_built_alone(shared):
    cfg = GatedDLNConfig(pathways=M, shared_layers=2)
    ensemble = cfg.build_ensemble(N_INPUTS, N_OUTPUTS, WIDTH, _gens((0, 1, 2)))
    assert isinstance(ensemble, EnsembleGatedDLN)
    assert {k: tuple(v.shape) for k, v in ensemble.state_dict().items()} == {
        "W_in": (3, M, WIDTH, D_ITEM), "W_shared": (3, 2, WIDTH, WIDTH), "W_out": (3, M, N_OUT, WIDTH)}
    x = _rows(3, 30, soft=True)
    out = ensemble(x[0] if shared else x)
    assert out.shape == (3, 30, N_OUTPUTS)
    for e, g in enumerate(_gens((0, 1, 2))):
        single = cfg.build(N_INPUTS, N_OUTPUTS, WIDTH, g)
        torch.testing.assert_close(out[e], single(x[0] if shared else x[e]), rtol=1e-5,
                                   atol=1e-5 * float(out[e].detach().abs().max()))
        assert all(torch.equal(v, single.state_dict()[k]) for k, v in ensemble.member_state(e).items())


def _member0(cfg, n_members: int, x: torch.Tensor, n_outputs: int, width: int) -> list[torch.Tensor]:
    """Member 0's outputs and parameter gradients in an ensemble of seeds 0..n_members-1."""
    ensemble = cfg.build_ensemble(x.shape[-1], n_outputs, width, _gens(range(n_members)))
    out = ensemble(x if x.dim() == 2 else x[:n_members])
    (out.square().sum() + out[..., 0].sum()).backward()
    return [out[0].detach()] + [p.grad[0] for p in ensemble.parameters()]


# (pathways, d_item, N_out, width): the second size differs in the last bits of W_in's
# gradient without the duplicate member of a group of one (torch's mm vs bmm).
SIZES = [(M, D_ITEM, N_OUT, WIDTH), (2, 3, 1, 16)]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("shared", [True, False])
def test_a_member_is_bit_identical_alone_and_in_a_group(shared, layers, size):
    m, d_item, n_out, width = size
    cfg = GatedDLNConfig(pathways=m, shared_layers=layers, init_scale=0.7)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(300, d_item + 2 * m, generator=g) if shared else torch.randn(3, 300, d_item + 2 * m, generator=g)
    alone, in_three = (_member0(cfg, n, x, m * n_out, width) for n in (1, 3))
    assert len(alone) == 4
    assert all(torch.equal(a, b) for a, b in zip(alone, in_three, strict=True))
    in_two = _member0(cfg, 2, x, m * n_out, width)
    assert all(torch.equal(a, b) for a, b in zip(in_two, in_three, strict=True))


def test_split_state_round_trip():
    cfg = GatedDLNConfig(pathways=M, shared_layers=2)
    ensemble = cfg.build_ensemble(N_INPUTS, N_OUTPUTS, WIDTH, _gens((0, 1, 2)))
    with torch.no_grad():  # move away from the initialisation, so the test does not pass by rebuilding
        for p in ensemble.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(5)))
    x, stacked = _rows(25, soft=True), ensemble.state_dict()
    assert ensemble.member_names() == {"W_in": "W_in", "W_shared": "W_shared", "W_out": "W_out"}
    for e in range(3):
        single = cfg.build(N_INPUTS, N_OUTPUTS, WIDTH, torch.Generator())
        single.load_state_dict(ensemble.split_state(stacked, e))
        expected = ensemble(x)[e]
        torch.testing.assert_close(single(x), expected, rtol=1e-5, atol=1e-5 * float(expected.detach().abs().max()))


def test_layer_singular_values_match_numpy_after_training_moves_the_weights():
    cfg = GatedDLNConfig(pathways=M, shared_layers=2)
    state = {k: v + torch.randn(v.shape, generator=torch.Generator().manual_seed(1))
             for k, v in _build(shared_layers=2).state_dict().items()}
    svals = cfg.layer_singular_values(state)
    for name, value in svals.items():
        assert value.dtype == np.float64
        expected = np.stack([np.linalg.svd(w, compute_uv=False) for w in state[name].double().numpy()])
        np.testing.assert_allclose(value, expected, rtol=1e-10, atol=1e-12)
        assert np.all(np.diff(value, axis=1) <= 0)


def test_pathway_maps_are_the_end_to_end_products_and_predict_the_forward_pass():
    cfg = GatedDLNConfig(pathways=M, shared_layers=3)
    net = _build(shared_layers=3, init_scale=1.0)
    maps = cfg.pathway_maps(net.state_dict())
    assert maps.shape == (M, M, N_OUT, D_ITEM) and maps.dtype == torch.float64
    w_in, w_shared, w_out = (p.detach().double() for p in (net.W_in, net.W_shared, net.W_out))
    item = torch.tensor([0.3, -0.8])
    for i in range(M):
        for j in range(M):
            expected = w_out[j] @ w_shared[2] @ w_shared[1] @ w_shared[0] @ w_in[i]
            torch.testing.assert_close(maps[j, i], expected, rtol=1e-12, atol=1e-14)
            x = torch.cat([item, torch.eye(M)[i], torch.eye(M)[j]])
            y = net(x[None])[0].detach().double().view(M, N_OUT)[j]
            expected = maps[j, i] @ item.double()  # float64; y is the float32 forward
            torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-5 * float(expected.detach().abs().max()))


def test_build_group_gives_each_member_its_own_init_scale():
    configs = [GatedDLNConfig(pathways=M, init_scale=s) for s in (0.1, 2.0)]
    ensemble = configs[0].build_group(configs, N_INPUTS, N_OUTPUTS, WIDTH, _gens((0, 1)))
    for e, (cfg, g) in enumerate(zip(configs, _gens((0, 1)))):
        single = cfg.build(N_INPUTS, N_OUTPUTS, WIDTH, g)
        assert all(torch.equal(v, single.state_dict()[k]) for k, v in ensemble.member_state(e).items())
    with pytest.raises(ValueError, match="only in init_scale"):
        configs[0].build_group([configs[0], GatedDLNConfig(pathways=M, shared_layers=2)], N_INPUTS, N_OUTPUTS,
                               WIDTH, _gens((0, 1)))
