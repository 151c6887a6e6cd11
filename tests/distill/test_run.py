"""distill_network: the science (AGOP-guided trees find a sparse parity) and tree.nc round trips."""

import numpy as np
import pytest
import xarray as xr

from learnscope.distill import trees
from learnscope.distill.distillers import CartDistiller
from learnscope.distill.run import distill_network, fidelity, tree_from_dataset


def _parity_problem(n: int, rng: np.random.Generator):
    """x uniform in {-1, +1}^12 (n, 12); the sparse parity x2 x5 x9 as output (n, 1) and label."""
    x = rng.choice([-1.0, 1.0], size=(n, 12))
    y = x[:, 2] * x[:, 5] * x[:, 9]
    return x, y[:, None], y


def _parity_agop(rng: np.random.Generator) -> np.ndarray:
    """(12, 12) AGOP with diagonal 1 on {2, 5, 9}, 0.01 elsewhere, plus small noise."""
    diag = np.full(12, 0.01)
    diag[[2, 5, 9]] = 1.0
    return np.diag(diag * (1 + 0.05 * rng.random(12)))


@pytest.fixture(scope="module")
def parity_trees() -> xr.Dataset:
    rng = np.random.default_rng(0)
    x_fit, out_fit, _ = _parity_problem(4000, rng)
    x_eval, out_eval, y_eval = _parity_problem(4000, rng)
    agop = _parity_agop(rng)
    return distill_network(x_fit, out_fit, x_eval, out_eval, y_eval, agop, "binary", max_depth=4)


def test_agop_tree_recovers_the_sparse_parity(parity_trees):
    agop_tree = parity_trees.sel(variant="agop", depth=3)
    assert float(agop_tree.fidelity) >= 0.99
    assert float(agop_tree.accuracy) >= 0.99
    assert set(np.flatnonzero(agop_tree.coords_used.values)) == {2, 5, 9}
    assert set(np.flatnonzero(parity_trees.selected_coords.values)) == {2, 5, 9}


def test_plain_cart_misses_the_sparse_parity(parity_trees):
    # No single bit carries marginal information, so greedy splits are chosen by noise.
    assert float(parity_trees.fidelity.sel(variant="cart", depth=3)) < 0.9


def test_dataset_schema(parity_trees):
    ds = parity_trees
    assert dict(ds.sizes) == {"variant": 2, "depth": 4, "node": int(ds.n_nodes.max()),
                              "output": 1, "class": 2, "input": 12}
    assert list(ds.variant.values) == ["cart", "agop"]
    np.testing.assert_array_equal(ds["class"].values, [-1.0, 1.0])
    expected = {"children_left": np.int32, "children_right": np.int32, "feature": np.int32,
                "threshold": np.float64, "impurity": np.float64, "n_node_samples": np.int64,
                "value": np.float64, "n_nodes": np.int32, "fidelity": np.float64,
                "accuracy": np.float64, "coords_used": np.int8, "selected_coords": np.int8,
                "agop_diag": np.float64}
    expected = {name: np.dtype(dtype) for name, dtype in expected.items()}
    assert {name: ds[name].dtype for name in expected} == expected
    for name in ds.variables:
        assert "long_name" in ds[name].attrs, name
        assert len(set(ds[name].dims)) == len(ds[name].dims), name
    assert all(isinstance(value, (str, int, float)) for value in ds.attrs.values())
    assert ds.attrs["kind"] == "binary"


def test_node_arrays_are_padded_past_n_nodes(parity_trees):
    one = parity_trees.sel(variant="agop", depth=1)
    n = int(one.n_nodes)
    assert n == 3 and parity_trees.sizes["node"] > n
    for name in ("children_left", "children_right", "feature", "n_node_samples"):
        assert (one[name].values[n:] == -1).all()
    for name in ("threshold", "impurity", "value"):
        assert (one[name].values[n:] == -1.0).all()


