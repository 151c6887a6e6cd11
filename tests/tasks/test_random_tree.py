"""Random depth-r decision trees (tasks.trees): depth r, seeded, the dataset holds the tree."""

import itertools

import numpy as np
import pytest
import torch

from learnscope.data import dataset_to_xarray
from learnscope.distill.trees import node_depths, predict
from learnscope.errors import ConfigError
from learnscope.tasks.trees import RandomTree


def task(seed=0, depth=3, n_bits=12):
    return RandomTree(n_bits=n_bits, depth=depth, n_train=256, n_test=64, data_seed=seed)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_tree_is_complete_of_depth_r_with_no_variable_repeated_on_a_path(depth):
    tree = task(depth=depth).tree()
    depths = node_depths(tree)
    assert depths[tree.is_leaf].tolist() == [depth] * 2 ** depth  # complete: every leaf at depth r
    assert tree.n_nodes == 2 ** (depth + 1) - 1
    stack = [(0, ())]
    while stack:
        node, path = stack.pop()
        if tree.is_leaf[node]:
            continue
        assert tree.feature[node] not in path
        path = path + (int(tree.feature[node]),)
        stack += [(int(tree.children_left[node]), path), (int(tree.children_right[node]), path)]


def test_tree_depends_on_the_seed_only():
    a, b = task(seed=5).tree(np.ones((1, 12))), task(seed=5).tree(np.ones((1, 12)))
    assert np.array_equal(a.feature, b.feature) and np.array_equal(a.value, b.value)
    features = {tuple(task(seed=s).tree().feature.tolist()) for s in range(8)}
    assert len(features) > 1  # different seeds draw different trees


def test_labels_are_the_leaves_the_inputs_reach():
    t = task(depth=3)
    data = t.make_dataset()
    assert np.array_equal(data["y_train"], predict(t.tree(), data["x_train"]).astype(np.float32))
    x, y = t.sample(500, torch.Generator().manual_seed(1))
    assert np.array_equal(y.numpy(), predict(t.tree(), x.numpy()).astype(np.float32))
    assert set(np.unique(y.numpy()).tolist()) <= {-1.0, 1.0}


def test_target_on_every_input_of_a_small_cube_matches_the_leaf_labels():
    t = task(depth=2, n_bits=4)
    x = np.array(list(itertools.product([-1.0, 1.0], repeat=4)), dtype=np.float32)
    label = t._arrays[3]
    left, right, feature = t._arrays[:3]
    for row, y in zip(x, t.target(torch.from_numpy(x)).numpy()):
        node = 0
        while left[node] >= 0:
            node = left[node] if row[feature[node]] < 0 else right[node]
        assert y == label[node]


def test_dataset_stores_the_tree_and_counts_on_x_train():
    t = task()
    ds = dataset_to_xarray(t, t.make_dataset())
    tree = t.tree()
    assert np.array_equal(ds["tree_feature"].values, tree.feature)
    assert int(ds["tree_n_node_samples"].values[0]) == t.n_train
    # a parent's count is its children's sum
    left, right = tree.children_left, tree.children_right
    for node in np.flatnonzero(~tree.is_leaf):
        assert tree.n_node_samples[node] == tree.n_node_samples[left[node]] + tree.n_node_samples[right[node]]
    assert ds["support"].values.sum() == len(np.unique(tree.feature[tree.feature >= 0]))


@pytest.mark.parametrize("fields,key", [({"depth": 0}, "depth"), ({"depth": 13}, "depth"),
                                        ({"depth": 5, "n_bits": 4}, "depth")])
def test_bad_depth_names_the_key(fields, key):
    with pytest.raises(ConfigError, match=rf"t\.{key}"):
        RandomTree(**{"n_bits": 12, "n_train": 4, "n_test": 4, **fields}).check("t")
