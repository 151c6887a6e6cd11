"""The train stage: determinism, schedules, divergence, exact resume and the files it writes.

Checks that the same spec trains to identical curves, snapshots and file bytes; that a run's
randomness comes from its own seed; that snapshots land on ``snapshot_steps`` and curves on
``eval_steps``; that a diverging run names itself and the step; that a run killed midway
and restarted from its resume file (Adam, and SGD with momentum) equals an uninterrupted
one exactly and deletes the resume file; and the checkpoints/curves files' schema, whose
snapshots reload into a fresh model with the same outputs.
"""

from __future__ import annotations

import dataclasses
import filecmp
import functools
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from learnscope import data, store
from learnscope import train as train_module
from learnscope.errors import DivergenceError
from learnscope.models.mlp import MLPConfig
from learnscope.resume import TrainState
from learnscope.run_files import checkpoints_to_xarray, curves_to_xarray, weight_var
from learnscope.runspec import RunSpec
from learnscope.train import evaluate, seed_for, train, train_group_run

KIND = "binary"
DATASET = "data/tiny/parity.nc"
ORIGINAL_RECORD = train_module._record
ORIGINAL_TRAIN_GROUP = train_module.train_group
ORIGINAL_TRAIN = train_module.train


class Killed(Exception):
    """Stands in for the job being killed."""


def _step_of(args, kwargs) -> int:
    return inspect.signature(ORIGINAL_RECORD).bind(*args, **kwargs).arguments["step"]


def _kill_after(monkeypatch, n_calls: int) -> None:
    """Make ``train._record`` raise ``Killed`` on its ``n_calls``-th call (before recording)."""
    calls = []

    def record(*args, **kwargs):
        calls.append(_step_of(args, kwargs))
        if len(calls) == n_calls:
            raise Killed(f"killed before recording step {calls[-1]}")
        return ORIGINAL_RECORD(*args, **kwargs)

    monkeypatch.setattr(train_module, "_record", record)


def _spy_on_record(monkeypatch) -> list[int]:
    """Let ``_record`` run unchanged; return the list of steps it is called for."""
    steps = []

    def record(*args, **kwargs):
        steps.append(_step_of(args, kwargs))
        return ORIGINAL_RECORD(*args, **kwargs)

    monkeypatch.setattr(train_module, "_record", record)
    return steps


def assert_same_state(a: TrainState, b: TrainState) -> None:
    assert a.curves == b.curves
    assert [s for s, _ in a.snapshots] == [s for s, _ in b.snapshots]
    for (step, wa), (_, wb) in zip(a.snapshots, b.snapshots):
        assert wa.keys() == wb.keys()
        for name in wa:
            assert torch.equal(wa[name], wb[name]), (step, name)


def _train_run_in(folder: Path, spec: RunSpec, monkeypatch) -> Path:
    """Generate the dataset and run the train stage inside ``folder`` (the working directory)."""
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(folder)
    if not Path(DATASET).exists():
        data.generate(spec.task, DATASET)
    train_group_run([spec], DATASET, [store.run_path(spec.name, "checkpoints.nc")],
                    [store.run_path(spec.name, "curves.nc")], inputs=[DATASET])
    return folder


@pytest.fixture(scope="module")
def adam_state(make_spec, tiny_tensors) -> TrainState:
    return train(make_spec(), tiny_tensors, KIND)


@pytest.fixture(scope="module")
def reference_files(make_spec, tmp_path_factory) -> Path:
    """An uninterrupted train stage of the default tiny spec; returns its working directory."""
    with pytest.MonkeyPatch.context() as mp:
        return _train_run_in(tmp_path_factory.mktemp("reference"), make_spec(), mp)


# ---- seeds and determinism ------------------------------------------------------------------
def test_seed_for_is_stable_and_separates_streams():
    assert seed_for(0, "init") == seed_for(0, "init")
    assert len({seed_for(s, k) for s in range(5) for k in ("init", "batch")}) == 10
    assert all(0 <= seed_for(s, "init") < 2**63 for s in range(20))


def test_same_spec_twice_gives_identical_curves_and_snapshots(make_spec, tiny_tensors, adam_state):
    again = train(make_spec(), tiny_tensors, KIND)
    assert_same_state(adam_state, again)


def test_different_seeds_give_different_init_and_curves(make_spec, tiny_tensors, adam_state):
    other = train(make_spec(seed=1), tiny_tensors, KIND)
    w0, w1 = adam_state.snapshots[0][1], other.snapshots[0][1]
    assert all(not torch.equal(w0[k], w1[k]) for k in w0)
    assert adam_state.curves != other.curves


