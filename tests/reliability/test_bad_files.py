"""Damaged, foreign and hostile files are refused with one StoreError naming them, never used.

Seeded fault campaigns on real files (a trained tiny group's checkpoints.nc, the real
features stage's features.nc and a killed run's resume file): every single-byte flip and
every truncation either fails with a StoreError naming the file (for a resume file: a
warning naming it, the file deleted, a fresh start) or reads back exactly the original
(a flip in bytes nothing reads): zero silent changes, zero other exceptions. Then the
files a job must not use: a schema violation, another file format, another run's or other
params' file (also through the real features stage), a pickle whose unpickling would
write a marker file, an empty file and a folder in place of the file. A corrupted resume
file makes training restart from step 0 and end exactly as an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from learnscope import data, store
from learnscope import train as train_module
from learnscope.checksum import CHECKSUM_ATTR, content_sha256
from learnscope.config import to_json
from learnscope.errors import StoreError
from learnscope.features.config import FeaturesConfig
from learnscope.features.extract import features_group_run
from learnscope.resume import GroupState, TrainState, load_state
from learnscope.run_files import checkpoints_to_xarray
from learnscope.train import make_optimizer, seed_for, train

KIND = "binary"
SAVED_STEP = 38  # resume state saved at every step (interval 0); the 40th record (step 39) is killed
N_FLIPS, N_TRUNCATIONS = 200, 20
ORIGINAL_RECORD = train_module._record


class Killed(Exception):
    """Stands in for the job being killed."""


class Payload:
    """Unpickling this creates ``marker``: proof that a reader executed a pickle."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


@dataclasses.dataclass
class Files:
    folder: Path
    specs: list
    tensors: dict
    dataset: Path
    checkpoints: list[Path]
    features: list[Path]
    resume: Path  # seed 0 killed at step 39; its state saved at every step, last at step SAVED_STEP = 38


def _kill_after(n_calls: int):
    calls = []

    def record(*args, **kwargs):
        calls.append(1)
        if len(calls) == n_calls:
            raise Killed
        return ORIGINAL_RECORD(*args, **kwargs)
    return record


@pytest.fixture(scope="module")
def files(make_spec, tmp_path_factory) -> Files:
    folder = tmp_path_factory.mktemp("files")
    specs = [make_spec(seed=s, steps=60, n_snapshots=5) for s in (0, 1)]
    task = specs[0].task
    dataset = folder / "data.nc"
    store.write(data.dataset_to_xarray(task, task.make_dataset()), dataset, "dataset", to_json(task))
    tensors = data.load_tensors(store.read(dataset, "dataset"), torch.device("cpu"))
    checkpoints = [folder / f"checkpoints{s.seed}.nc" for s in specs]
    features = [folder / f"features{s.seed}.nc" for s in specs]
    for spec, state, path in zip(specs, train_module.train_group(specs, tensors, KIND), checkpoints):
        store.write(checkpoints_to_xarray(spec, state), path, "checkpoints", spec.to_json())
    features_group_run(specs, FeaturesConfig(agop_samples=64), str(dataset), list(map(str, checkpoints)),
                       list(map(str, features)), [], ("agop",))
    resume = folder / "resume.nc"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(train_module, "_record", _kill_after(40))
        with pytest.raises(Killed):
            train(specs[0], tensors, KIND, resume=resume, resume_interval_s=0)
    assert int(xr.open_dataset(resume).attrs["step"]) == SAVED_STEP
    return Files(folder, specs, tensors, dataset, checkpoints, features, resume)


@pytest.fixture(scope="module")
def uninterrupted(files) -> TrainState:
    return train(files.specs[0], files.tensors, KIND)


