"""Tree node arrays: predictions, text and plots must match scikit-learn's own tree."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, export_text  # noqa: E402

from learnscope.distill import trees  # noqa: E402


def _task(kind: str, x: np.ndarray) -> np.ndarray:
    """Labels of a small nonlinear rule on x (n, 5), in the kind's label convention."""
    score = x[:, 0] + x[:, 1] * x[:, 3]
    if kind == "binary":
        return np.where(score >= 0, 1.0, -1.0)
    if kind == "multiclass":
        return np.digitize(score, [-0.5, 0.5]).astype(np.float64)  # classes 0, 1, 2
    return np.sin(2 * score) + 0.1 * x[:, 4]


def _fitted(kind: str, columns=None, depth: int = 5, seed: int = 0):
    """A fitted sklearn tree on x (600, 5), optionally seeing only ``columns`` of x."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(600, 5))
    seen = x if columns is None else x[:, columns]
    model = DecisionTreeRegressor if kind == "regression" else DecisionTreeClassifier
    return model(max_depth=depth, random_state=0).fit(seen, _task(kind, x))


def _eval_inputs(seed: int = 1) -> np.ndarray:
    """(2000, 5) fresh inputs, half of them on a coarse grid so some land on thresholds."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2000, 5))
    x[1000:] = np.round(x[1000:] * 2) / 2
    return x


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_predict_matches_sklearn(kind):
    estimator = _fitted(kind)
    tree = trees.from_sklearn(estimator, None, kind)
    x = _eval_inputs()
    np.testing.assert_array_equal(trees.predict(tree, x), estimator.predict(x))


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_predict_with_feature_map_uses_original_coordinates(kind):
    columns = np.array([3, 0, 1])
    estimator = _fitted(kind, columns)
    tree = trees.from_sklearn(estimator, columns, kind)
    x = _eval_inputs()
    np.testing.assert_array_equal(trees.predict(tree, x), estimator.predict(x[:, columns]))
    assert set(trees.features_used(tree)) <= {0, 1, 3}
    split_columns = estimator.tree_.feature[estimator.tree_.feature >= 0]
    np.testing.assert_array_equal(trees.features_used(tree), np.unique(columns[split_columns]))


@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_samples_exactly_on_a_threshold_go_left_as_in_sklearn(kind):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, size=(400, 5)).astype(np.float64)  # thresholds at k + 0.5
    model = DecisionTreeRegressor if kind == "regression" else DecisionTreeClassifier
    estimator = model(max_depth=4, random_state=0).fit(x, _task(kind, x - 2))
    tree = trees.from_sklearn(estimator, None, kind)
    x_eval = rng.integers(0, 9, size=(2000, 5)) / 2.0  # many points on thresholds
    assert np.isin(x_eval, tree.threshold).any()
    np.testing.assert_array_equal(trees.predict(tree, x_eval), estimator.predict(x_eval))


def test_multiclass_classes_are_label_values():
    tree = trees.from_sklearn(_fitted("multiclass"), None, "multiclass")
    np.testing.assert_array_equal(tree.classes, [0.0, 1.0, 2.0])
    assert tree.value.shape == (tree.n_nodes, 1, 3)


def test_regression_tree_has_one_class_slot():
    tree = trees.from_sklearn(_fitted("regression"), None, "regression")
    np.testing.assert_array_equal(tree.classes, [0.0])
    assert tree.value.shape == (tree.n_nodes, 1, 1)


def test_node_depths_match_sklearn_depth():
    estimator = _fitted("binary", depth=4)
    tree = trees.from_sklearn(estimator, None, "binary")
    depths = trees.node_depths(tree)
    assert depths[0] == 0
    assert depths.max() == estimator.get_depth()


@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_render_text_matches_sklearn_export_text(kind):
    estimator = _fitted(kind, depth=3)
    names = [f"coord_{i}" for i in range(5)]
    tree = trees.from_sklearn(estimator, None, kind)
    assert trees.render_text(tree, names) == export_text(estimator, feature_names=names)


def test_render_text_names_original_coordinates():
    columns = np.array([4, 2])
    tree = trees.from_sklearn(_fitted("binary", columns, depth=2), columns, "binary")
    text = trees.render_text(tree)
    for coordinate in trees.features_used(tree):
        assert f"x{coordinate} <= " in text and f"x{coordinate} >  " in text
    assert "x0" not in text and "x1" not in text


def test_plot_tree_draws_one_box_per_node_and_one_line_per_edge():
    tree = trees.from_sklearn(_fitted("multiclass", depth=3), None, "multiclass")
    fig, ax = plt.subplots()
    try:
        trees.plot_tree(tree, ax, feature_names=[f"f{i}" for i in range(5)])
        assert len(ax.texts) == tree.n_nodes
        assert len(ax.lines) == tree.n_nodes - 1
        assert sum(text.get_bbox_patch() is not None for text in ax.texts) == tree.n_nodes
        fig.canvas.draw()
    finally:
        plt.close(fig)


def test_mismatched_node_arrays_are_rejected():
    tree = trees.from_sklearn(_fitted("binary", depth=2), None, "binary")
    with pytest.raises(ValueError, match="threshold"):
        trees.TreeArrays(
            tree.children_left, tree.children_right, tree.feature, tree.threshold[:-1],
            tree.impurity, tree.n_node_samples, tree.value, tree.classes, "binary",
        )
