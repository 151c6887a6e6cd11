"""Divergence (``learnscope.divergence``): which runs count as diverged, ``fail`` and ``stop``,
resume, and what the features and distill stages make of a stopped run.

Known answers: Adam at lr 1.0e3 on the tiny parity passes 1.0e4 x (its step-0 loss + 1) in
a few steps without ever reaching inf (the ratio rule alone catches it); a NaN in the data
is caught at step 0; a NaN gradient behind a finite loss is caught at its step; a stopped
member diverging right after a snapshot goes back to the snapshot before (here its init);
the healthy members of a group with a stopped one, and their features and trees, equal
their solo runs bit for bit; a numerical failure of the features or distill stage names
the run and the step of the snapshot that breaks it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from learnscope import data, store
from learnscope import train as train_module
from learnscope.distill.config import DistillConfig
from learnscope.distill.stage import distill_group_run, distill_run_dataset
from learnscope.divergence import finite_weights
from learnscope.errors import DivergenceError, MeasureError
from learnscope.features.config import FeaturesConfig
from learnscope.features.extract import features_group_run, measure_group
from learnscope.run_files import checkpoints_to_xarray
from learnscope.tasks.boolean import MultiIndex
from learnscope.train import evaluate, seed_for, train, train_group, train_group_run

KIND = "binary"
CPU = torch.device("cpu")
STAIRCASE = MultiIndex(n_bits=8, monomials=((0,), (0, 1)), n_train=256, n_test=256)


def _with(spec, **train):
    return dataclasses.replace(spec, train=dataclasses.replace(spec.train, **train))


def _init_loss(spec, tensors, kind: str) -> float:
    """The run's training loss at step 0, from a freshly built network (not from the trainer)."""
    model = spec.model.build(spec.task.n_inputs, spec.task.n_outputs, spec.width,
                             torch.Generator().manual_seed(seed_for(spec.seed, "init")))
    return evaluate(model, kind, tensors["x_train"], tensors["y_train"])[0]


def _reported(message: str) -> tuple[float, int]:
    match = re.search(r"loss is (\S+) at step (\d+)", message)
    return float(match.group(1).rstrip(",")), int(match.group(2))


def _same_state(a, b) -> None:
    assert np.array_equal(np.array(a.curves), np.array(b.curves), equal_nan=True)
    for (sa, wa), (sb, wb) in zip(a.snapshots, b.snapshots, strict=True):
        assert sa == sb and all(torch.equal(wa[k], wb[k]) for k in wa), sa


@pytest.fixture(scope="module")
def staircase() -> dict[str, torch.Tensor]:
    """A regression task (x0 + x0 x1 on 8 bits) for SGD whose loss explodes geometrically."""
    return data.load_tensors(data.dataset_to_xarray(STAIRCASE, STAIRCASE.make_dataset()), CPU)


def staircase_spec(make_spec, lr: float, tag: str = "", **train):
    return dataclasses.replace(make_spec(optimizer="sgd", lr=lr, **train), task=STAIRCASE,
                               task_name="staircase", tag=tag)


# ---- the rule under fail -------------------------------------------------------------------
def test_adam_at_lr_1e3_fails_naming_the_run_the_step_and_the_rule(make_spec, tiny_tensors):
    spec = make_spec(lr=1.0e3)
    with pytest.raises(DivergenceError) as info:
        train(spec, tiny_tensors, KIND)
    message = str(info.value)
    value, step = _reported(message)
    assert spec.name in message and "train.max_loss_ratio" in message and 1 <= step <= 5
    assert math.isfinite(value) and value > 1.0e4 * (_init_loss(spec, tiny_tensors, KIND) + 1)


def test_a_nan_in_the_data_is_caught_at_step_0(make_spec, tiny_tensors):
    tensors = dict(tiny_tensors, x_train=tiny_tensors["x_train"].clone())
    tensors["x_train"][7, 3] = float("nan")
    spec = make_spec()
    with pytest.raises(DivergenceError, match=re.escape(spec.name) + r": evaluation loss is nan at step [01]\b"):
        train(spec, tensors, KIND)


def test_an_exploding_but_finite_loss_is_caught_by_the_ratio_rule(make_spec, staircase):
    spec = staircase_spec(make_spec, lr=1.0)
    with pytest.raises(DivergenceError, match="above train.max_loss_ratio") as info:
        train(spec, staircase, "regression")
    value, step = _reported(str(info.value))
    assert math.isfinite(value) and value > 1.0e4 * (_init_loss(spec, staircase, "regression") + 1)
    assert spec.name in str(info.value) and step < 20  # before the first evaluation after step 0


