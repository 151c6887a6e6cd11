"""GatedProduct: the RFM demo's target x0·x1·1[x5 > 0] of Gaussian inputs."""

import numpy as np
import pytest
import torch

from learnscope.errors import ConfigError
from learnscope.tasks.gaussian import GatedProduct

PATH = "params.yaml: nfa.tasks.demo"


def test_docstring_example():
    task = GatedProduct(n_train=1, n_test=1, dim=6)
    x = torch.tensor([[0.5, -0.4, 0.1, 0.0, 0.0, 0.3], [0.5, -0.4, 0.1, 0.0, 0.0, -0.3]])
    np.testing.assert_allclose(task.target(x).numpy(), [-0.2, 0.0], rtol=1e-6)  # float32 products


def test_gates_multiply_and_an_empty_gate_is_the_product():
    x = torch.tensor([[2.0, 3.0, 1.0, -1.0], [2.0, 3.0, 1.0, 1.0], [2.0, 3.0, -1.0, 1.0]])
    both = GatedProduct(n_train=1, n_test=1, dim=4, product=(0, 1), gate=(2, 3))
    np.testing.assert_array_equal(both.target(x).numpy(), [0.0, 6.0, 0.0])
    plain = GatedProduct(n_train=1, n_test=1, dim=4, product=(0, 1), gate=())
    np.testing.assert_array_equal(plain.target(x).numpy(), [6.0, 6.0, 6.0])


def test_dataset_is_seeded_gaussian_with_the_demo_support():
    task = GatedProduct(n_train=4000, n_test=1000, dim=20, std=0.5)
    data = task.make_dataset()
    again = task.make_dataset()
    for key in data:
        np.testing.assert_array_equal(data[key], again[key])
    assert data["x_train"].shape == (4000, 20) and data["x_train"].dtype == np.float32
    assert abs(data["x_train"].std() - 0.5) < 0.01 and abs(data["x_train"].mean()) < 0.01
    np.testing.assert_array_equal(data["y_train"], task.target(torch.from_numpy(data["x_train"])).numpy())
    assert 0.45 < (data["y_train"] == 0).mean() < 0.55  # the gate is off half of the time
    np.testing.assert_array_equal(np.flatnonzero(data["support"]), [0, 1, 5])
    other = GatedProduct(n_train=4000, n_test=1000, dim=20, std=0.5, data_seed=1).make_dataset()
    assert not np.array_equal(other["x_train"], data["x_train"])
    assert task.describe() == "x0·x1·1[x5 > 0] of x ~ N(0, 0.5² I_20)"


@pytest.mark.parametrize("fields, key, message", [
    ({"dim": 0}, "dim", "must be at least 1"),
    ({"std": 0.0}, "std", "must be > 0"),
    ({"product": ()}, "product", "at least one coordinate"),
    ({"product": (0, 20)}, "product", "has index 20"),
    ({"gate": (5, 5)}, "gate", "repeats an index"),
    ({"gate": (1,)}, "gate", "shares coordinate 1 with product"),
])
def test_bad_fields_name_the_key(fields, key, message):
    with pytest.raises(ConfigError) as info:
        GatedProduct(n_train=1, n_test=1, **fields).check(PATH)
    assert f"{PATH}.{key}" in str(info.value) and message in str(info.value)
