"""``learnscope.store``: the one owner of file names, schemas, writing and reading.

Checks that write -> read keeps data and attrs; the provenance attrs (version, params JSON,
sha256 of inputs keyed by relative paths, no absolute path anywhere); byte-identical
files for identical data, whenever they are written; one ``StoreError`` naming the path for
missing, garbage and schema-violating files; the format attr; a content checksum that
survives netCDF's round trip of awkward values yet sees any changed value, name or attr;
``read``'s expectations (run name, params); atomic writes that never leave temp files nor
clobber a good file; and ``write_json``'s NaN -> null. (Damaged files in bulk, foreign
files and full disks: tests/reliability.)
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import math
import os
import re
import time

import numpy as np
import pytest
import xarray as xr

from learnscope import __version__, data, store
from learnscope.checksum import content_sha256
from learnscope.config import to_json
from learnscope.errors import StoreError
from learnscope.tasks.boolean import SparseParity

PARAMS_JSON = '{"a":1}'
TASK = SparseParity(n_bits=6, k=2, n_train=20, n_test=10)


def _curves(n_steps: int = 5) -> xr.Dataset:
    steps = np.arange(n_steps) * 10
    rng = np.random.default_rng(0)
    return xr.Dataset({name: ("step", rng.random(n_steps), {"long_name": name, "units": "1"})
                       for name in store.CURVES},
                      coords={"step": ("step", steps, {"long_name": "optimizer step"})},
                      attrs={"run": "tiny-parity-w32-s0"})


def _checkpoints() -> xr.Dataset:
    w = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    return xr.Dataset({"l0_weight": (("step", "l0_out", "l0_in"), w,
                                     {"long_name": "parameter layers.0.weight", "torch_name": "layers.0.weight"})},
                      coords={"step": [0, 5]}, attrs={"run": "r"})


def _dataset() -> xr.Dataset:
    return data.dataset_to_xarray(TASK, TASK.make_dataset())


def _only_files(folder) -> list[str]:
    return sorted(os.listdir(folder))


# ---- paths --------------------------------------------------------------------------------
def test_paths_are_relative_and_resume_lies_outside_results():
    assert store.run_path("r", "curves.nc") == "results/runs/r/curves.nc"
    assert store.dataset_path("parity", "t") == "data/parity/t.nc"
    assert store.study_path("parity", "summary.nc") == "results/studies/parity/summary.nc"
    resume = store.resume_path("r")
    assert not os.path.isabs(resume) and not resume.startswith(("results/", "data/"))
    assert not store.METRICS_PATH.startswith(store.RUNS_DIR)


# ---- round trip -------------------------------------------------------------------------
def test_write_read_round_trip_keeps_data_and_attrs(tmp_path):
    ds = _dataset()
    path = tmp_path / "d.nc"
    store.write(ds, path, "dataset", PARAMS_JSON)
    back = store.read(path, "dataset")
    for name in ("x_train", "y_train", "x_test", "y_test", "support"):
        np.testing.assert_array_equal(back[name].values, ds[name].values)
        assert back[name].dtype == ds[name].dtype
        assert back[name].dims == ds[name].dims
        assert back[name].attrs["long_name"] == ds[name].attrs["long_name"]
    assert back.feature_name.values.tolist() == TASK.feature_names()
    for key, value in ds.attrs.items():
        assert back.attrs[key] == value
    assert back.attrs["params_json"] == PARAMS_JSON


def test_write_does_not_modify_the_callers_dataset(tmp_path):
    ds = _curves()
    before = dict(ds.attrs)
    store.write(ds, tmp_path / "c.nc", "curves", PARAMS_JSON)
    assert ds.attrs == before


def test_read_after_overwrite_sees_the_new_file(tmp_path):
    path = tmp_path / "c.nc"
    store.write(_curves(), path, "curves", PARAMS_JSON)
    assert store.read(path, "curves").sizes["step"] == 5
    store.write(_curves(3), path, "curves", PARAMS_JSON)
    assert store.read(path, "curves").sizes["step"] == 3


# ---- provenance -------------------------------------------------------------------------
def test_provenance_attrs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    a, b = tmp_path / "in" / "a.nc", tmp_path / "in" / "b.txt"
    a.write_bytes(b"first input")
    b.write_bytes(b"second input")
    store.write(_curves(), "out/c.nc", "curves", PARAMS_JSON, inputs=[str(b), "in/a.nc"])
    attrs = store.read("out/c.nc", "curves").attrs
    assert attrs["learnscope_version"] == __version__ == "0.1.0"
    assert attrs["params_json"] == PARAMS_JSON
    assert json.loads(attrs["inputs_json"]) == {
        "in/a.nc": hashlib.sha256(b"first input").hexdigest(),
        "in/b.txt": hashlib.sha256(b"second input").hexdigest(),
    }


def test_no_absolute_path_in_the_file(tmp_path, monkeypatch):
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    (elsewhere / "outside.nc").write_bytes(b"x")
    (work / "inside.nc").write_bytes(b"y")
    monkeypatch.chdir(work)
    path = work / "c.nc"
    store.write(_curves(), path, "curves", PARAMS_JSON,
                inputs=[work / "inside.nc", elsewhere / "outside.nc"])
    ds = store.read(path, "curves")
    for key, value in ds.attrs.items():
        assert str(tmp_path) not in str(value), key
    assert set(json.loads(ds.attrs["inputs_json"])) == {"inside.nc", "outside.nc"}
    assert str(tmp_path).encode() not in path.read_bytes()


def test_attrs_are_only_strings_and_numbers(tmp_path):
    store.write(_dataset(), tmp_path / "d.nc", "dataset", PARAMS_JSON)
    for value in store.read(tmp_path / "d.nc", "dataset").attrs.values():
        assert isinstance(value, (str, int, float, np.integer, np.floating)) and not isinstance(value, bool)


# ---- determinism ------------------------------------------------------------------------
@pytest.mark.parametrize("kind, make", [("dataset", _dataset), ("curves", _curves), ("checkpoints", _checkpoints)])
def test_same_dataset_twice_gives_identical_bytes(tmp_path, kind, make):
    store.write(make(), tmp_path / "a.nc", kind, PARAMS_JSON)
    store.write(make(), tmp_path / "sub" / "b.nc", kind, PARAMS_JSON)
    assert filecmp.cmp(tmp_path / "a.nc", tmp_path / "sub" / "b.nc", shallow=False)


def test_bytes_do_not_depend_on_the_time_of_writing(tmp_path):
    store.write(_dataset(), tmp_path / "a.nc", "dataset", PARAMS_JSON)
    time.sleep(1.1)  # HDF5 can stamp objects with the time in seconds (it does for in-memory images)
    store.write(_dataset(), tmp_path / "b.nc", "dataset", PARAMS_JSON)
    assert filecmp.cmp(tmp_path / "a.nc", tmp_path / "b.nc", shallow=False)


def test_different_params_give_different_bytes(tmp_path):
    store.write(_curves(), tmp_path / "a.nc", "curves", PARAMS_JSON)
    store.write(_curves(), tmp_path / "b.nc", "curves", '{"a":2}')
    assert not filecmp.cmp(tmp_path / "a.nc", tmp_path / "b.nc", shallow=False)


def test_weights_are_chunked_one_step_per_chunk(tmp_path):
    store.write(_checkpoints(), tmp_path / "w.nc", "checkpoints", PARAMS_JSON)
    back = store.read(tmp_path / "w.nc", "checkpoints")
    assert back.l0_weight.encoding["chunksizes"] == (1, 3, 4)
    assert back.l0_weight.dtype == np.float32


# ---- bad files ----------------------------------------------------------------------------
def test_read_missing_file(tmp_path):
    path = tmp_path / "absent.nc"
    with pytest.raises(StoreError, match=re.escape(str(path))):
        store.read(path, "curves")


@pytest.mark.parametrize("content", [b"", b"not a netCDF file at all" * 10, b"\x89HDF\r\n\x1a\n" + b"\0" * 40])
def test_read_garbage_file(tmp_path, content):
    path = tmp_path / "garbage.nc"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=re.escape(str(path))):
        store.read(path, "curves")


def test_read_truncated_file(tmp_path):
    path = tmp_path / "c.nc"
    store.write(_curves(), path, "curves", PARAMS_JSON)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(StoreError, match=re.escape(str(path))):
        store.read(path, "curves")


def test_read_valid_netcdf_missing_a_required_variable(tmp_path):
    good = tmp_path / "good.nc"
    store.write(_curves(), good, "curves", PARAMS_JSON)
    ds = xr.open_dataset(good).load()
    path = tmp_path / "bad.nc"
    ds.drop_vars("test_acc").to_netcdf(path, engine="netcdf4")
    with pytest.raises(StoreError) as info:
        store.read(path, "curves")
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "test_acc" in message


def test_read_a_file_of_another_kind(tmp_path):
    path = tmp_path / "c.nc"
    store.write(_curves(), path, "curves", PARAMS_JSON)
    with pytest.raises(StoreError, match=re.escape(str(path)) + ".*not a valid learnscope dataset file"):
        store.read(path, "dataset")


def test_read_a_foreign_netcdf_without_provenance(tmp_path):
    path = tmp_path / "foreign.nc"
    _curves().to_netcdf(path, engine="netcdf4")
    with pytest.raises(StoreError, match="learnscope_format"):
        store.read(path, "curves")


# ---- format, content checksum and expectations ---------------------------------------------
def _awkward() -> xr.Dataset:
    """Values whose netCDF round trip changes their Python form: a negative NaN, inf,
    strings (fixed-width and object), bool, a 0-d variable, a one-element list attr."""
    weights = np.array([1.5, -np.inf, np.nan], dtype=np.float32)
    weights[2] = -weights[2]  # the sign bit of NaN: reads back as the positive np.nan
    return xr.Dataset(
        {"w": ("k", weights, {"long_name": "w", "scale": np.float32(0.5), "steps": [3]}),
         "flag": ("k", np.array([True, False, True]), {"long_name": "flag"}),
         "label": ("k", np.array(["a", "bb", "ccc"]), {"long_name": "label"}),
         "total": ((), np.int64(7), {"long_name": "total"})},
        coords={"k": ("k", np.array(["x", "y", "z"], dtype=object))},
        attrs={"study": "s", "n": 3, "ratio": float("nan")})


def test_content_checksum_survives_the_round_trip_of_awkward_values(tmp_path):
    store.write(_awkward(), tmp_path / "s.nc", "summary", PARAMS_JSON)
    back = store.read(tmp_path / "s.nc", "summary")  # recomputes the checksum: equal, or StoreError
    assert back.attrs["content_sha256"] == content_sha256(back) == content_sha256(
        _awkward().assign_attrs(store.provenance(PARAMS_JSON, [])))
    assert back.attrs["learnscope_format"] == store.FORMAT


def test_content_checksum_sees_every_value_name_and_attr_but_not_variable_order():
    ds = _awkward()
    reference = content_sha256(ds)
    assert content_sha256(ds[["total", "label", "flag", "w"]]) == reference
    changed = [ds.assign(w=ds.w.copy(data=np.array([1.5, -np.inf, 0.0], dtype=np.float32))),
               ds.assign(w=ds.w.astype(np.float64)), ds.rename_vars(total="sum"), ds.assign_attrs(n=4),
               ds.assign(label=ds.label.assign_attrs(long_name="labels")), ds.rename_dims(k="j")]
    assert len({content_sha256(c) for c in changed} | {reference}) == len(changed) + 1


def test_a_changed_value_under_the_old_checksum_is_refused(tmp_path):
    good, bad = tmp_path / "good.nc", tmp_path / "bad.nc"
    store.write(_curves(), good, "curves", PARAMS_JSON)
    ds = xr.open_dataset(good).load()
    ds["train_loss"].values[2] += 1e-6
    ds.to_netcdf(bad, engine="netcdf4")
    with pytest.raises(StoreError, match=re.escape(str(bad)) + ": content checksum mismatch: the file is corrupted"):
        store.read(bad, "curves")


def test_read_checks_what_the_job_expects(tmp_path):
    path = tmp_path / "c.nc"
    params = {"run": {"seed": 1, "train": {"lr": 0.01}}, "features": {"agop_samples": 64}}
    store.write(_curves(), path, "curves", to_json(params))
    assert store.read(path, "curves", expect={"run": "tiny-parity-w32-s0", "params_json": params})
    assert store.read(path, "curves", expect={"params_json.run": params["run"]})
    with pytest.raises(StoreError, match=re.escape(f"{path}: holds run 'tiny-parity-w32-s0', but this job "
                                                   "expects 'tiny-parity-w32-s1'")):
        store.read(path, "curves", expect={"run": "tiny-parity-w32-s1"})
    with pytest.raises(StoreError, match=re.escape(f"{path}: made with other params than this job's "
                                                   "(run.train.lr is 0.01 in the file, 0.02 expected)")):
        store.read(path, "curves", expect={"params_json": {**params, "run": {"seed": 1, "train": {"lr": 0.02}}}})
    with pytest.raises(StoreError, match=r"\(features is only in the file\)"):
        store.read(path, "curves", expect={"params_json": {"run": params["run"]}})


# ---- validate ----------------------------------------------------------------------------
def _validate(ds: xr.Dataset, kind: str) -> str:
    ds = ds.assign_attrs(store.provenance(PARAMS_JSON, []))
    with pytest.raises(StoreError) as info:
        store.validate(ds, kind, "some/file.nc")
    assert str(info.value).startswith("some/file.nc: ")
    return str(info.value)


def test_validate_accepts_good_datasets():
    for kind, ds in (("curves", _curves()), ("checkpoints", _checkpoints()), ("dataset", _dataset())):
        store.validate(ds.assign_attrs(store.provenance(PARAMS_JSON, [])), kind, "f.nc")


def test_validate_wrong_dims():
    ds = _curves()
    ds["train_loss"] = ("other", ds.train_loss.values, {"long_name": "x"})
    assert "expected ('step',)" in _validate(ds, "curves")


def test_validate_missing_schema_attr():
    assert "'run'" in _validate(_curves().drop_attrs(), "curves")


def test_validate_variable_without_long_name():
    ds = _curves()
    ds["extra"] = ("step", np.zeros(5))
    assert "long_name" in _validate(ds, "curves")


def test_validate_weights_need_step_dim_and_torch_name():
    ds = _checkpoints()
    del ds.l0_weight.attrs["torch_name"]
    assert "torch_name" in _validate(ds, "checkpoints")
    assert "no weights" in _validate(_checkpoints().drop_vars("l0_weight"), "checkpoints")


# ---- atomic writes ------------------------------------------------------------------------
def test_write_leaves_no_temp_file(tmp_path):
    store.write(_curves(), tmp_path / "c.nc", "curves", PARAMS_JSON)
    store.write(_curves(3), tmp_path / "c.nc", "curves", PARAMS_JSON)
    assert _only_files(tmp_path) == ["c.nc"]


def test_invalid_dataset_does_not_replace_a_good_file(tmp_path):
    path = tmp_path / "c.nc"
    store.write(_curves(), path, "curves", PARAMS_JSON)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=re.escape(str(path))):
        store.write(_curves().drop_vars("train_loss"), path, "curves", PARAMS_JSON)
    assert path.read_bytes() == before
    assert _only_files(tmp_path) == ["c.nc"]


def test_failure_while_writing_keeps_the_good_file_and_no_temp(tmp_path):
    path = tmp_path / "c.nc"
    store.write(_curves(), path, "curves", PARAMS_JSON)
    before = path.read_bytes()
    bad = _curves()
    bad.train_loss.attrs["flag"] = {"a": 1}  # netCDF cannot store a dict attr: fails inside to_netcdf
    with pytest.raises(Exception):
        store.write(bad, path, "curves", PARAMS_JSON)
    assert path.read_bytes() == before
    assert _only_files(tmp_path) == ["c.nc"]


# ---- JSON ---------------------------------------------------------------------------------
def test_write_json_nan_and_inf_become_null(tmp_path):
    path = tmp_path / "m" / "metrics.json"
    store.write_json({"b": float("nan"), "a": {"x": [1.0, np.float32("nan"), math.inf]},
                      "c": np.int64(3), "d": np.float64(0.5), "e": np.bool_(True)}, path)
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": {"x": [1.0, None, None]}, "b": None, "c": 3, "d": 0.5, "e": True}
    assert text.index('"a"') < text.index('"b"') and text.endswith("\n")
    assert _only_files(path.parent) == ["metrics.json"]


def test_write_json_is_deterministic(tmp_path):
    store.write_json({"z": 1, "a": [0.1, 0.2]}, tmp_path / "a.json")
    store.write_json({"a": [0.1, 0.2], "z": 1}, tmp_path / "b.json")
    assert filecmp.cmp(tmp_path / "a.json", tmp_path / "b.json", shallow=False)


def test_an_empty_string_coordinate_round_trips_through_the_checksum(tmp_path):
    """netCDF reads an empty string coordinate back as float64 (the gdln runs' ``layer``):
    the file must still read as intact."""
    ds = _curves().assign_coords(layer=("layer", np.array([], dtype=object)))
    ds["dw"] = (("step", "layer"), np.zeros((ds.sizes["step"], 0)), {"long_name": "empty"})
    store.write(ds, tmp_path / "c.nc", "curves", "{}")
    back = store.read(tmp_path / "c.nc", "curves")
    assert back["layer"].size == 0 and back.attrs["content_sha256"] == content_sha256(back)
