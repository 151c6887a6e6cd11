"""``learnscope.features.attention_rank``: per-head rank of Δ(W_Q W_Kᵀ) and Δ(W_V W_O).

Known answer: a planted rank-r change of W_Q[h] whose product change is s·U Pᵀ (U, P with
orthonormal columns) has stable rank r and singular values (s, …, s, 0, …); heads left alone
and step 0 have Δ = 0, stable rank 0 by definition. Reference: the batched products and
spectra equal a per-layer, per-head loop. The identity scalars a, b come back as planted.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from learnscope.features.attention_rank import ATTENTION_RANK_MEASURE, head_products, rank_measures
from learnscope.models.seq_transformer import SeqTransformerConfig
from learnscope.models.mlp import MLPConfig

V, S, WIDTH, HEADS, DEPTH = 5, 3, 8, 2, 2
D_HEAD = WIDTH // HEADS


def _state(seed: int = 0, **fields) -> dict[str, torch.Tensor]:
    """A float64 single-network state dict of a fresh seq_transformer."""
    config = SeqTransformerConfig(seq_len=S, depth=DEPTH, n_heads=HEADS, **fields)
    model = config.build(S * V, 2, WIDTH, torch.Generator().manual_seed(seed))
    return {k: v.detach().double().clone() for k, v in model.state_dict().items()}


def _orthonormal(n: int, r: int, seed: int) -> torch.Tensor:
    """(n, r) with orthonormal columns."""
    return torch.linalg.qr(torch.randn(n, r, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))[0]


def _plant_qk(state: dict, layer: int, head: int, s: float, r: int) -> dict:
    """State with W_Q[head] += s U Gᵀ, G chosen so that W_K G = P: Δ(W_Q W_Kᵀ) = s U Pᵀ."""
    out = {k: v.clone() for k, v in state.items()}
    W_K = state[f"layers.{layer}.W_K"][head]  # (d, d_head)
    Q_K, R_K = torch.linalg.qr(W_K)  # P = first r columns of Q_K
    G = torch.linalg.solve_triangular(R_K, torch.eye(D_HEAD, r, dtype=torch.float64), upper=True)  # (d_head, r)
    out[f"layers.{layer}.W_Q"][head] += s * _orthonormal(WIDTH, r, seed=7) @ G.T
    return out


@pytest.mark.parametrize("rank", [1, 2])
def test_planted_qk_change_has_known_stable_rank_and_singular_values(rank):
    s = 0.37
    init = _state(0)
    m = rank_measures([init, _plant_qk(init, layer=1, head=0, s=s, r=rank)])
    assert m["attn_stable_rank"][1, 1, 0, 0] == pytest.approx(rank, abs=1e-10)
    expected = np.r_[np.full(rank, s), np.zeros(WIDTH - rank)]
    np.testing.assert_allclose(m["attn_sv"][1, 1, 0, 0], expected, atol=1e-12)
    untouched = np.ones((DEPTH, HEADS, 2), dtype=bool)
    untouched[1, 0, 0] = False
    assert np.all(m["attn_stable_rank"][1][untouched] == 0)  # W_V W_O and other heads unchanged


def test_planted_vo_change_is_rank_one():
    """W_V[h] += u vᵀ: Δ(W_V W_O) = u (W_Oᵀ v)ᵀ, one singular value |u| |W_Oᵀ v|."""
    init = _state(1)
    moved = {k: v.clone() for k, v in init.items()}
    u, v = torch.randn(WIDTH, dtype=torch.float64), torch.randn(D_HEAD, dtype=torch.float64)
    moved["layers.0.W_V"][1] += torch.outer(u, v)
    m = rank_measures([init, moved])
    assert m["attn_stable_rank"][1, 0, 1, 1] == pytest.approx(1.0, abs=1e-10)
    sigma = (u.norm() * (init["layers.0.W_O"][1].T @ v).norm()).item()
    assert m["attn_sv"][1, 0, 1, 1, 0] == pytest.approx(sigma, rel=1e-12)
    assert m["attn_stable_rank"][1, 0, 1, 0] == 0


def test_step_zero_has_zero_change_and_stable_rank_zero():
    init = _state(2)
    m = rank_measures([init, _state(3)])
    assert np.all(m["attn_sv"][0] == 0) and np.all(m["attn_stable_rank"][0] == 0)
    assert m["attn_stable_rank"].shape == (2, DEPTH, HEADS, 2)
    assert m["attn_sv"].shape == (2, DEPTH, HEADS, 2, WIDTH)
    assert np.all(m["attn_stable_rank"][1] >= 1)


def test_batched_equals_per_head_loop_on_random_state():
    init, later = _state(4), _state(5)
    products = head_products(later)
    m = rank_measures([init, later])
    for l in range(DEPTH):
        p = {k: later[f"layers.{l}.{k}"] for k in ("W_Q", "W_K", "W_V", "W_O")}
        q = {k: init[f"layers.{l}.{k}"] for k in p}
        for h in range(HEADS):
            naive = [p["W_Q"][h] @ p["W_K"][h].T, p["W_V"][h] @ p["W_O"][h]]
            at_init = [q["W_Q"][h] @ q["W_K"][h].T, q["W_V"][h] @ q["W_O"][h]]
            for k in range(2):
                torch.testing.assert_close(products[l, h, k], naive[k], rtol=1e-13, atol=1e-13)
                sigma = torch.linalg.svdvals(naive[k] - at_init[k])
                np.testing.assert_allclose(m["attn_sv"][1, l, h, k], sigma.numpy(), rtol=1e-12, atol=1e-13)
                stable = (torch.linalg.matrix_norm(naive[k] - at_init[k]) / sigma[0]) ** 2
                assert m["attn_stable_rank"][1, l, h, k] == pytest.approx(stable.item(), rel=1e-12)


def test_identity_scalars_are_reported_and_nan_without_them():
    init = _state(6, identity=True)
    later = {k: v.clone() for k, v in init.items()}
    later["layers.0.a"][:] = torch.tensor([0.5, -1.0], dtype=torch.float64)
    later["layers.1.b"][:] = torch.tensor([2.0, 0.25], dtype=torch.float64)
    m = rank_measures([init, later])
    np.testing.assert_array_equal(m["identity_a"][1], [[0.5, -1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(m["identity_b"][1], [[0.0, 0.0], [2.0, 0.25]])
    np.testing.assert_array_equal(m["identity_a"][0], np.zeros((DEPTH, HEADS)))
    plain = rank_measures([_state(6), _state(7)])
    assert plain["identity_a"].shape == (2, DEPTH, HEADS) and np.all(np.isnan(plain["identity_b"]))


def test_measure_variables_carry_the_schema_dims():
    m = rank_measures([_state(8), _state(9)])
    variables, coords, _ = ATTENTION_RANK_MEASURE.variables(None, m)
    assert {k: v[0] for k, v in variables.items()} == ATTENTION_RANK_MEASURE.schema
    assert all(v[1].shape == m[k].shape and "long_name" in v[2] for k, v in variables.items())
    assert len(coords["product"][1]) == 2


def test_applies_to_seq_transformer_runs_only():
    assert ATTENTION_RANK_MEASURE.applies(SimpleNamespace(model=SeqTransformerConfig(seq_len=S)))
    assert not ATTENTION_RANK_MEASURE.applies(SimpleNamespace(model=MLPConfig()))