def test_step_zero_snapshot_is_the_models_init(make_spec, adam_state):
    spec = make_spec()
    model = spec.model.build(8, 1, 32, torch.Generator().manual_seed(seed_for(spec.seed, "init")))
    for name, value in model.state_dict().items():
        assert torch.equal(adam_state.snapshots[0][1][name], value)


def test_snapshots_land_on_snapshot_steps_and_curves_on_eval_steps(make_spec, adam_state):
    cfg = make_spec().train
    assert [s for s, _ in adam_state.snapshots] == cfg.snapshot_steps.tolist()
    assert [row[0] for row in adam_state.curves] == cfg.eval_steps.tolist()
    assert adam_state.step == cfg.steps


def test_the_tiny_parity_is_learned(adam_state):
    first, last = adam_state.curves[0], adam_state.curves[-1]  # (step, train loss, acc, test loss, acc)
    assert last[1] < 0.1 * first[1]
    assert last[4] >= 0.95


def test_train_run_files_are_byte_identical(make_spec, reference_files, tmp_path, monkeypatch):
    spec = make_spec()
    again = _train_run_in(tmp_path / "again", spec, monkeypatch)
    for artefact in ("checkpoints.nc", "curves.nc"):
        path = store.run_path(spec.name, artefact)
        assert filecmp.cmp(reference_files / path, again / path, shallow=False), artefact


# ---- divergence -----------------------------------------------------------------------------
@pytest.mark.parametrize("eval_every", [20, 1])
def test_divergence_names_the_run_and_step(make_spec, tiny_tensors, eval_every):
    spec = make_spec(optimizer="sgd", lr=1.0e6, eval_every=eval_every)
    with pytest.raises(DivergenceError) as info:
        train(spec, tiny_tensors, KIND)
    message = str(info.value)
    assert spec.name in message
    assert re.search(r"step \d+", message)


def test_divergence_from_a_nan_loss(make_spec, tiny_tensors, monkeypatch):
    real_loss = train_module.metrics.loss
    calls = []

    def loss(kind, out, y):
        value = real_loss(kind, out, y)
        if out.shape[-2] != 32:  # an evaluation on the whole train or test set
            return value
        calls.append(1)
        return value * float("nan") if len(calls) == 30 else value  # the 30th minibatch: step 29

    monkeypatch.setattr(train_module.metrics, "loss", loss)
    spec = make_spec()
    with pytest.raises(DivergenceError, match=re.escape(spec.name) + r".* step 29\b"):
        train(spec, tiny_tensors, KIND)


# ---- resume ---------------------------------------------------------------------------------
OPTIMIZERS = {"adam": {}, "sgd-momentum": {"optimizer": "sgd", "lr": 5.0e-2, "momentum": 0.9}}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_killed_and_resumed_run_equals_an_uninterrupted_one(make_spec, tiny_tensors, tmp_path, monkeypatch,
                                                            optimizer):
    spec = make_spec(**OPTIMIZERS[optimizer])
    uninterrupted = train(spec, tiny_tensors, KIND)
    resume = tmp_path / "r.nc"

    _kill_after(monkeypatch, 100)  # killed at step 99
    with pytest.raises(Killed):
        train(spec, tiny_tensors, KIND, resume=resume, resume_interval_s=0)
    assert resume.exists()
    with xr.open_dataset(resume) as saved:
        saved_step = int(saved.attrs["step"])
    assert 0 < saved_step < 99  # the last save before the kill (saves may fall on any step)

    recorded = _spy_on_record(monkeypatch)
    resumed = train(spec, tiny_tensors, KIND, resume=resume, resume_interval_s=0)
    assert min(recorded) == saved_step + 1  # continued, did not start again
    assert_same_state(uninterrupted, resumed)


def test_a_run_killed_twice_still_resumes_exactly(make_spec, tiny_tensors, adam_state, tmp_path, monkeypatch):
    spec, resume = make_spec(), tmp_path / "r.nc"
    for n_calls in (30, 60):
        _kill_after(monkeypatch, n_calls)
        with pytest.raises(Killed):
            train(spec, tiny_tensors, KIND, resume=resume, resume_interval_s=0)
    monkeypatch.setattr(train_module, "_record", ORIGINAL_RECORD)
    assert_same_state(adam_state, train(spec, tiny_tensors, KIND, resume=resume, resume_interval_s=0))


