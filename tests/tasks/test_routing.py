"""The routing task: trained and held-out pathway pairs, the hierarchy's features, gates as data."""

import numpy as np
import pytest

from learnscope.errors import ConfigError
from learnscope.tasks.routing import Routing


def test_the_default_is_the_authors_verification_setup():
    task = Routing()
    assert task.item_targets().tolist() == [[6, 4, 0, 3, 0, 0, 0], [6, 4, 0, 0, 3, 0, 0],
                                            [6, 0, 4, 0, 0, 3, 0], [6, 0, 4, 0, 0, 0, 3]]
    gate = task.trained_pairs()  # [output, input]
    assert gate.sum() == 28 and (gate.sum(0) == 4).all() and (gate.sum(1) == 4).all()
    assert sorted(np.flatnonzero(gate[:, 0])) == [0, 1, 2, 6]  # input 0 -> outputs -1..2 mod 7
    assert (task.n_train, task.n_test, task.n_inputs, task.n_outputs) == (112, 84, 18, 49)


def test_every_example_carries_its_gates_and_its_features_in_the_active_block():
    task = Routing(pathways=4, offsets=(0, 1), levels=(1.0, 2.0))
    data = task.make_dataset()
    p, m, f = task.items, task.pathways, task.n_features
    gate = task.trained_pairs()
    for x_name, y_name, trained in (("x_train", "y_train", True), ("x_test", "y_test", False)):
        x, y = data[x_name], data[y_name].reshape(-1, m, f)
        item, g_in, g_out = x[:, :p], x[:, p:p + m], x[:, p + m:]
        assert (item.sum(1) == 1).all() and (g_in.sum(1) == 1).all() and (g_out.sum(1) == 1).all()
        i, j = g_in.argmax(1), g_out.argmax(1)
        assert (gate[j, i] == trained).all()
        np.testing.assert_array_equal(y[np.arange(len(x)), j], task.item_targets()[item.argmax(1)])
        y[np.arange(len(x)), j] = 0
        assert not y.any()  # the inactive blocks are zero
        pairs = {(a, b) for a, b in zip(i, j)}
        assert len(pairs) * p == len(x)  # every item of every pair, once
    assert len(data["x_train"]) == task.n_train and len(data["x_test"]) == task.n_test


def test_a_deeper_hierarchy_has_one_block_of_features_per_level():
    y = Routing(levels=(1.0, 2.0, 3.0, 4.0)).item_targets()
    assert y.shape == (8, 15)
    assert (y[:, 0] == 1).all() and (y[:, 1:3].sum(0) == [8, 8]).all() and (y[:, 7:] == 4 * np.eye(8)).all()


def test_with_every_pair_trained_the_test_set_is_the_training_set():
    task = Routing(pathways=2, offsets=(0, 1))
    data = task.make_dataset()
    np.testing.assert_array_equal(data["x_test"], data["x_train"])


@pytest.mark.parametrize("fields, key", [({"pathways": 0}, "pathways"), ({"offsets": ()}, "offsets"),
                                         ({"pathways": 3, "offsets": (0, 3)}, "offsets"),
                                         ({"levels": ()}, "levels")])
def test_bad_fields_name_their_key(fields, key):
    with pytest.raises(ConfigError, match=rf"t\.{key} = "):
        Routing(**fields).check("t")
