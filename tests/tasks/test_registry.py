"""The task registry: lookup by name, helpful unknown-name errors, a uniform interface."""

import dataclasses
import typing

import pytest

from learnscope.errors import ConfigError
from learnscope.kinds import KINDS
from learnscope.tasks import TASKS, get_task_class
from learnscope.tasks.base import Task
from learnscope.tasks.algebra import GroupComposition, ModularAddition
from learnscope.tasks.boolean import MultiIndex, SparseParity
from learnscope.tasks.digits import Digits
from learnscope.tasks.gaussian import GatedProduct
from learnscope.tasks.routing import Routing
from learnscope.tasks.templates import TemplateCopy, Templates
from learnscope.tasks.trees import RandomTree

SIMPLE_TYPES = {int, float, str, bool, tuple[int, ...], tuple[tuple[int, ...], ...], tuple[float, ...],
                dict[str, float]}
EXAMPLES = {
    "sparse_parity": SparseParity(n_train=8, n_test=4, n_bits=6, k=2),
    "multi_index": MultiIndex(n_train=8, n_test=4, n_bits=4, monomials=((0,), (0, 1))),
    "digits": Digits(n_train=8, n_test=4),
    "modular_addition": ModularAddition(p=3, train_fraction=0.9),  # 8 of the 9 pairs
    "group_composition": GroupComposition(group="cyclic:3", train_fraction=0.9),
    "routing": Routing(pathways=2, offsets=(0,), levels=(6.0, 4.0, 3.0)),  # 2 trained pairs x 4 items
    "templates": Templates(n_train=8, n_test=4, n_symbols=3, n_test_symbols=2, template_set="aba_abb"),
    "template_copy": TemplateCopy(n_train=8, n_test=4, n_symbols=3, n_test_symbols=2, templates={"ABA": 0.0, "ABB": 0.0}),
    "random_tree": RandomTree(n_train=8, n_test=4, n_bits=5, depth=2),
    "gated_product": GatedProduct(n_train=8, n_test=4, dim=6),
}


def test_lookup_by_name():
    assert get_task_class("sparse_parity", "p") is SparseParity
    assert get_task_class("multi_index", "p") is MultiIndex
    assert get_task_class("digits", "p") is Digits


def test_unknown_name_lists_the_known_ones_sorted():
    with pytest.raises(ConfigError) as info:
        get_task_class("parityy", "params.yaml: parity.tasks.foo")
    assert str(info.value) == (
        "params.yaml: parity.tasks.foo.family = 'parityy' is unknown; known: digits, gated_product, group_composition, modular_addition, multi_index, random_tree, routing, "
        "sparse_parity, template_copy, templates"
    )


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_family_is_a_frozen_keyword_dataclass_of_simple_fields(name):
    cls = TASKS[name]
    assert issubclass(cls, Task) and dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert {"n_train", "n_test", "data_seed"} <= fields.keys()
    assert all(f.kw_only for f in fields.values())
    hints = typing.get_type_hints(cls)
    assert all(hints[key] in SIMPLE_TYPES for key in fields), hints


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_family_has_a_consistent_interface(name):
    task = EXAMPLES[name]
    assert isinstance(task, TASKS[name])
    task.check("p")
    assert task.kind in KINDS
    assert (task.n_outputs == 1) == (task.kind in ("binary", "regression"))
    data = task.make_dataset()
    assert data["x_train"].shape == (8, task.n_inputs) and data["x_test"].shape == (task.n_test, task.n_inputs)
    assert data["support"].shape == (task.n_inputs,)
    assert len(task.feature_names()) == task.n_inputs
    assert isinstance(task.describe(), str) and "\n" not in task.describe()
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.n_train = 3