def test_a_nan_gradient_behind_a_finite_loss_is_caught_at_its_step(make_spec, tiny_tensors, monkeypatch):
    real_loss, calls = train_module.metrics.loss, []

    def loss(kind, out, y):  # + 0 x sqrt(0) at the 8th minibatch: the loss stays, its gradient is NaN
        value = real_loss(kind, out, y)
        if out.shape[-2] == 32:
            calls.append(1)
            if len(calls) == 8:
                value = value + 0.0 * (out - out.detach()).abs().sqrt().sum()
        return value

    monkeypatch.setattr(train_module.metrics, "loss", loss)
    spec = make_spec()
    with pytest.raises(DivergenceError, match=re.escape(spec.name) + r": gradients are not finite at step 7\b"):
        train(spec, tiny_tensors, KIND)


def test_finite_weights_flags_the_member_holding_an_inf(make_spec):
    specs = [make_spec(seed=s) for s in range(3)]
    model = specs[0].model.build_group([s.model for s in specs], 8, 1, 32, [torch.Generator() for _ in specs])
    with torch.no_grad():
        next(model.parameters())[1, 0] = float("inf")
    assert finite_weights(model).tolist() == [True, False, True]


def test_max_loss_ratio_must_exceed_1(make_spec):
    with pytest.raises(ValueError, match=r"train\.max_loss_ratio"):
        make_spec(max_loss_ratio=1.0).train.check("train")


# ---- stop ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stopped_group(make_spec, tiny_tensors):
    """Seed 0 healthy, seed 0 at Adam lr 1.0e3 (diverges at step 1, a snapshot step), seed 1 healthy."""
    specs = [dataclasses.replace(make_spec(seed=0, on_divergence="stop"), tag="good"),
             dataclasses.replace(make_spec(seed=0, lr=1.0e3, on_divergence="stop"), tag="bad"),
             dataclasses.replace(make_spec(seed=1, on_divergence="stop"), tag="good")]
    return specs, train_group(specs, tiny_tensors, KIND)


def test_stop_leaves_the_healthy_members_bit_identical_to_their_solo_runs(stopped_group, tiny_tensors):
    specs, states = stopped_group
    for e in (0, 2):
        assert states[e].diverged_at is None
        _same_state(states[e], train(specs[e], tiny_tensors, KIND))


def test_stop_rewinds_the_member_to_its_last_snapshot_before_the_divergence(stopped_group, tiny_tensors):
    specs, states = stopped_group
    bad, at = states[1], states[1].diverged_at
    with pytest.raises(DivergenceError, match=rf"at step {at}\b"):  # the step fail names
        train(_with(specs[1], on_divergence="fail"), tiny_tensors, KIND)
    assert at in [s for s, _ in bad.snapshots]  # the exploded weights at that snapshot must not be kept
    init = specs[1].model.build(8, 1, 32, torch.Generator().manual_seed(seed_for(specs[1].seed, "init")))
    for step, weights in bad.snapshots:  # at = 1: the only snapshot before is step 0, the init
        expected = weights if step < at else init.state_dict()
        assert all(torch.equal(weights[k], expected[k]) for k in weights), step
    curves = np.array(bad.curves)
    late = curves[:, 0] >= at
    assert late.any() and np.isnan(curves[late, 1:]).all() and np.isfinite(curves[~late, 1:]).all()


def test_a_resumed_diverging_run_diverges_at_the_same_step(make_spec, staircase, tmp_path, monkeypatch):
    """Killed between its last snapshot and its divergence: the threshold must come from the
    resume file, whose step is past 0."""
    specs = [staircase_spec(make_spec, 0.2, "good", on_divergence="stop"),
             staircase_spec(make_spec, 0.45, "bad", on_divergence="stop")]
    reference = train_group(specs, staircase, "regression")
    at = reference[1].diverged_at
    assert at > 2 and reference[0].diverged_at is None
    original = train_module._record

    def record(*args, **kwargs):
        if args[5] == at - 1:  # the step argument
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(train_module, "_record", record)
    resume = tmp_path / "group.nc"
    with pytest.raises(KeyboardInterrupt):
        train_group(specs, staircase, "regression", resume=resume, resume_interval_s=0)
    with xr.open_dataset(resume) as state:
        assert 0 < int(state.attrs["step"]) < at
    monkeypatch.setattr(train_module, "_record", original)
    resumed = train_group(specs, staircase, "regression", resume=resume, resume_interval_s=0)
    assert resumed[1].diverged_at == at
    for a, b in zip(reference, resumed):
        _same_state(a, b)