def test_no_resume_file_is_written_before_the_interval(make_spec, tiny_tensors, tmp_path, monkeypatch):
    _kill_after(monkeypatch, 100)
    with pytest.raises(Killed):
        train(make_spec(), tiny_tensors, KIND, resume=tmp_path / "r.nc", resume_interval_s=3600)
    assert not (tmp_path / "r.nc").exists()


def test_train_run_resumes_exactly_and_deletes_the_resume_file(make_spec, reference_files, tmp_path, monkeypatch):
    spec = make_spec()
    monkeypatch.setattr(train_module, "train_group", functools.partial(ORIGINAL_TRAIN_GROUP, resume_interval_s=0))
    _kill_after(monkeypatch, 150)
    with pytest.raises(Killed):
        _train_run_in(tmp_path, spec, monkeypatch)
    resume = tmp_path / store.resume_path(train_module.group_name([spec]))
    assert resume.exists()
    outputs = [tmp_path / store.run_path(spec.name, a) for a in ("checkpoints.nc", "curves.nc")]
    assert not any(p.exists() for p in outputs)  # a killed run leaves nothing that looks complete

    monkeypatch.setattr(train_module, "_record", ORIGINAL_RECORD)
    _train_run_in(tmp_path, spec, monkeypatch)
    assert not resume.exists()
    for path in outputs:
        assert filecmp.cmp(path, reference_files / path.relative_to(tmp_path), shallow=False), path.name


def test_a_resume_file_of_other_params_is_not_silently_used(make_spec, tiny_tensors, tmp_path, monkeypatch):
    old, new = make_spec(lr=1.0e-2), make_spec(lr=3.0e-3)
    assert old.name == new.name
    resume = tmp_path / "r.nc"
    _kill_after(monkeypatch, 100)
    with pytest.raises(Killed):
        train(old, tiny_tensors, KIND, resume=resume, resume_interval_s=0)
    monkeypatch.setattr(train_module, "_record", ORIGINAL_RECORD)
    fresh = train(new, tiny_tensors, KIND)
    # The stale file is discarded (with a warning) and the new params train from step 0.
    restarted = train(new, tiny_tensors, KIND, resume=resume, resume_interval_s=0)
    assert_same_state(fresh, restarted)


# ---- files ----------------------------------------------------------------------------------
def test_weight_var_names():
    var, dims = weight_var("layers.0.weight")
    assert (var, dims(2)) == ("l0_weight", ("l0_out", "l0_in"))
    var, dims = weight_var("layers.3.bias")
    assert (var, dims(1)) == ("l3_bias", ("l3_out",))
    var, dims = weight_var("embed.weight")
    assert (var, dims(2)) == ("embed_weight", ("embed_weight_d0", "embed_weight_d1"))


def test_checkpoints_file_schema(make_spec, reference_files):
    spec = make_spec()
    ds = store.read(reference_files / store.run_path(spec.name, "checkpoints.nc"), "checkpoints")
    assert set(ds.data_vars) == {"l0_weight", "l0_bias", "l1_weight", "l1_bias"}
    assert ds.l0_weight.dims == ("step", "l0_out", "l0_in") and ds.l0_weight.shape[1:] == (32, 8)
    assert ds.l0_bias.dims == ("step", "l0_out")
    assert ds.l1_weight.dims == ("step", "l1_out", "l1_in") and ds.l1_weight.shape[1:] == (1, 32)
    assert ds.l1_bias.dims == ("step", "l1_out")
    assert ds.step.values.tolist() == spec.train.snapshot_steps.tolist()
    for name, var in ds.data_vars.items():
        assert var.dtype == np.float32
        assert weight_var(var.attrs["torch_name"])[0] == name
        assert var.encoding["chunksizes"] == (1,) + var.shape[1:]
    assert ds.attrs["run"] == spec.name
    assert RunSpec.from_json(ds.attrs["params_json"]) == spec


def test_checkpoints_of_a_deeper_model(make_spec, tiny_tensors):
    spec = make_spec(steps=5, model=MLPConfig(depth=2, bias=False))
    ds = checkpoints_to_xarray(spec, train(spec, tiny_tensors, KIND))
    assert set(ds.data_vars) == {"l0_weight", "l1_weight", "l2_weight"}
    assert ds.l1_weight.dims == ("step", "l1_out", "l1_in") and ds.l1_weight.shape == (6, 32, 32)


def _model_from_file(spec: RunSpec, ds: xr.Dataset, step: int) -> torch.nn.Module:
    model = spec.model.build(spec.task.n_inputs, spec.task.n_outputs, spec.width, torch.Generator().manual_seed(99))
    model.load_state_dict({var.attrs["torch_name"]: torch.from_numpy(var.sel(step=step).values.copy())
                           for var in ds.data_vars.values()})
    return model


