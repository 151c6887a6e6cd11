"""params.yaml -> ``Params``: the default file, every kind of bad input, runs and schedules.

Checks that the shipped params.yaml loads; that each user mistake (read through
``yaml.safe_load`` exactly as the pipeline reads it) gives one one-line ``ConfigError``
naming the file and dotted key; that a ``RunSpec`` survives JSON exactly; the log-spaced
snapshot schedule; and the ``python -m learnscope check`` command line.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from learnscope.cli import main
from learnscope.errors import ConfigError
from learnscope.params import Params, load_params
from learnscope.runspec import RunSpec, TrainConfig, run_name

DEFAULT = Path(__file__).resolve().parents[1] / "params.yaml"


@pytest.fixture(scope="module")
def default_data() -> dict:
    with open(DEFAULT) as f:
        return yaml.safe_load(f)


def _with(default_data: dict, edit) -> dict:
    data = copy.deepcopy(default_data)
    edit(data)
    return data


def _error(data, key: str) -> str:
    """Load ``data``; assert one one-line ConfigError naming ``key``; return its message."""
    with pytest.raises(ConfigError) as info:
        load_params(data)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"params.yaml: {key} "), message
    return message


def test_default_params_load():
    params = load_params(DEFAULT)
    assert isinstance(params, Params)
    assert params.parity.train.lr == 1.0e-2 and isinstance(params.parity.train.lr, float)
    assert set(params.parity.tasks) == {"sparse_parity", "staircase"}


def test_default_parity_runs_are_task_x_width_x_seed(default_data):
    params = load_params(default_data)
    cfg = params.parity
    parity = {name: spec for name, spec in params.runs.items() if spec.study == "parity"}
    assert len(parity) == len(cfg.tasks) * len(cfg.widths) * len(cfg.seeds)
    assert list(params.runs)[0] == "parity-sparse_parity-w64-s0"
    for name, spec in parity.items():
        assert spec.name == name == run_name("parity", spec.task_name, spec.width, spec.seed)
        assert spec.task is cfg.tasks[spec.task_name]
        assert spec.train is cfg.train and spec.compute is params.compute


def test_unknown_key(default_data):
    message = _error(_with(default_data, lambda d: d["parity"]["train"].update(lrr=0.1)), "parity.train.lrr")
    assert "allowed: batch_size, betas, eval_every, eval_log_points, full_batch, lr, max_loss_ratio, momentum" in message


def test_unknown_section(default_data):
    message = _error(_with(default_data, lambda d: d.update(leaps={})), "leaps")
    assert "allowed: algebra, attention, compute, distill, features, gdln, leap, nfa, parity, similarity, trees" in message


def test_a_study_section_may_be_left_out_but_not_all(default_data):
    params = load_params(_with(default_data, lambda d: [d.pop(k) for k in ("parity", "algebra", "gdln", "attention",
                                                                            "similarity", "distill", "nfa")]))
    assert set(params.studies) == {"leap"} and all(s.study == "leap" for s in params.runs.values())
    # similarity reads parity's and algebra's runs: left in without them, it names the key
    message = _error(_with(default_data, lambda d: [d.pop("parity")]), "similarity.sources.parity")
    assert "names no study section" in message
    message = _error({"compute": {"threads": 1}}, "sections")
    assert "parity, leap, algebra, gdln, attention" in message


def test_leap_runs_group_by_target_and_d_with_a_c_grid(default_data):
    params = load_params(default_data)
    cfg = params.leap
    leap_runs = {n: s for n, s in params.runs.items() if s.study == "leap"}
    assert len(leap_runs) == sum(len(cfg.grid(t)) for t in cfg.targets) * len(cfg.dims) * len(cfg.seeds)
    d, c = cfg.dims[-1], cfg.grid("leap3")[-1]
    spec = leap_runs[run_name("leap", f"leap3_d{d}", cfg.width, cfg.seeds[0], f"c{c:g}")]
    assert spec.train.online and spec.train.lr == c * cfg.train.batch_size / d
    assert spec.train.steps * spec.train.batch_size >= cfg.targets["leap3"].samples(d)
    group = params.groups[spec.group]
    assert len(group) == len(cfg.grid("leap3")) * len(cfg.seeds)
    assert {params.runs[n].task_name for n in group} == {f"leap3_d{d}"}


@pytest.mark.parametrize("edit, key", [
    (lambda d: d["leap"].update(c=[0.5, 0.5]), "leap.c"),
    (lambda d: d["leap"].update(threshold=1.5), "leap.threshold"),
    (lambda d: d["leap"]["targets"]["leap3"].update(monomials=[[0, 1, 40]]), "leap.targets.leap3.monomials"),
    (lambda d: d["leap"]["targets"]["leap1"].update(c=[-1.0]), "leap.targets.leap1.c[0]"),
    (lambda d: d["leap"]["targets"]["leap2"].update(budget=0.0), "leap.targets.leap2.budget"),
    (lambda d: d["leap"]["train"].update(lr=0.1), "leap.train.lr"),
])
def test_bad_leap_params_name_the_key(default_data, edit, key):
    _error(_with(default_data, edit), key)


def test_missing_required_key(default_data):
    assert "is required" in _error(_with(default_data, lambda d: d["parity"]["train"].pop("steps")),
                                   "parity.train.steps")


def test_lr_written_1e_minus_3_is_read_as_a_string_and_rejected(default_data, tmp_path):
    text = DEFAULT.read_text().replace("lr: 1.0e-2", "lr: 1e-3")
    assert "lr: 1e-3" in text
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_params(path)
    message = str(info.value)
    assert message.startswith(f"{path}: parity.train.lr = '1e-3' ")
    assert "1.0e-3" in message


def test_the_suggested_spelling_loads(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(DEFAULT.read_text().replace("lr: 1.0e-2", "lr: 1.0e-3"))
    assert load_params(path).parity.train.lr == 1.0e-3


def test_bool_where_an_int_belongs(default_data):
    _error(_with(default_data, lambda d: d["compute"].update(threads=True)), "compute.threads")


def test_k_larger_than_n_bits(default_data):
    message = _error(_with(default_data, lambda d: d["parity"]["tasks"]["sparse_parity"].update(k=21)),
                     "parity.tasks.sparse_parity.k")
    assert "n_bits = 20" in message


@pytest.mark.parametrize("width", [0, -64])
def test_width_must_be_positive(default_data, width):
    _error(_with(default_data, lambda d: d["parity"].update(widths=[64, width])), "parity.widths[1]")


def test_max_depth_at_least_one(default_data):
    _error(_with(default_data, lambda d: d["trees"].update(max_depth=0)), "trees.max_depth")


def test_unknown_task_family_lists_the_known_ones(default_data):
    message = _error(_with(default_data, lambda d: d["parity"]["tasks"]["staircase"].update(family="stairs")),
                     "parity.tasks.staircase.family")
    assert "'stairs'" in message and "digits, gated_product, group_composition, modular_addition, multi_index, random_tree, routing, sparse_parity" in message


def test_unknown_model_name_lists_the_known_ones(default_data):
    message = _error(_with(default_data, lambda d: d["parity"]["model"].update(name="cnn")),
                     "parity.model.name")
    assert "known: embed_mlp, gdln, mlp, mlp_xxt, seq_transformer, transformer" in message


def test_momentum_with_adam(default_data):
    _error(_with(default_data, lambda d: d["parity"]["train"].update(momentum=0.9)), "parity.train.momentum")


def test_momentum_with_sgd_is_fine(default_data):
    params = load_params(_with(default_data, lambda d: d["parity"]["train"].update(optimizer="sgd", momentum=0.9)))
    assert params.parity.train.momentum == 0.9


@pytest.mark.parametrize("edit, key", [
    (lambda d: d["parity"]["model"].update(depth=0), "parity.model.depth"),
    (lambda d: d["parity"]["model"].update(init_scale=0.0), "parity.model.init_scale"),
    (lambda d: d["parity"]["model"].update(activation="swish"), "parity.model.activation"),
    (lambda d: d["compute"].update(device="tpu"), "compute.device"),
    (lambda d: d["parity"]["train"].update(n_snapshots=1), "parity.train.n_snapshots"),
    (lambda d: d["parity"]["train"].update(lr=0.0), "parity.train.lr"),
    (lambda d: d["parity"]["train"].update(optimizer="rmsprop"), "parity.train.optimizer"),
    (lambda d: d["parity"].update(seeds=[0, 0]), "parity.seeds"),
    (lambda d: d["parity"].update(seeds=3), "parity.seeds"),
    (lambda d: d["parity"]["tasks"]["staircase"].update(monomials=[[0], [0, 20]]),
     "parity.tasks.staircase.monomials[1]"),
    (lambda d: d["features"].update(agop_samples=0), "features.agop_samples"),
    (lambda d: d["parity"]["model"].update(depth=2, parametrization="mean_field"), "parity.model.parametrization"),
    (lambda d: d["parity"]["train"].update(online="yes"), "parity.train.online"),
])
def test_other_impossible_values(default_data, edit, key):
    _error(_with(default_data, edit), key)


def test_unreadable_or_non_mapping_files_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path / "absent.yaml"))):
        load_params(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("parity: [unclosed\n")
    with pytest.raises(ConfigError, match=re.escape(str(bad))):
        load_params(bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match=re.escape(f"{listing}: must be a mapping")):
        load_params(listing)


def test_run_spec_json_round_trip_is_exact():
    for spec in load_params(DEFAULT).runs.values():
        text = spec.to_json()
        again = RunSpec.from_json(text)
        assert again == spec
        assert again.to_json() == text
        assert again.name == spec.name


def test_run_spec_json_names_the_task_family_and_model():
    spec = next(iter(load_params(DEFAULT).runs.values()))
    assert '"family":"sparse_parity"' in spec.to_json() and '"name":"mlp"' in spec.to_json()


def test_run_spec_from_bad_json_names_the_key():
    spec = next(iter(load_params(DEFAULT).runs.values()))
    with pytest.raises(ConfigError, match=r"run spec\.width"):
        RunSpec.from_json(spec.to_json().replace('"width":64', '"width":"64"'))


# ---- schedules ----------------------------------------------------------------------------
@pytest.mark.parametrize("steps, n", [(3000, 40), (200, 12), (10, 40), (1, 2), (7, 3), (100000, 60)])
def test_snapshot_steps_start_at_0_end_at_steps_and_increase(steps, n):
    s = TrainConfig(lr=0.1, steps=steps, n_snapshots=n).snapshot_steps
    assert s[0] == 0 and s[-1] == steps
    assert np.all(np.diff(s) > 0)
    assert len(s) <= n
    assert s.dtype.kind == "i"


def test_snapshot_steps_of_a_short_run_are_every_step():
    assert TrainConfig(lr=0.1, steps=10, n_snapshots=40).snapshot_steps.tolist() == list(range(11))


def test_snapshot_steps_are_log_spaced():
    s = TrainConfig(lr=0.1, steps=100000, n_snapshots=40).snapshot_steps.astype(float)
    expected_ratio = 100000 ** (1 / 38)  # geomspace(1, steps, n_snapshots - 1)
    ratios = s[-15:][1:] / s[-15:][:-1]
    np.testing.assert_allclose(ratios, expected_ratio, rtol=0.01)


def test_eval_steps_include_the_last_step():
    assert TrainConfig(lr=0.1, steps=105, eval_every=50).eval_steps.tolist() == [0, 50, 100, 105]
    assert TrainConfig(lr=0.1, steps=100, eval_every=50).eval_steps.tolist() == [0, 50, 100]


def test_two_snapshots_are_the_first_and_last_step():
    assert TrainConfig(lr=0.1, steps=105, n_snapshots=2).snapshot_steps.tolist() == [0, 105]


# ---- command line ---------------------------------------------------------------------------
def test_check_cli_rejects_a_bad_file_with_exit_code_2(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(DEFAULT.read_text().replace("k: 3", "k: 30"))
    result = subprocess.run([sys.executable, "-m", "learnscope", "check", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "parity.tasks.sparse_parity.k" in result.stderr


def test_check_cli_accepts_the_default(capsys):
    assert main(["check", str(DEFAULT)]) == 0
    assert f"ok, {len(load_params(DEFAULT).runs)} runs in 8 studies" in capsys.readouterr().out


def test_runs_cli_lists_every_run(capsys):
    assert main(["runs", str(DEFAULT)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(load_params(DEFAULT).runs)
    assert lines[0].split("\t")[0] == "parity-sparse_parity-w64-s0"
    gdln = [line for line in lines if line.startswith("gdln-routing-w64-init2.5-s")]
    assert gdln and all("task=routing(routing)" in line for line in gdln)
    assert any(line.startswith("distill-r3_tree") and "(random_tree)" in line for line in lines)
    assert lines[-1].startswith("nfa-rfm_demo-w256-s") and "(gated_product)" in lines[-1]
