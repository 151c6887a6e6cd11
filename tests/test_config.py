"""The generic strict loader ``learnscope.config``.

Checks that ``build`` turns plain data into (nested, polymorphic) frozen dataclasses and
that every bad input gives exactly one one-line ``ConfigError`` naming the dotted key;
that ``to_data``/``to_json``/``from_json`` invert ``build`` canonically; and ``require``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Literal

import pytest

from learnscope.config import build, from_json, to_data, to_json
from learnscope.errors import require
from learnscope.errors import ConfigError
from learnscope.models.base import ModelConfig
from learnscope.models.mlp import MLPConfig
from learnscope.tasks.base import Task
from learnscope.tasks.boolean import MultiIndex, SparseParity


@dataclasses.dataclass(frozen=True, kw_only=True)
class Inner:
    rate: float
    mode: Literal["a", "b"] = "a"

    def check(self, path: str) -> None:
        require(self.rate > 0, f"{path}.rate", f"= {self.rate} must be > 0")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outer:
    name: str
    count: int
    flag: bool = False
    inner: Inner
    pair: tuple[int, float] = (0, 0.0)
    many: tuple[int, ...] = ()
    table: dict[str, int] = dataclasses.field(default_factory=dict)
    maybe: int | None = None
    task: Task | None = None
    model: ModelConfig | None = None


GOOD = {"name": "x", "count": 3, "flag": True, "inner": {"rate": 0.5, "mode": "b"},
        "pair": [1, 2.5], "many": [1, 2, 3], "table": {"u": 1}, "maybe": 7,
        "task": {"family": "sparse_parity", "n_bits": 6, "k": 2, "n_train": 10, "n_test": 5},
        "model": {"name": "mlp", "depth": 2}}


def _fails(data, key: str) -> str:
    """Build ``Outer`` from ``data``; assert one one-line ConfigError that starts with ``key``."""
    with pytest.raises(ConfigError) as info:
        build(Outer, data, "top")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"top.{key} "), message
    return message


def test_build_converts_every_supported_type():
    obj = build(Outer, GOOD, "top")
    assert obj == Outer(name="x", count=3, flag=True, inner=Inner(rate=0.5, mode="b"), pair=(1, 2.5),
                        many=(1, 2, 3), table={"u": 1}, maybe=7,
                        task=SparseParity(n_bits=6, k=2, n_train=10, n_test=5), model=MLPConfig(depth=2))
    assert type(obj.inner.rate) is float and type(obj.pair[1]) is float


def test_an_int_where_a_float_belongs_becomes_a_float():
    assert build(Inner, {"rate": 2}, "x") == Inner(rate=2.0)
    assert type(build(Inner, {"rate": 2}, "x").rate) is float


def test_defaults_fill_missing_optional_keys():
    obj = build(Outer, {"name": "x", "count": 1, "inner": {"rate": 1.0}}, "top")
    assert (obj.flag, obj.pair, obj.many, obj.table, obj.maybe, obj.task) == (False, (0, 0.0), (), {}, None, None)


def test_none_is_accepted_for_an_optional_field():
    assert build(Outer, GOOD | {"maybe": None}, "top").maybe is None


def test_unknown_key_is_named_with_the_allowed_ones():
    message = _fails(GOOD | {"colour": 1}, "colour")
    assert "allowed: count, flag, inner, many, maybe, model, name, pair, table, task" in message


def test_unknown_nested_key_gets_the_full_dotted_path():
    message = _fails(GOOD | {"inner": {"rate": 1.0, "speed": 2}}, "inner.speed")
    assert "allowed: mode, rate" in message


def test_missing_required_key():
    data = dict(GOOD)
    del data["count"]
    assert "is required" in _fails(data, "count")


def test_string_where_a_float_belongs_suggests_a_dot():
    message = _fails(GOOD | {"inner": {"rate": "1e-3"}}, "inner.rate")
    assert "1.0e-3" in message


@pytest.mark.parametrize("value", [True, 1.5, "3"])
def test_bool_float_or_string_where_an_int_belongs(value):
    assert "must be an integer" in _fails(GOOD | {"count": value}, "count")


def test_bool_is_not_a_number():
    _fails(GOOD | {"inner": {"rate": True}}, "inner.rate")


def test_int_is_not_a_bool():
    _fails(GOOD | {"flag": 1}, "flag")


def test_value_outside_a_literal_lists_the_allowed_ones():
    message = _fails(GOOD | {"inner": {"rate": 1.0, "mode": "c"}}, "inner.mode")
    assert "'a', 'b'" in message


def test_tuple_entries_are_named_by_index():
    _fails(GOOD | {"many": [1, "two", 3]}, "many[1]")
    assert "2 entries" in _fails(GOOD | {"pair": [1, 2.0, 3]}, "pair")
    _fails(GOOD | {"many": 5}, "many")


def test_dict_values_are_named_by_key():
    _fails(GOOD | {"table": {"u": 1, "v": "x"}}, "table.v")
    _fails(GOOD | {"table": [1]}, "table")


def test_a_section_that_is_not_a_mapping():
    _fails(GOOD | {"inner": 3}, "inner")


def test_check_methods_run_with_the_dotted_path():
    assert "must be > 0" in _fails(GOOD | {"inner": {"rate": -1.0}}, "inner.rate")


def test_polymorphic_section_unknown_name_lists_the_known_ones():
    message = _fails(GOOD | {"task": {"family": "nope", "n_train": 1, "n_test": 1}}, "task.family")
    assert ("known: digits, gated_product, group_composition, modular_addition, multi_index, random_tree, routing, sparse_parity, "
            "template_copy, templates") in message
    assert "known: embed_mlp, gdln, mlp, mlp_xxt, seq_transformer, transformer" in _fails(
        GOOD | {"model": {"name": "cnn"}}, "model.name")


def test_polymorphic_section_without_its_discriminator():
    _fails(GOOD | {"task": {"n_bits": 6, "k": 2, "n_train": 10, "n_test": 5}}, "task.family")


def test_polymorphic_section_checks_its_own_fields():
    bad = GOOD["task"] | {"k": 7}
    assert "between 1 and n_bits = 6" in _fails(GOOD | {"task": bad}, "task.k")
    _fails(GOOD | {"task": GOOD["task"] | {"depth": 2}}, "task.depth")


def test_unknown_keys_of_mixed_types_still_give_a_config_error():
    with pytest.raises(ConfigError):
        build(Inner, {"rate": 1.0, True: 1, "speed": 2}, "x")


def test_an_unsupported_annotation_is_a_programming_error_not_a_config_error():
    @dataclasses.dataclass(frozen=True)
    class Odd:
        value: complex

    with pytest.raises(TypeError):
        build(Odd, {"value": 1}, "x")


def test_to_data_adds_discriminators_and_turns_tuples_into_lists():
    obj = build(Outer, GOOD, "top")
    data = to_data(obj)
    assert data["task"]["family"] == "sparse_parity" and data["model"]["name"] == "mlp"
    assert data["pair"] == [1, 2.5] and data["many"] == [1, 2, 3]
    assert build(Outer, data, "top") == obj


def test_to_json_is_canonical_and_from_json_inverts_it():
    obj = build(Outer, GOOD, "top")
    text = to_json(obj)
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert from_json(Outer, text) == obj
    assert to_json(from_json(Outer, text)) == text


def test_to_json_does_not_depend_on_key_order():
    reordered = dict(reversed(list(GOOD.items())))
    assert to_json(build(Outer, reordered, "top")) == to_json(build(Outer, GOOD, "top"))


def test_multi_index_round_trips_nested_tuples():
    task = MultiIndex(n_bits=5, monomials=((0,), (0, 1)), coefficients=(1.0, -2.0), n_train=4, n_test=4)
    assert from_json(Task, to_json(task)) == task


def test_from_json_errors_name_the_given_path():
    with pytest.raises(ConfigError, match=re.escape("spec.inner.rate")):
        from_json(Outer, to_json(build(Outer, GOOD, "top")).replace('"rate":0.5', '"rate":"x"'))


def test_require():
    require(True, "a.b", "never shown")
    with pytest.raises(ConfigError, match=r"^a\.b must be odd$"):
        require(False, "a.b", "must be odd")


def test_a_jobs_configuration_goes_by_content_hash(tmp_path, monkeypatch):
    from learnscope.config import CONFIG_DIR, config_ref, config_text, from_ref

    monkeypatch.chdir(tmp_path)
    task = SparseParity(n_bits=8, k=2, n_train=64, n_test=64)
    ref = config_ref(task)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", ref)  # what Snakemake stores and prints: 71 characters
    assert config_ref(task) == ref and len(list((tmp_path / CONFIG_DIR).iterdir())) == 1
    assert config_text(ref) == to_json(task) and from_ref(Task, ref, "task") == task
    assert config_ref(SparseParity(n_bits=8, k=3, n_train=64, n_test=64)) != ref  # a change reruns the job


def test_a_missing_or_altered_job_configuration_is_named(tmp_path, monkeypatch):
    from learnscope.config import CONFIG_DIR, config_ref, config_text

    monkeypatch.chdir(tmp_path)
    ref = config_ref(SparseParity(n_bits=8, k=2, n_train=64, n_test=64))
    path = tmp_path / CONFIG_DIR / f"{ref.removeprefix('sha256:')}.json"
    path.write_text(path.read_text().replace('"k":2', '"k":3'))
    with pytest.raises(ConfigError, match="content does not match its name"):
        config_text(ref)
    path.unlink()
    with pytest.raises(ConfigError, match="a job's configuration is missing"):
        config_text(ref)