def test_snapshots_reload_into_a_fresh_model_with_the_same_outputs(make_spec, reference_files, adam_state,
                                                                   tiny_tensors):
    spec = make_spec()
    ds = store.read(reference_files / store.run_path(spec.name, "checkpoints.nc"), "checkpoints")
    x = tiny_tensors["x_test"]
    for step, weights in adam_state.snapshots[::4] + adam_state.snapshots[-1:]:
        reference = spec.model.build(8, 1, 32, torch.Generator())
        reference.load_state_dict(weights)
        with torch.no_grad():
            assert torch.equal(_model_from_file(spec, ds, step)(x), reference(x)), step
    curves = store.read(reference_files / store.run_path(spec.name, "curves.nc"), "curves")
    loss, _ = evaluate(_model_from_file(spec, ds, spec.train.steps), KIND, tiny_tensors["x_train"],
                       tiny_tensors["y_train"])
    # The file's curves come from the batched kernels (W @ x^T), the reference from nn.Linear
    # (x @ W^T): the same sums in another order, so equal to float32 rounding, not bit for bit.
    assert float(curves.train_loss.isel(step=-1)) == pytest.approx(loss, rel=1e-4)


def test_curves_file_schema(make_spec, reference_files):
    spec = make_spec()
    ds = store.read(reference_files / store.run_path(spec.name, "curves.nc"), "curves")
    assert ds.step.values.tolist() == spec.train.eval_steps.tolist()
    for name in store.CURVES:
        assert ds[name].dims == ("step",) and ds[name].dtype == np.float64
        assert ds[name].attrs["long_name"].startswith(name.split("_")[0])
    assert "mean squared error" in ds.train_loss.attrs["long_name"]
    assert "sign agreement" in ds.test_acc.attrs["long_name"]


def test_curves_file_matches_the_final_model(make_spec, reference_files, tiny_tensors):
    spec = make_spec()
    ds = store.read(reference_files / store.run_path(spec.name, "checkpoints.nc"), "checkpoints")
    model = _model_from_file(spec, ds, spec.train.steps)
    train_loss, train_acc = evaluate(model, KIND, tiny_tensors["x_train"], tiny_tensors["y_train"])
    test_loss, test_acc = evaluate(model, KIND, tiny_tensors["x_test"], tiny_tensors["y_test"])
    curves = store.read(reference_files / store.run_path(spec.name, "curves.nc"), "curves").isel(step=-1)
    assert {name: float(curves[name]) for name in store.CURVES} == pytest.approx(
        {"train_loss": train_loss, "test_loss": test_loss, "train_acc": train_acc, "test_acc": test_acc},
        rel=1e-4)  # batched kernels vs nn.Linear: float32 rounding (see above)


def test_curves_known_answer():
    spec_like = dataclasses.make_dataclass("S", ["name"])("r")
    state = TrainState(curves=[(0, 0.5, 0.25, 0.75, 0.125), (10, 0.1, 1.0, 0.2, 0.875)])
    ds = curves_to_xarray(spec_like, state, KIND)
    assert ds.step.values.tolist() == [0, 10]
    assert ds.train_loss.values.tolist() == [0.5, 0.1]
    assert ds.train_acc.values.tolist() == [0.25, 1.0]
    assert ds.test_loss.values.tolist() == [0.75, 0.2]
    assert ds.test_acc.values.tolist() == [0.125, 0.875]


def test_load_tensors_dtypes(tiny_tensors):
    assert tiny_tensors["x_train"].dtype == torch.float32 and tiny_tensors["x_train"].shape == (256, 8)
    assert tiny_tensors["y_train"].dtype == torch.float32 and tiny_tensors["y_test"].shape == (256,)
    from learnscope.tasks.digits import Digits

    task = Digits(n_train=20, n_test=10)
    multi = data.load_tensors(data.dataset_to_xarray(task, task.make_dataset()), torch.device("cpu"))
    assert multi["y_train"].dtype == torch.int64 and multi["x_test"].shape == (10, 64)


def test_training_uses_the_configured_threads_and_deterministic_kernels(make_spec, tiny_tensors):
    spec = make_spec(steps=2)
    spec = dataclasses.replace(spec, compute=dataclasses.replace(spec.compute, threads=2))
    train(spec, tiny_tensors, KIND)
    assert torch.get_num_threads() == 2
    assert torch.are_deterministic_algorithms_enabled()
    train(make_spec(steps=2), tiny_tensors, KIND)
    assert torch.get_num_threads() == 1
