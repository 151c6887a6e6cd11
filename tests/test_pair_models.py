"""The ensemble contract of the models on token pairs (``embed_mlp``, ``transformer``): member
e equals ``build(generators[e])``; a member's outputs and gradients are bit-identical alone
and in a group (without the duplicate member of a group of one, n_out = 1 differs in the
last bits); ``split_state`` round-trips."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from learnscope.models.embed import EmbedMLPConfig

from learnscope.models.transformer import TransformerConfig

N, WIDTH, N_OUT = 7, 9, 5  # tokens, width, outputs
# Member vs the network built alone: the same float32 sums by another kernel (bmm vs mm), so equal
# to rounding only. Relative tolerance 1e-5 (~80 float32 ulps) with atol = 1e-5 * max|output| for
# entries that cancel to near zero; a wrong member slice or sign gives differences of order 1e-1.
CONFIGS = {"embed_mlp": (EmbedMLPConfig(embed_dim=4, activation="gelu"), 1e-5),
           "transformer": (TransformerConfig(d_model=8, n_heads=2, activation="gelu"), 1e-5)}


@pytest.fixture(params=sorted(CONFIGS))
def model(request):
    """(config, relative tolerance of member vs single network; atol is it times max|output|)."""
    return CONFIGS[request.param]


def _gens(seeds) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(s) for s in seeds]


def pairs(*shape: int, seed: int = 9, n: int = N) -> torch.Tensor:
    """Random token pairs as one-hot halves: (*shape, 2n)."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randint(n, shape, generator=g), torch.randint(n, shape, generator=g)
    return torch.cat([nn.functional.one_hot(a, n), nn.functional.one_hot(b, n)], -1).float()


@pytest.mark.parametrize("shared", [True, False])
def test_each_member_equals_its_network_built_alone(model, shared):
    cfg, tol = model
    seeds = (0, 1, 2)
    ensemble = cfg.build_ensemble(2 * N, N_OUT, WIDTH, _gens(seeds))
    x = pairs(3, 30)
    out = ensemble(x[0] if shared else x)
    assert out.shape == (3, 30, N_OUT)
    for e, g in enumerate(_gens(seeds)):
        single = cfg.build(2 * N, N_OUT, WIDTH, g)
        torch.testing.assert_close(out[e], single(x[0] if shared else x[e]), rtol=tol,
                                   atol=tol * float(out[e].detach().abs().max()))
        assert all(torch.equal(v, single.state_dict()[k]) for k, v in ensemble.member_state(e).items())


def _member0(cfg, n_members: int, x: torch.Tensor, n_out: int) -> list[torch.Tensor]:
    """Member 0's outputs and parameter gradients in an ensemble of seeds 0..n_members-1."""
    ensemble = cfg.build_ensemble(2 * N, n_out, WIDTH, _gens(range(n_members)))
    out = ensemble(x if x.dim() == 2 else x[:n_members])
    (out.square().sum() + out[..., 0].sum()).backward()
    return [out[0].detach()] + [p.grad[0] for p in ensemble.parameters()]


@pytest.mark.parametrize("n_out", [1, N_OUT])
@pytest.mark.parametrize("shared", [True, False])
def test_a_member_is_bit_identical_alone_and_in_a_group(model, shared, n_out):
    cfg = model[0]
    x = pairs(300) if shared else pairs(3, 300)
    alone, in_three = _member0(cfg, 1, x, n_out), _member0(cfg, 3, x, n_out)
    assert all(torch.equal(a, b) for a, b in zip(alone, in_three, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(_member0(cfg, 2, x, n_out), in_three, strict=True))


def test_split_state_round_trip(model):
    cfg, tol = model
    ensemble = cfg.build_ensemble(2 * N, N_OUT, WIDTH, _gens((0, 1, 2)))
    with torch.no_grad():  # move away from the initialisation, so the test does not pass by rebuilding
        for p in ensemble.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(5)))
    x = pairs(25)
    out = ensemble(x)
    stacked = ensemble.state_dict()
    assert set(ensemble.member_names()) == set(stacked)
    for e in range(3):
        single = cfg.build(2 * N, N_OUT, WIDTH, torch.Generator())
        single.load_state_dict(ensemble.split_state(stacked, e))
        torch.testing.assert_close(single(x), out[e], rtol=tol, atol=tol * float(out[e].detach().abs().max()))


def test_same_generator_seed_same_weights_whatever_the_global_seed(model):
    cfg = model[0]

    def params(seed):
        net = cfg.build(2 * N, N_OUT, WIDTH, torch.Generator().manual_seed(seed))
        return {k: v.detach().clone() for k, v in net.state_dict().items()}

    torch.manual_seed(1)
    a = params(3)
    torch.manual_seed(2)
    torch.rand(10)
    b = params(3)
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = params(4)
    assert all(not torch.equal(a[k], c[k]) for k in a if a[k].any())  # zero-initialised biases aside


@pytest.mark.parametrize("scale", [0.1, 3.0])
def test_init_scale_scales_every_parameter_linearly(model, scale):
    cfg = model[0]
    base, scaled = (dataclasses.replace(cfg, init_scale=s).build(2 * N, N_OUT, WIDTH, torch.Generator().manual_seed(0))
                    for s in (1.0, scale))
    for name, value in base.state_dict().items():
        torch.testing.assert_close(scaled.state_dict()[name], scale * value, rtol=1e-6, atol=0)
