"""Distillers: AGOP coordinate selection and scikit-learn-style fitting."""

import numpy as np
import pytest

from learnscope.distill.distillers import (
    DISTILLERS,
    AgopGuidedDistiller,
    CartDistiller,
    select_coordinates_by_gap,
)


def test_staircase_diagonal_keeps_the_coordinates_above_the_zeros():
    diag = np.array([3.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(select_coordinates_by_gap(diag), [0, 1, 2])


def test_selection_returns_sorted_original_indices():
    diag = np.full(12, 0.01)
    diag[[9, 2, 5]] = [0.8, 1.0, 1.2]
    np.testing.assert_array_equal(select_coordinates_by_gap(diag), [2, 5, 9])


def test_largest_gap_is_measured_on_a_log_scale():
    # Absolute gaps favour 100 -> 50, but 1 -> 0.001 is the larger ratio.
    diag = np.array([100.0, 50.0, 1.0, 0.001])
    np.testing.assert_array_equal(select_coordinates_by_gap(diag), [0, 1, 2])


@pytest.mark.parametrize("value", [0.0, 1.0, 3.5])
def test_flat_diagonal_keeps_every_coordinate(value):
    np.testing.assert_array_equal(select_coordinates_by_gap(np.full(6, value)), np.arange(6))


def test_single_coordinate_is_kept():
    np.testing.assert_array_equal(select_coordinates_by_gap(np.array([0.7])), [0])


def test_one_spike_keeps_one_coordinate():
    diag = np.full(5, 1e-3)
    diag[3] = 1.0
    np.testing.assert_array_equal(select_coordinates_by_gap(diag), [3])


def test_bad_diagonal_is_rejected():
    with pytest.raises(ValueError, match="agop_diag"):
        select_coordinates_by_gap(np.array([1.0, np.nan]))


def _parity(n: int, rng: np.random.Generator):
    """x uniform in {-1, +1}^12 (n, 12) and the sparse parity x2 x5 x9 (n,)."""
    x = rng.choice([-1.0, 1.0], size=(n, 12))
    return x, x[:, 2] * x[:, 5] * x[:, 9]


def _noisy_parity_agop(rng: np.random.Generator) -> np.ndarray:
    """(12, 12) AGOP-like matrix: diagonal 1 on the support {2, 5, 9}, 0.01 elsewhere."""
    diag = np.full(12, 0.01)
    diag[[2, 5, 9]] = 1.0
    noise = 1e-3 * rng.normal(size=(12, 12))
    return np.diag(diag + 1e-3 * rng.random(12)) + (noise + noise.T) / 2


def test_agop_distiller_finds_the_parity_support_and_imitates_it():
    rng = np.random.default_rng(0)
    x, y = _parity(2000, rng)
    agop = _noisy_parity_agop(rng)
    distiller = AgopGuidedDistiller(max_depth=3, kind="binary", agop=agop).fit(x, y)
    np.testing.assert_array_equal(distiller.coordinates_, [2, 5, 9])
    x_new, y_new = _parity(2000, rng)
    np.testing.assert_array_equal(distiller.predict(x_new), y_new)


def test_cart_distiller_is_deterministic():
    rng = np.random.default_rng(1)
    x, y = _parity(1000, rng)
    first = CartDistiller(max_depth=4, kind="binary").fit(x, y).tree_
    second = CartDistiller(max_depth=4, kind="binary").fit(x, y).tree_
    for name in ("children_left", "children_right", "feature", "threshold", "value"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


def test_init_only_stores_hyperparameters_and_fit_returns_self():
    distiller = CartDistiller(max_depth=2, kind="regression", random_state=3)
    assert vars(distiller) == {"max_depth": 2, "kind": "regression", "random_state": 3}
    x = np.random.default_rng(2).normal(size=(50, 3))
    assert distiller.fit(x, x[:, 0]) is distiller
    assert distiller.predict(x).shape == (50,)


def test_registry_names_both_variants():
    assert DISTILLERS == {"cart": CartDistiller, "agop": AgopGuidedDistiller}


def test_unknown_kind_lists_the_known_ones():
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="binary, regression, multiclass"):
        CartDistiller(max_depth=2, kind="ranking").fit(x, np.zeros(4))


def test_agop_of_wrong_shape_is_rejected():
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match="agop must be"):
        AgopGuidedDistiller(max_depth=2, kind="binary", agop=np.eye(2)).fit(x, np.ones(4))