# ---- fault campaigns: store.read -------------------------------------------------------------
def _flips(raw: bytes, n: int, seed: int):
    """``n`` copies of ``raw``, each with one bit of one random byte flipped (fixed seed)."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        bad = bytearray(raw)
        bad[int(rng.integers(len(raw)))] ^= 1 << int(rng.integers(8))
        yield bytes(bad)


def _truncations(raw: bytes, n: int, seed: int):
    """``n`` random proper prefixes of ``raw``, plus the empty file and all but the last byte."""
    lengths = [0, len(raw) - 1, *np.random.default_rng(seed).integers(1, len(raw) - 1, n - 2)]
    return [raw[:int(k)] for k in lengths]


def _read_campaign(path: Path, kind: str, variants, target: Path) -> dict[str, int]:
    original = store.read(path, kind)
    counts = {"refused": 0, "of which by checksum": 0, "read the same": 0, "SILENTLY CHANGED": 0,
              "OTHER EXCEPTION": 0}
    for raw in variants:
        target.write_bytes(raw)
        try:
            back = store.read(target, kind)
        except StoreError as e:
            counts["refused" if str(e).startswith(f"{target}: ") else "OTHER EXCEPTION"] += 1
            counts["of which by checksum"] += "checksum mismatch" in str(e)
            continue
        except Exception:  # noqa: BLE001 - counted, and the test fails
            counts["OTHER EXCEPTION"] += 1
            continue
        counts["read the same" if back.identical(original) else "SILENTLY CHANGED"] += 1
    return counts


@pytest.mark.parametrize("kind", ["checkpoints", "features"])
@pytest.mark.parametrize("fault", ["flips", "truncations"])
def test_every_damaged_file_is_refused_or_read_unchanged(files, kind, fault, tmp_path):
    path = (files.checkpoints if kind == "checkpoints" else files.features)[0]
    raw = path.read_bytes()
    variants = _flips(raw, N_FLIPS, 0) if fault == "flips" else _truncations(raw, N_TRUNCATIONS, 1)
    counts = _read_campaign(path, kind, variants, tmp_path / f"damaged-{kind}.nc")
    print(f"\n{kind}.nc ({len(raw)} bytes), {fault}: {counts}")
    assert counts["SILENTLY CHANGED"] == counts["OTHER EXCEPTION"] == 0, counts
    if fault == "truncations":
        assert counts["refused"] == N_TRUNCATIONS, counts


# ---- fault campaign: resume files --------------------------------------------------------------
def _fresh(spec):
    """Model, optimizer and minibatch generators as ``train_group`` builds them for a group of one."""
    g_init = [torch.Generator().manual_seed(seed_for(spec.seed, "init"))]
    model = spec.model.build_group([spec.model], spec.task.n_inputs, spec.task.n_outputs, spec.width, g_init)
    optimizer = make_optimizer(spec.train, model.parameters(),
                               torch.tensor([spec.train.lr]) * spec.model.lr_scale(spec.width))
    return model, optimizer, [torch.Generator().manual_seed(seed_for(spec.seed, "batch"))]


def _spec_json(specs) -> str:
    """The ``spec_json`` that ``train_group`` gives ``load_state``."""
    return json.dumps([s.to_json() for s in specs])


def _outcome(state: GroupState, model, optimizer, generators) -> tuple:
    """(state, weights, optimizer moments, generator states) as comparable plain data."""
    moments = {f"{i}/{k}": v for i, s in optimizer.state_dict()["state"].items() for k, v in s.items()}
    return state, model.state_dict(), moments, {i: g.get_state() for i, g in enumerate(generators)}


def _loaded(path: Path, spec) -> tuple:
    """What ``load_state`` leaves behind in fresh objects."""
    model, optimizer, generators = _fresh(spec)
    return _outcome(load_state(path, _spec_json([spec]), model, optimizer, generators), model, optimizer, generators)


def _same_tensors(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _same(a: tuple, b: tuple) -> bool:
    (sa, *tensors_a), (sb, *tensors_b) = a, b
    steps = (sa.step, sa.recorded, sa.diverged, [s for s, _ in sa.snapshots], [s for s, _ in sa.curves])
    return steps == (sb.step, sb.recorded, sb.diverged, [s for s, _ in sb.snapshots], [s for s, _ in sb.curves]) \
        and all(np.array_equal(x, y, equal_nan=True) for (_, x), (_, y) in zip(sa.curves, sb.curves)) \
        and all(_same_tensors(x, y) for (_, x), (_, y) in zip(sa.snapshots, sb.snapshots)) \
        and all(_same_tensors(x, y) for x, y in zip(tensors_a, tensors_b))


@pytest.mark.parametrize("fault", ["flips", "truncations"])
def test_every_damaged_resume_file_is_discarded_or_used_unchanged(files, fault, tmp_path, caplog):
    spec, raw = files.specs[0], files.resume.read_bytes()
    path = tmp_path / "r.nc"
    path.write_bytes(raw)
    original, fresh = _loaded(path, spec), _outcome(GroupState(), *_fresh(spec))
    assert original[0].step == SAVED_STEP and fresh[0].step == 0 and not _same(original, fresh)
    variants = _flips(raw, N_FLIPS, 2) if fault == "flips" else _truncations(raw, N_TRUNCATIONS, 3)
    counts = {"discarded": 0, "of which by checksum": 0, "used unchanged": 0, "SILENTLY CHANGED": 0,
              "OTHER EXCEPTION": 0}
    for bad in variants:
        path.write_bytes(bad)
        caplog.clear()
        try:
            with caplog.at_level(logging.WARNING, logger="learnscope.resume"):
                loaded = _loaded(path, spec)
        except Exception:  # noqa: BLE001 - counted, and the test fails
            counts["OTHER EXCEPTION"] += 1
            continue
        if not path.exists() and _same(loaded, fresh) and str(path) in caplog.text:
            counts["discarded"] += 1
            counts["of which by checksum"] += "checksum mismatch" in caplog.text
        else:
            counts["used unchanged" if path.exists() and _same(loaded, original) else "SILENTLY CHANGED"] += 1
    print(f"\nresume file ({len(raw)} bytes), {fault}: {counts}")
    assert counts["SILENTLY CHANGED"] == counts["OTHER EXCEPTION"] == 0, counts


def _resealed(ds: xr.Dataset, path: Path) -> None:
    """Write ``ds`` with a valid content checksum, bypassing ``store.write``'s checks."""
    ds = ds.copy()
    ds.attrs[CHECKSUM_ATTR] = content_sha256(ds)
    ds.to_netcdf(path, engine="netcdf4")