def _other_problem(kind: str, rng: np.random.Generator, n: int = 800):
    """x (n, 4), network outputs (n, c) and true labels (n,) for a multiclass or regression net."""
    x = rng.normal(size=(n, 4))
    score = x[:, 1] + 0.5 * x[:, 3]
    if kind == "multiclass":
        y = np.digitize(score, [-0.5, 0.5])
        return x, np.eye(3)[y] + 0.1 * rng.normal(size=(n, 3)), y
    out = np.tanh(2 * score)[:, None]
    return x, out, out[:, 0] + 0.05 * rng.normal(size=n)


def _distill(kind: str, seed: int = 0):
    """Trees of depth 1..3 for a small net of ``kind``; returns (dataset, x_eval, out_eval)."""
    rng = np.random.default_rng(seed)
    if kind == "binary":
        problem = _parity_problem
        (x_fit, out_fit, _), (x_eval, out_eval, y_eval) = problem(500, rng), problem(500, rng)
        agop = _parity_agop(rng)
    else:
        (x_fit, out_fit, _) = _other_problem(kind, rng)
        (x_eval, out_eval, y_eval) = _other_problem(kind, rng)
        agop = np.diag([0.01, 1.0, 0.01, 0.5])
    names = [f"bit{i}" for i in range(x_fit.shape[1])]
    ds = distill_network(
        x_fit, out_fit, x_eval, out_eval, y_eval, agop, kind, max_depth=3, feature_names=names
    )
    return ds, x_eval, out_eval


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_saved_trees_predict_like_the_fitted_ones(kind, tmp_path):
    ds, x_eval, _ = _distill(kind)
    path = tmp_path / "tree.nc"
    ds.to_netcdf(path, engine="netcdf4")
    with xr.open_dataset(path, engine="netcdf4") as loaded:
        loaded.load()
    xr.testing.assert_identical(loaded, ds)
    for variant in ("cart", "agop"):
        for depth in (1, 2, 3):
            in_memory = tree_from_dataset(ds, variant, depth)
            reloaded = tree_from_dataset(loaded, variant, depth)
            assert reloaded.n_nodes == int(ds.n_nodes.sel(variant=variant, depth=depth))
            np.testing.assert_array_equal(
                trees.predict(reloaded, x_eval), trees.predict(in_memory, x_eval)
            )


def test_rebuilt_tree_reproduces_the_stored_fidelity():
    ds, x_eval, out_eval = _distill("multiclass", seed=3)
    tree = tree_from_dataset(ds, "cart", 3)
    assert fidelity("multiclass", trees.predict(tree, x_eval), out_eval.argmax(1)) == float(
        ds.fidelity.sel(variant="cart", depth=3))
    assert "bit1" in trees.render_text(tree, ds.input_name.values)


def test_unknown_variant_lists_the_stored_ones():
    ds, _, _ = _distill("regression")
    with pytest.raises(ValueError, match="cart"):
        tree_from_dataset(ds, "forest", 2)


def test_regression_tree_copies_a_piecewise_constant_net():
    rng = np.random.default_rng(4)
    x_fit, x_eval = rng.integers(0, 5, size=(2, 1000, 3)).astype(np.float64)

    def net(x):
        return 2.0 * (x[:, 0] > 2) - 1.5 * (x[:, 1] > 0) + 0.5 * (x[:, 0] > 3)

    tree = CartDistiller(max_depth=3, kind="regression").fit(x_fit, net(x_fit))
    assert fidelity("regression", tree.predict(x_eval), net(x_eval)) == 1.0


@pytest.mark.parametrize("constant", [None, 0.0, 3.0])
def test_a_constant_prediction_has_fidelity_at_most_zero(constant):
    target = np.random.default_rng(5).normal(size=500)
    value = target.mean() if constant is None else constant
    score = fidelity("regression", np.full(500, value), target)
    assert score <= 1e-12
    if constant is None:
        assert score == pytest.approx(0.0, abs=1e-12)