# ---- downstream stages -------------------------------------------------------------------------
def _stages_in(folder, specs, monkeypatch) -> dict[str, list[str]]:
    """train, features and distill stages of ``specs`` (one group) inside ``folder``."""
    folder.mkdir()
    monkeypatch.chdir(folder)
    data.generate(specs[0].task, "d.nc")
    paths = {a: [store.run_path(s.name, a) for s in specs] for a in ("checkpoints.nc", "curves.nc", "features.nc")}
    train_group_run(specs, "d.nc", paths["checkpoints.nc"], paths["curves.nc"], ["d.nc"])
    features_group_run(specs, FeaturesConfig(agop_samples=128), "d.nc", paths["checkpoints.nc"],
                       paths["features.nc"], ["d.nc", *paths["checkpoints.nc"]])
    distill_group_run(specs, DistillConfig(max_depth=2, n_fit=512, n_eval=512), "d.nc", paths["checkpoints.nc"],
                      paths["features.nc"], [str(Path(store.run_path(s.name, "tree.nc")).parent) for s in specs],
                      ["d.nc", *paths["checkpoints.nc"], *paths["features.nc"]])
    return paths


def _open(path) -> xr.Dataset:
    with xr.open_dataset(path) as ds:
        return ds.load()


def test_features_and_distill_of_a_group_with_a_stopped_run(stopped_group, tmp_path, monkeypatch):
    specs, states = stopped_group
    at = states[1].diverged_at
    _stages_in(tmp_path / "group", specs, monkeypatch)
    _stages_in(tmp_path / "solo", specs[:1], monkeypatch)
    bad = _open(tmp_path / "group" / store.run_path(specs[1].name, "features.nc"))
    late = bad["step"].values >= at
    for name, var in bad.data_vars.items():
        if "step" in var.dims:
            assert np.isnan(var.sel(step=bad["step"][late]).values).all(), name
    assert np.isfinite(bad["train_loss"].values[~late]).all() and np.isfinite(bad["agop"].values[~late]).all()
    for run in ("features.nc", "tree.nc"):
        group, solo = (_open(tmp_path / where / store.run_path(specs[0].name, run)) for where in ("group", "solo"))
        for name in group.data_vars:
            assert np.array_equal(group[name].values, solo[name].values, equal_nan=True), (run, name)
    tree = _open(tmp_path / "group" / store.run_path(specs[1].name, "tree.nc"))
    assert tree.attrs["diverged_at_step"] == at and tree.attrs["distilled_step"] == 0  # its init: the last kept
    assert np.isfinite(tree["fidelity"].values).all()


@pytest.mark.parametrize(("planted", "what"), [(float("nan"), "singular values"), (1.0e20, "measure agop")])
def test_a_numerical_failure_in_features_names_the_run_and_step(make_spec, tiny_tensors, planted, what):
    specs = [make_spec(seed=s, steps=60, n_snapshots=5) for s in (0, 1)]
    dataset = data.dataset_to_xarray(specs[0].task, specs[0].task.make_dataset())
    checkpoints = [checkpoints_to_xarray(s, st) for s, st in zip(specs, train_group(specs, tiny_tensors, KIND))]
    step = int(checkpoints[1]["step"][3])
    checkpoints[1]["l0_weight"][3] = planted
    with pytest.raises(MeasureError, match=rf"run {re.escape(specs[1].name)} at step {step}: {what}"):
        measure_group(specs, FeaturesConfig(agop_samples=64), dataset, checkpoints, CPU)


def test_a_numerical_failure_in_distill_names_the_run_and_step(make_spec, tiny_tensors):
    spec = make_spec(steps=60, n_snapshots=5)
    dataset = data.dataset_to_xarray(spec.task, spec.task.make_dataset())
    checkpoints = checkpoints_to_xarray(spec, train(spec, tiny_tensors, KIND))
    steps = checkpoints["step"].values
    features = xr.Dataset({"agop": (("step", "in_a", "in_b"), np.full((len(steps), 8, 8), np.nan))},
                          coords={"step": steps})
    with pytest.raises(MeasureError, match=rf"run {re.escape(spec.name)} at step 60: distillation failed"):
        distill_run_dataset(spec, DistillConfig(max_depth=2, n_fit=256, n_eval=256), dataset, checkpoints, features)
