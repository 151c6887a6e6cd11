"""The AGOP with respect to every hidden layer's input (features.agop.ensemble_layer_agops) and
the per-layer ansatz measure built on it (features.nfa.layer_measures)."""

import numpy as np
import pytest
import torch

from learnscope.bench_layer_agop import layer_input, layer_tail
from learnscope.features.agop import agop, ensemble_agop, ensemble_layer_agops
from learnscope.features.nfa import layer_measures, nfa_correlations, nfa_init_baseline
from learnscope.models.mlp import MLPConfig


def _members(activation: str, n: int, outputs: int = 2):
    cfg = MLPConfig(depth=3, activation=activation)
    members = [cfg.build(5, outputs, 7, torch.Generator().manual_seed(seed)).double() for seed in range(n)]
    return members, cfg.build_ensemble(5, outputs, 7, [torch.Generator().manual_seed(s) for s in range(n)]).double()


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_each_layers_agop_is_the_autograd_agop_of_the_rest_of_the_network(activation):
    members, ensemble = _members(activation, 3)
    x = torch.randn(50, 5, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    got = ensemble_layer_agops(ensemble, x, row_chunk=16)  # chunks of 16 rows: 50 = 16 + 16 + 16 + 2
    assert [g.shape for g in got] == [(3, 5, 5), (3, 7, 7), (3, 7, 7)]  # the readout's input is left out
    for e, mlp in enumerate(members):
        for layer in range(3):
            expected = agop(layer_tail(mlp, layer), layer_input(mlp, x, layer))
            torch.testing.assert_close(got[layer][e], expected, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(got[0], ensemble_agop(ensemble, x), rtol=1e-10, atol=1e-12)


def test_a_single_member_gets_the_same_layer_agops_as_in_an_ensemble():
    _, ensemble = _members("relu", 3, outputs=1)
    _, alone = _members("relu", 1, outputs=1)
    x = torch.randn(20, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for a, b in zip(ensemble_layer_agops(alone, x), ensemble_layer_agops(ensemble, x)):
        torch.testing.assert_close(a[0], b[0], rtol=1e-10, atol=1e-12)


def test_layer_measures_compare_each_layer_with_its_own_agop_and_init():
    gen = torch.Generator().manual_seed(0)
    states = [{f"layers.{l}.weight": torch.randn(6, 4 if l == 0 else 6, generator=gen) for l in range(2)}
              for _ in range(3)]
    agops = [torch.stack([(a := torch.randn(n, n, generator=gen, dtype=torch.float64)) @ a.T for _ in range(3)])
             for n in (4, 6)]
    out = layer_measures(states, agops)
    assert out["layer_nfa_corr"].shape == (3, 2, 2, 2, 2) and out["layer_nfa_corr_init"].shape == (3, 2, 2, 2)
    for t in range(3):
        for l in range(2):
            w, w0 = states[t][f"layers.{l}.weight"], states[0][f"layers.{l}.weight"]
            np.testing.assert_array_equal(out["layer_nfa_corr"][t, l], nfa_correlations(w, w0, agops[l][t]).numpy())
            np.testing.assert_array_equal(out["layer_nfa_corr_init"][t, l], nfa_init_baseline(w0, agops[l][t]).numpy())
    # a weight whose Gram matrix is the AGOP's square root follows the ansatz exactly
    root = torch.linalg.cholesky(agops[1][2]).T.float()  # Rᵀ R = AGOP
    exact = layer_measures([states[0], {**states[2], "layers.1.weight": root}], [agops[0][:2], agops[1][[0, 2]]])
    assert exact["layer_nfa_corr"][1, 1, 0, 0, 0] == pytest.approx(1.0, abs=1e-6)  # (W, agop, pearson)