def _pickle_file(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps(Payload(marker)))


def _without_tensor(ds: xr.Dataset, group: str, key: str) -> xr.Dataset:
    """``ds`` without one packed tensor: its index entry and its elements gone, later offsets moved up."""
    index = json.loads(ds.attrs["tensor_index"])
    (_, _, dtype, shape, offset), = [e for e in index if e[:2] == [group, key]]
    name, size = f"packed_{dtype}", int(np.prod(shape))
    index = [e[:4] + [e[4] - size if e[2] == dtype and e[4] > offset else e[4]] for e in index if e[:2] != [group, key]]
    values = np.delete(ds[name].values, np.s_[offset:offset + size])
    return ds.drop_vars(name).assign({name: (ds[name].dims, values)}).assign_attrs(tensor_index=json.dumps(index))


def _bad_resume(kind: str, source: Path, path: Path, marker: Path) -> None:
    """A resume file at ``path`` damaged in the way ``kind`` names."""
    if kind == "pickle":
        return _pickle_file(path, marker)
    if kind == "folder":
        return path.mkdir()
    raw, ds = source.read_bytes(), xr.open_dataset(source).load()
    index = json.loads(ds.attrs["tensor_index"])
    if kind == "truncated":
        path.write_bytes(raw[:len(raw) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "checksum mismatch":  # one weight changed, the stored checksum kept
        ds["packed_float32"].values[0] += 1.0
        ds.to_netcdf(path, engine="netcdf4")
    elif kind == "other format":
        _resealed(ds.assign_attrs(learnscope_format=store.FORMAT + 1), path)
    elif kind == "missing variables":  # the model's first tensor (a weight matrix) is not in the file
        _resealed(_without_tensor(ds, "model", next(key for group, key, *_ in index if group == "model")), path)
    elif kind == "wrong shape":  # model tensors fine, an optimizer moment recorded as (..., d_in, d_out)
        entry = next(e for e in index if e[0] == "opt" and len(e[3]) == 3 and e[3][1] != e[3][2])
        entry[3] = entry[3][:1] + entry[3][:0:-1]
        _resealed(ds.assign_attrs(tensor_index=json.dumps(index)), path)


RESUME_FAULTS = ["truncated", "empty", "checksum mismatch", "other format", "missing variables", "wrong shape",
                 "pickle"]


@pytest.mark.parametrize("fault", RESUME_FAULTS)
def test_a_bad_resume_file_is_deleted_and_training_restarts_from_zero(files, uninterrupted, fault, tmp_path,
                                                                        caplog):
    path, marker = tmp_path / "resume.nc", tmp_path / "marker"
    _bad_resume(fault, files.resume, path, marker)
    recorded = []

    def record(*args, **kwargs):
        recorded.append(1)
        return ORIGINAL_RECORD(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp, caplog.at_level(logging.WARNING, logger="learnscope.resume"):
        mp.setattr(train_module, "_record", record)
        restarted = train(files.specs[0], files.tensors, KIND, resume=path, resume_interval_s=3600)
    assert re.search(re.escape(str(path)) + r": unusable resume file \(.*\); deleted, training starts from step 0",
                     caplog.text), caplog.text
    assert not path.exists() and not marker.exists()
    assert len(recorded) == files.specs[0].train.steps + 1  # every step from 0
    assert _same_train_state(restarted, uninterrupted)


def _same_train_state(a: TrainState, b: TrainState) -> bool:
    return (a.step, a.curves, a.diverged_at, [s for s, _ in a.snapshots]) == \
        (b.step, b.curves, b.diverged_at, [s for s, _ in b.snapshots]) and \
        all(torch.equal(x[k], y[k]) for (_, x), (_, y) in zip(a.snapshots, b.snapshots) for k in x)


def test_a_valid_resume_file_is_still_used(files, uninterrupted, tmp_path):
    path = tmp_path / "resume.nc"
    shutil.copy(files.resume, path)
    assert _loaded(path, files.specs[0])[0].step == SAVED_STEP and path.exists()
    assert _same_train_state(train(files.specs[0], files.tensors, KIND, resume=path), uninterrupted)


def test_a_folder_in_place_of_the_resume_file_is_named(files, tmp_path):
    path = tmp_path / "resume.nc"
    path.mkdir()
    model, optimizer, generators = _fresh(files.specs[0])
    with pytest.raises(StoreError, match=re.escape(str(path)) + ".*cannot be deleted"):
        load_state(path, _spec_json(files.specs[:1]), model, optimizer, generators)


# ---- files a job must not use --------------------------------------------------------------
def _refused(path, kind: str, *patterns: str, **read_kwargs) -> str:
    with pytest.raises(StoreError) as info:
        store.read(path, kind, **read_kwargs)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    for pattern in patterns:
        assert re.search(pattern, message), (pattern, message)
    return message


def test_schema_violations_are_refused(files, tmp_path):
    ds = xr.open_dataset(files.features[0]).load()
    _resealed(ds.drop_vars("coord_mass"), tmp_path / "missing.nc")
    _refused(tmp_path / "missing.nc", "features", "missing variable 'coord_mass'")
    _resealed(ds.rename_dims(input="coordinate"), tmp_path / "dims.nc")
    _refused(tmp_path / "dims.nc", "features", "variable '.*' has dims .*coordinate.*, expected")


def test_a_file_of_another_format_is_refused(files, tmp_path):
    ds = xr.open_dataset(files.checkpoints[0]).load()
    _resealed(ds.assign_attrs(learnscope_format=store.FORMAT + 1), tmp_path / "future.nc")
    _refused(tmp_path / "future.nc", "checkpoints",
             rf"file format {store.FORMAT + 1}, but this code reads format {store.FORMAT};")
    _resealed(ds.drop_attrs(deep=False), tmp_path / "old.nc")
    _refused(tmp_path / "old.nc", "checkpoints", "learnscope_format")


def test_another_runs_file_is_refused(files):
    spec0, spec1 = files.specs
    seed1 = files.checkpoints[1]
    assert store.read(seed1, "checkpoints", expect={"run": spec1.name, "params_json": spec1})
    _refused(seed1, "checkpoints", f"holds run '{re.escape(spec1.name)}'.*expects '{re.escape(spec0.name)}'",
             expect={"run": spec0.name, "params_json": spec0})
    _refused(seed1, "checkpoints", "seed is 1 in the file, 0 expected", expect={"params_json": spec0})
    _refused(files.features[1], "features", re.escape(spec0.name), expect={"run": spec0.name})
    _refused(files.features[1], "features", r"run\.seed is 1 in the file, 0 expected",
             expect={"params_json.run": spec0})


def test_a_file_of_other_params_with_the_same_run_name_is_refused(files):
    spec0 = files.specs[0]
    other = dataclasses.replace(spec0, train=dataclasses.replace(spec0.train, lr=spec0.train.lr / 2))
    assert other.name == spec0.name
    _refused(files.checkpoints[0], "checkpoints", r"train\.lr is 0\.01 in the file, 0\.005 expected",
             expect={"run": other.name, "params_json": other})
    other_task = dataclasses.replace(spec0.task, n_train=128)
    _refused(files.dataset, "dataset", r"n_train is 256 in the file, 128 expected", expect={"params_json": other_task})


def test_the_features_stage_refuses_a_checkpoints_file_copied_from_another_seed(files, tmp_path):
    checkpoints = [tmp_path / "checkpoints0.nc", tmp_path / "checkpoints1.nc"]
    shutil.copy(files.checkpoints[1], checkpoints[0])  # seed 1's file under seed 0's name
    shutil.copy(files.checkpoints[1], checkpoints[1])
    outputs = [tmp_path / "f0.nc", tmp_path / "f1.nc"]
    with pytest.raises(StoreError, match=re.escape(str(checkpoints[0])) + ".*" + re.escape(files.specs[0].name)):
        features_group_run(files.specs, FeaturesConfig(agop_samples=64), str(files.dataset),
                           list(map(str, checkpoints)), list(map(str, outputs)), [], ("agop",))
    assert not any(p.exists() for p in outputs)


def test_a_pickle_is_never_executed(files, tmp_path):
    marker = tmp_path / "marker"
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(Payload(proof)))  # the payload works: unpickling it writes its marker
    assert proof.exists()
    path = tmp_path / "evil.nc"
    _pickle_file(path, marker)
    for kind in store.SCHEMAS:
        _refused(path, kind, "not a readable netCDF4 file")
    model, optimizer, generators = _fresh(files.specs[0])
    assert load_state(path, _spec_json(files.specs[:1]), model, optimizer, generators) == GroupState()
    assert not path.exists() and not marker.exists()


def test_an_empty_file_and_a_folder_are_refused(tmp_path):
    (tmp_path / "empty.nc").write_bytes(b"")
    (tmp_path / "folder.nc").mkdir()
    for kind in store.SCHEMAS:
        _refused(tmp_path / "empty.nc", kind, "not a readable netCDF4 file")
        _refused(tmp_path / "folder.nc", kind, "is a folder")
        _refused(tmp_path / "absent.nc", kind, "no such file")
