"""Tests of the Neural Feature Ansatz correlations: metrics, index layout, degenerate cases."""

import itertools
import math
import warnings

import numpy as np
import pytest
import torch

from learnscope.features.agop import matrix_power_psd
from learnscope.features.nfa import (AGOP_POWERS, MAIN_CONVENTION, METRICS, WEIGHT_FORMS,
                                     cosine, neural_feature_matrix, nfa_correlations,
                                     nfa_init_baseline, pearson)


@pytest.fixture
def layer():
    """A first layer (out=7, in=4) at init and after a change, and a PSD AGOP (4, 4)."""
    gen = torch.Generator().manual_seed(0)
    w0 = torch.randn(7, 4, generator=gen)
    w = w0 + 0.5 * torch.randn(7, 4, generator=gen)
    b = torch.randn(4, 4, generator=gen)
    return w, w0, b @ b.T


def test_pearson_with_affine_transform_is_one():
    m = torch.randn(5, 5, generator=torch.Generator().manual_seed(1))
    assert abs(pearson(m, 2 * m + 3) - 1.0) < 1e-12
    assert abs(pearson(m, -m) + 1.0) < 1e-12


def test_pearson_matches_numpy_corrcoef():
    gen = torch.Generator().manual_seed(2)
    a, b = torch.randn(4, 6, generator=gen), torch.randn(4, 6, generator=gen)
    expected = np.corrcoef(a.double().numpy().ravel(), b.double().numpy().ravel())[0, 1]
    assert abs(pearson(a, b) - expected) < 1e-12


def test_cosine_matches_direct_formula():
    gen = torch.Generator().manual_seed(3)
    a, b = torch.randn(3, 3, generator=gen) + 1, torch.randn(3, 3, generator=gen)
    a64, b64 = a.double().ravel(), b.double().ravel()
    expected = float(a64 @ b64 / (a64.norm() * b64.norm()))
    assert abs(cosine(a, b) - expected) < 1e-12
    assert abs(cosine(a, 2 * a) - 1.0) < 1e-12
    assert abs(cosine(a, a + 3) - pearson(a, a + 3)) > 1e-3  # uncentered differs from Pearson


def test_degenerate_inputs_give_nan_without_warning():
    m = torch.randn(3, 3, generator=torch.Generator().manual_seed(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(pearson(torch.full((3, 3), 0.1), m))
        assert math.isnan(pearson(m, torch.zeros(3, 3)))
        assert math.isnan(cosine(torch.zeros(3, 3), m))


def test_neural_feature_matrix_is_in_by_in():
    w = torch.randn(7, 4, generator=torch.Generator().manual_seed(5))
    nfm = neural_feature_matrix(w)
    assert nfm.shape == (4, 4) and nfm.dtype == torch.float64
    torch.testing.assert_close(nfm, w.double().T @ w.double())


def test_correlation_layout_matches_direct_calls(layer):
    w, w0, agop = layer
    table = nfa_correlations(w, w0, agop)
    assert table.shape == (len(WEIGHT_FORMS), len(AGOP_POWERS), len(METRICS))
    assert table.dtype == torch.float64
    dw = w.double() - w0.double()
    nfms = {"W": w.double().T @ w.double(), "dW": dw.T @ dw}
    agops = {"agop": agop.double(), "sqrt_agop": matrix_power_psd(agop.double(), 0.5)}
    metrics = {"pearson": pearson, "cosine": cosine}
    for (i, form), (j, power), (k, metric) in itertools.product(
            enumerate(WEIGHT_FORMS), enumerate(AGOP_POWERS), enumerate(METRICS)):
        expected = metrics[metric](nfms[form], agops[power])
        assert abs(float(table[i, j, k]) - expected) < 1e-12, (form, power, metric)
    assert len({float(v) for v in table.flatten()}) == 8  # the conventions really differ
    assert set(MAIN_CONVENTION) <= set(WEIGHT_FORMS + AGOP_POWERS + METRICS)


def test_untrained_layer_gives_nan_dW_row(layer):
    _, w0, agop = layer
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = nfa_correlations(w0, w0, agop)
    assert torch.isnan(table[WEIGHT_FORMS.index("dW")]).all()
    assert torch.isfinite(table[WEIGHT_FORMS.index("W")]).all()


def test_init_baseline_is_the_W_row_with_w0(layer):
    w, w0, agop = layer
    baseline = nfa_init_baseline(w0, agop)
    assert baseline.shape == (len(AGOP_POWERS), len(METRICS))
    torch.testing.assert_close(baseline, nfa_correlations(w0, w, agop)[WEIGHT_FORMS.index("W")])


def test_agop_of_wrong_size_is_rejected(layer):
    w, w0, _ = layer
    with pytest.raises(ValueError, match="AGOP"):
        nfa_correlations(w, w0, torch.eye(7))


def test_convention_names_and_order_are_pinned():
    # Other code indexes the table by these tuples; their order is part of the API.
    assert WEIGHT_FORMS == ("W", "dW")
    assert AGOP_POWERS == ("agop", "sqrt_agop")
    assert METRICS == ("pearson", "cosine")
    assert MAIN_CONVENTION == ("W", "sqrt_agop", "pearson")
