"""``learnscope.models.mlp_xxt``: the MLP with pairwise-equality features XXᵀ.

Known answers of the feature map on hand-written sequences; invariance of the equalities under
renaming the symbols; the first layer's fan-in; the ensemble contract (a member is bit-identical
alone and in a group, its parameters are those of the network built alone); config checks.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from learnscope import config
from learnscope.errors import ConfigError
from learnscope.models.mlp import MLPConfig
from learnscope.models.mlp_xxt import MLPXXTConfig, pairwise_equalities

L, V, WIDTH, N_OUT = 4, 6, 9, 3  # seq_len, vocabulary, hidden width, outputs


def sequences(*shape: int, seed: int = 5) -> torch.Tensor:
    """Random symbol sequences as position-major one-hots: (*shape, L·V)."""
    ids = torch.randint(V, (*shape, L), generator=torch.Generator().manual_seed(seed))
    return nn.functional.one_hot(ids, V).flatten(-2).float()


def _gens(seeds) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(s) for s in seeds]


def test_equalities_of_hand_written_sequences():
    s, t, u = torch.eye(5)[1], torch.eye(5)[3], torch.eye(5)[0]
    x = torch.stack([torch.cat([s, t, s]), torch.cat([s, s, s]), torch.cat([s, t, u]), torch.cat([t, s, s])])
    # pairs (0, 1), (0, 2), (1, 2)
    expected = torch.tensor([[0.0, 1, 0], [1, 1, 1], [0, 0, 0], [0, 0, 1]])
    assert torch.equal(pairwise_equalities(x, 3), expected)
    assert torch.equal(pairwise_equalities(x.expand(2, 4, 15), 3), expected.expand(2, 4, 3))  # batched (E, B)


def test_equalities_invariant_under_renaming_symbols():
    x = sequences(2, 50)
    renamed = x.unflatten(-1, (L, V))[..., torch.randperm(V, generator=torch.Generator().manual_seed(1))].flatten(-2)
    assert not torch.equal(renamed, x)
    assert torch.equal(pairwise_equalities(renamed, L), pairwise_equalities(x, L))


@pytest.mark.parametrize("equalities_only, fan_in", [(False, L * V + L * (L - 1) // 2), (True, L * (L - 1) // 2)])
def test_first_layer_reads_the_features(equalities_only, fan_in):
    cfg = MLPXXTConfig(seq_len=L, equalities_only=equalities_only, depth=2)
    model = cfg.build(L * V, N_OUT, WIDTH, torch.Generator().manual_seed(0))
    assert model.first_layer.in_features == cfg.n_features(L * V) == fan_in
    # the network is the plain MLP on the features: same draws from the generator, same outputs
    plain = MLPConfig(depth=2).build(fan_in, N_OUT, WIDTH, torch.Generator().manual_seed(0))
    x = sequences(20)
    features = pairwise_equalities(x, L) if equalities_only else torch.cat([x, pairwise_equalities(x, L)], -1)
    assert torch.equal(model(x), plain(features))


def test_equalities_only_network_ignores_symbol_names():
    model = MLPXXTConfig(seq_len=L, equalities_only=True).build(L * V, N_OUT, WIDTH, torch.Generator())
    x = sequences(30)
    renamed = x.unflatten(-1, (L, V))[..., torch.arange(V - 1, -1, -1)].flatten(-2)
    assert torch.equal(model(renamed), model(x))


def _member0(cfg: MLPXXTConfig, n_members: int, x: torch.Tensor) -> list[torch.Tensor]:
    """Member 0's outputs and parameter gradients in an ensemble of seeds 0..n_members-1."""
    ensemble = cfg.build_ensemble(L * V, N_OUT, WIDTH, _gens(range(n_members)))
    out = ensemble(x if x.dim() == 2 else x[:n_members])
    (out.square().sum() + out[..., 0].sum()).backward()
    return [out[0].detach()] + [p.grad[0] for p in ensemble.parameters()]


@pytest.mark.parametrize("equalities_only", [False, True])
@pytest.mark.parametrize("shared", [True, False])
def test_a_member_is_bit_identical_alone_and_in_a_group(shared, equalities_only):
    cfg = MLPXXTConfig(seq_len=L, equalities_only=equalities_only, activation="gelu")
    x = sequences(200) if shared else sequences(3, 200)
    alone, in_three = _member0(cfg, 1, x), _member0(cfg, 3, x)
    assert all(torch.equal(a, b) for a, b in zip(alone, in_three, strict=True))


def test_each_member_equals_its_network_built_alone():
    cfg, seeds = MLPXXTConfig(seq_len=L, depth=2), (0, 1, 2)
    ensemble = cfg.build_ensemble(L * V, N_OUT, WIDTH, _gens(seeds))
    x = sequences(3, 40)
    out = ensemble(x)
    assert out.shape == (3, 40, N_OUT)
    for e, g in enumerate(_gens(seeds)):
        single = cfg.build(L * V, N_OUT, WIDTH, g)
        assert all(torch.equal(v, single.state_dict()[k]) for k, v in ensemble.member_state(e).items())
        # bmm vs nn.Linear: the same float32 sums by another kernel, equal to rounding only
        torch.testing.assert_close(out[e], single(x[e]), rtol=1e-5, atol=1e-5 * float(out[e].detach().abs().max()))


def test_check_refuses_a_sequence_without_pairs():
    with pytest.raises(ConfigError, match=r"params\.yaml: m\.seq_len "):
        config.build(MLPXXTConfig, {"seq_len": 1}, "params.yaml: m")
    assert config.build(MLPXXTConfig, {"seq_len": 3, "depth": 2}, "params.yaml: m") == MLPXXTConfig(seq_len=3, depth=2)


def test_build_refuses_inputs_not_split_into_positions():
    with pytest.raises(ValueError, match="not a multiple of seq_len = 4"):
        MLPXXTConfig(seq_len=L).build(L * V + 1, N_OUT, WIDTH, torch.Generator())
