"""Digits: a seeded, disjoint split of scikit-learn's bundled 8×8 images."""

import re
from collections import Counter

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from learnscope.errors import ConfigError
from learnscope.tasks.digits import Digits

PATH = "params.yaml: study.tasks.digits"


def rows(x: np.ndarray) -> Counter:
    """Multiset of the rows of x (as bytes)."""
    return Counter(row.tobytes() for row in np.ascontiguousarray(x))


def test_shapes_dtypes_and_ranges():
    data = Digits(n_train=300, n_test=100).make_dataset()
    assert data["x_train"].shape == (300, 64) and data["x_train"].dtype == np.float32
    assert data["x_test"].shape == (100, 64) and data["x_test"].dtype == np.float32
    assert data["y_train"].shape == (300,) and data["y_train"].dtype == np.int64
    assert data["y_test"].shape == (100,) and data["y_test"].dtype == np.int64
    for split in ("train", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        assert x.min() >= 0.0 and x.max() <= 1.0
        assert set(np.unique(y)) <= set(range(10))
    assert x.max() == 1.0  # scaled by 16, not by the per-image maximum
    assert set(np.unique(data["y_train"])) == set(range(10))
    np.testing.assert_array_equal(data["support"], np.ones(64, dtype=np.int8))


def test_split_draws_disjoint_images_of_the_original_dataset():
    bunch = load_digits()
    full = rows(np.column_stack([bunch.data / 16.0, bunch.target]).astype(np.float64))
    data = Digits(n_train=1000, n_test=797).make_dataset()
    train = rows(np.column_stack([data["x_train"], data["y_train"]]).astype(np.float64))
    test = rows(np.column_stack([data["x_test"], data["y_test"]]).astype(np.float64))
    # Using every image, train and test together are exactly the dataset: no image twice.
    assert train + test == full


def test_smaller_split_takes_no_image_more_often_than_it_exists():
    bunch = load_digits()
    full = rows((bunch.data / 16.0).astype(np.float32))
    data = Digits(n_train=900, n_test=800).make_dataset()
    used = rows(data["x_train"]) + rows(data["x_test"])
    assert sum(used.values()) == 1700
    assert all(count <= full[key] for key, count in used.items())


def test_deterministic_and_seeded():
    first, second = Digits(n_train=50, n_test=20).make_dataset(), Digits(n_train=50, n_test=20).make_dataset()
    for key in first:
        assert first[key].tobytes() == second[key].tobytes()
    other = Digits(n_train=50, n_test=20, data_seed=1).make_dataset()
    assert not np.array_equal(first["x_train"], other["x_train"])


@pytest.mark.parametrize(("n_train", "n_test"), [(1500, 500), (1797, 1)])
def test_check_rejects_more_images_than_exist(n_train, n_test):
    with pytest.raises(ConfigError, match=re.escape(f"{PATH}.n_train + {PATH}.n_test = ")) as info:
        Digits(n_train=n_train, n_test=n_test).check(PATH)
    assert "at most 1797" in str(info.value)


def test_check_accepts_the_whole_dataset_and_rejects_empty_splits():
    Digits(n_train=1000, n_test=797).check(PATH)
    with pytest.raises(ConfigError, match=re.escape(f"{PATH}.n_test = 0")):
        Digits(n_train=10, n_test=0).check(PATH)


def test_sample_is_refused_with_the_family_named():
    with pytest.raises(NotImplementedError, match="Digits is a fixed dataset"):
        Digits(n_train=10, n_test=10).sample(5, torch.Generator().manual_seed(0))


def test_interface():
    task = Digits(n_train=10, n_test=10)
    assert (task.kind, task.n_inputs, task.n_outputs) == ("multiclass", 64, 10)
    names = task.feature_names()
    assert len(names) == 64 and len(set(names)) == 64
    assert names[0] == "px_r0_c0" and names[9] == "px_r1_c1" and names[63] == "px_r7_c7"
    assert "10 train / 10 test" in task.describe()
