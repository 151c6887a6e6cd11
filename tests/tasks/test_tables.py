"""Composition tables: modular addition and finite groups as one-hot pair datasets."""

from __future__ import annotations

import numpy as np
import pytest

from learnscope.config import build, from_json, to_json
from learnscope.errors import ConfigError
from learnscope.tasks.algebra import GroupComposition, ModularAddition
from learnscope.tasks.base import Task


def _decode(task, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = task.order
    assert set(np.unique(x)) <= {0.0, 1.0} and (x[:, :n].sum(1) == 1).all() and (x[:, n:].sum(1) == 1).all()
    return x[:, :n].argmax(1), x[:, n:].argmax(1)


def test_modular_addition_labels_are_sums_and_the_split_covers_every_pair_once():
    task = ModularAddition(p=7, train_fraction=0.4, data_seed=3)
    d = task.make_dataset()
    assert (task.n_train, task.n_test) == (20, 29) and task.kind == "multiclass"
    assert d["x_train"].shape == (20, 14) and d["x_test"].shape == (29, 14) and task.n_outputs == 7
    pairs = []
    for split in ("train", "test"):
        a, b = _decode(task, d[f"x_{split}"])
        assert (d[f"y_{split}"] == (a + b) % 7).all()
        pairs += list(zip(a.tolist(), b.tolist()))
    assert sorted(pairs) == [(a, b) for a in range(7) for b in range(7)]


def test_all_pairs_trained_on_makes_the_test_set_the_whole_table():
    d = ModularAddition(p=5).make_dataset()
    assert d["x_train"].shape == (25, 10)
    np.testing.assert_array_equal(d["x_train"], d["x_test"])


def test_the_split_depends_on_the_data_seed_only_and_is_byte_reproducible():
    a, b = ModularAddition(p=11, train_fraction=0.5).make_dataset(), ModularAddition(p=11, train_fraction=0.5).make_dataset()
    assert all(a[k].tobytes() == b[k].tobytes() for k in a)
    c = ModularAddition(p=11, train_fraction=0.5, data_seed=1).make_dataset()
    assert not np.array_equal(a["x_train"], c["x_train"])


@pytest.mark.parametrize("spec", ["dihedral:4", "symmetric:3", "cyclic:6"])
def test_group_composition_labels_follow_the_multiplication_table(spec):
    task = GroupComposition(group=spec)
    d = task.make_dataset()
    a, b = _decode(task, d["x_train"])
    np.testing.assert_array_equal(d["y_train"], task.finite_group.table[a, b])
    assert task.feature_names()[0].startswith("a=") and len(task.feature_names()) == task.n_inputs


def test_derived_counts_round_trip_through_json_and_are_not_params():
    task = build(Task, {"family": "modular_addition", "p": 13, "train_fraction": 0.3}, "t")
    assert from_json(Task, to_json(task)) == task
    assert "n_train" not in to_json(task) and task.n_train == round(0.3 * 169)
    with pytest.raises(ConfigError, match=r"t\.n_train is not a known key"):
        build(Task, {"family": "modular_addition", "p": 13, "n_train": 5}, "t")


@pytest.mark.parametrize("data, key", [
    ({"family": "modular_addition", "p": 1}, "p"),
    ({"family": "modular_addition", "p": 5, "train_fraction": 0.0}, "train_fraction"),
    ({"family": "modular_addition", "p": 5, "train_fraction": 1.5}, "train_fraction"),
    ({"family": "group_composition", "group": "symmetric:6"}, "group"),
    ({"family": "group_composition", "group": "quaternion:8"}, "group"),
])
def test_bad_values_name_their_key(data, key):
    with pytest.raises(ConfigError, match=rf"params\.yaml: t\.{key} "):
        build(Task, data, "params.yaml: t")


def test_a_table_cannot_sample_fresh_data():
    with pytest.raises(NotImplementedError, match="fixed table"):
        ModularAddition(p=5).sample(3, None)
