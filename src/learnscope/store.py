"""The only code that names, writes and reads learnscope's files.

Every artefact is an xarray Dataset in netCDF4. Each kind has a schema (required variables
with their dims, required attrs); ``write`` validates, adds provenance attrs and writes
atomically (``learnscope.atomic``: a full disk says "No space left on device", not "HDF
error"); ``read`` validates again, so a truncated, corrupted or foreign file fails with one
``StoreError`` naming it and the fix.

Provenance attrs on every file: ``learnscope_format`` (``FORMAT``: the layout this code
reads; a file of another format is refused), ``learnscope_version`` (static, from
pyproject; a record only), ``params_json`` (canonical JSON of the params that made it),
``inputs_json`` (sha256 of each input file, keyed by its path relative to the working
directory) and ``content_sha256`` (``learnscope.checksum``: every variable and attr, so a
flipped byte is refused instead of read as other weights). A job that reads a file states
what it expects of it (``read(..., expect=...)``: its run name and params), so a file copied
from another run is refused too. No wall-clock times, hosts or absolute paths: same params
and code give byte-identical files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np
import xarray as xr

from learnscope import __version__, atomic
from learnscope.checksum import CHECKSUM_ATTR, content_sha256, verify_checksum
from learnscope.config import to_json
from learnscope.errors import StoreError

# ---- file names: the one owner -------------------------------------------------------
DATA_DIR, RUNS_DIR, STUDIES_DIR, REPORT_DIR = "data", "results/runs", "results/studies", "results/report"
METRICS_PATH = "results/metrics.json"
REPORT_INDEX = f"{REPORT_DIR}/index.html"
RUNS_INDEX = f"{REPORT_DIR}/runs.tsv"
RESUME_DIR = ".tmp/resume"


def dataset_path(study: str, task: str) -> str:
    return f"{DATA_DIR}/{study}/{task}.nc"


def run_path(run: str, artefact: str) -> str:
    """``artefact`` is one of checkpoints.nc, curves.nc, features.nc, tree.nc, tree.txt, tree.png."""
    return f"{RUNS_DIR}/{run}/{artefact}"


def study_path(study: str, artefact: str) -> str:
    """``artefact``: summary.nc, metrics.json or a figure name."""
    return f"{STUDIES_DIR}/{study}/{artefact}"


def representations_path(study: str, run: str) -> str:
    """A run's hidden layers on its probe inputs, read for ``study`` (e.g. similarity)."""
    return f"{STUDIES_DIR}/{study}/representations/{run}.nc"


def probes_path(study: str, run: str) -> str:
    """A run's probed ANDs and distilled trees (the ``distill`` study's sources job)."""
    return f"{STUDIES_DIR}/{study}/probes/{run}.nc"


def rfm_path(study: str, task: str) -> str:
    """A Recursive Feature Machine fitted to one task's dataset (the ``nfa`` study's sources job)."""
    return f"{STUDIES_DIR}/{study}/rfm/{task}.nc"


def resume_path(run: str) -> str:
    """Training state of an unfinished run: outside every rule's outputs, deleted at the end."""
    return f"{RESUME_DIR}/{run}.nc"


# ---- schemas --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Schema:
    """Required variables (name -> dims) and attrs of one kind of file.

    ``weights``: the variables are not fixed (one per parameter tensor); each must have
    ``step`` as first dim and a ``torch_name`` attr. ``measured``: the file's ``measures`` attr
    (comma-separated) names measures whose variables it must also hold (``Measure.schema``).
    """

    variables: dict[str, tuple[str, ...]]
    attrs: tuple[str, ...] = ()
    weights: bool = False
    measured: bool = False


FORMAT = 1  # learnscope_format: raise it when a change makes old files unreadable or wrong
PROVENANCE = ("learnscope_format", "learnscope_version", "params_json", "inputs_json")
CURVES = ("train_loss", "test_loss", "train_acc", "test_acc")

SCHEMAS: dict[str, Schema] = {
    "dataset": Schema({"x_train": ("sample_train", "input"), "y_train": ("sample_train", "output?"),
                       "x_test": ("sample_test", "input"), "y_test": ("sample_test", "output?"),
                       "support": ("input",)}, ("kind", "description", "n_outputs")),
    "checkpoints": Schema({}, ("run",), weights=True),
    "curves": Schema({name: ("step",) for name in CURVES}, ("run",)),
    "features": Schema({**{name: ("step",) for name in CURVES},
                        "coord_mass": ("step", "input"), "dw_stable_rank": ("step", "layer")},
                       ("run", "measures"), measured=True),
    "tree": Schema({"children_left": ("variant", "depth", "node"),
                    "children_right": ("variant", "depth", "node"),
                    "feature": ("variant", "depth", "node"), "threshold": ("variant", "depth", "node"),
                    "value": ("variant", "depth", "node", "output", "class"),
                    "fidelity": ("variant", "depth"), "accuracy": ("variant", "depth"),
                    "coords_used": ("variant", "depth", "input")}, ("run", "kind")),
    "representations": Schema({"probe": ("sample", "input"), "hidden_0": ("step", "sample", "unit_0")},
                              ("run", "source_study", "task_name", "task_json", "width", "seed", "space",
                               "final_step", "probe_sha256")),
    "probes": Schema({"exact": ("tree",), "fidelity": ("tree",), "n_probes": ("k",), "and_score": ("and",),
                      "and_codes": ("and", "literal"), "tree_feature": ("tree", "node")},
                     ("run", "depth", "n_bits", "n_all_ands")),
    "rfm": Schema({"metric": ("iteration", "in_a", "in_b"), "test_mse": ("iteration",), "test_acc": ("iteration",),
                   "support": ("input",)}, ("task_name", "kind", "bandwidth", "ridge")),
    "summary": Schema({}, ("study",)),
}


def _required_dims(dims: tuple[str, ...]) -> tuple[str, ...]:
    """``dims`` without its optional trailing dims (named with a ``?``, e.g. the
    ``output?`` of vector targets); the full form is ``dims`` with the ``?`` dropped."""
    return tuple(d for d in dims if not d.endswith("?"))


def validate(ds: xr.Dataset, kind: str, path: str | os.PathLike,
             required: dict[str, tuple[str, ...]] | None = None) -> None:
    """Raise StoreError naming ``path`` and the fix if ``ds`` breaks the ``kind`` schema;
    ``required``: more variables (name -> dims) this file must have (a study's summary.nc
    declares its own, ``Study.summary_variables``)."""
    schema = SCHEMAS[kind]
    fix = f"it is not a valid learnscope {kind} file; delete it and rerun `make run`"
    for name in PROVENANCE + schema.attrs:
        if name not in ds.attrs:
            raise StoreError(f"{path}: missing attribute '{name}': {fix}")
    required = schema.variables | (required or {})
    if schema.measured:
        from learnscope.features import MEASURES  # lazily: a file names the measures it holds

        for name in filter(None, str(ds.attrs.get("measures", "")).split(",")):
            if name not in MEASURES:
                raise StoreError(f"{path}: attribute 'measures' names {name!r}, not a known measure "
                                 f"({', '.join(MEASURES)}): {fix}")
            required |= MEASURES[name].schema
    for name, dims in required.items():
        if name not in ds.variables:
            raise StoreError(f"{path}: missing variable '{name}' {dims}: {fix}")
        if ds[name].dims not in (tuple(d.rstrip("?") for d in dims), _required_dims(dims)):
            raise StoreError(f"{path}: variable '{name}' has dims {ds[name].dims}, expected {dims}: {fix}")
    for name, var in ds.data_vars.items():
        if "long_name" not in var.attrs:
            raise StoreError(f"{path}: variable '{name}' has no long_name attribute: {fix}")
        if schema.weights and (var.dims[:1] != ("step",) or "torch_name" not in var.attrs):
            raise StoreError(f"{path}: weight '{name}' needs dims (step, ...) and a torch_name: {fix}")
    if schema.weights and not ds.data_vars:
        raise StoreError(f"{path}: holds no weights: {fix}")


# ---- provenance -------------------------------------------------------------------------
def file_hash(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _portable(path: str | os.PathLike) -> str:
    """A path relative to the working directory (never absolute: files must not depend on where)."""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return p.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return p.name


def own_inputs(inputs: Iterable[str], own: str, group: Iterable[str]) -> list[str]:
    """A group job's inputs as one member's file records them: its own per-run input, not the
    other members' (so a run's files do not depend on which runs share its group)."""
    others = set(map(str, group)) - {str(own)}
    return [p for p in map(str, inputs) if p not in others]


def provenance(params_json: str, inputs: Iterable[str | os.PathLike]) -> dict[str, str]:
    hashes = {_portable(p): file_hash(p) for p in sorted(set(map(str, inputs)))}
    return {"learnscope_format": FORMAT, "learnscope_version": __version__, "params_json": params_json,
            "inputs_json": json.dumps(hashes, sort_keys=True)}


# ---- write / read -----------------------------------------------------------------------
def _encoding(ds: xr.Dataset, weights: bool) -> dict[str, dict]:
    encoding = {}
    for name, var in ds.variables.items():
        if var.dtype.kind not in "fiub" or var.ndim == 0:
            continue
        enc = {"zlib": True, "complevel": 4, "shuffle": True}
        if weights and name in ds.data_vars:
            enc["chunksizes"] = (1,) + var.shape[1:]  # one snapshot per chunk
        encoding[name] = enc
    return encoding


def write(ds: xr.Dataset, path: str | os.PathLike, kind: str, params_json: str,
          inputs: Iterable[str | os.PathLike] = (), required: dict[str, tuple[str, ...]] | None = None) -> None:
    """Validate ``ds`` as ``kind`` (plus ``required`` variables), add provenance and the
    content checksum and write it atomically to ``path`` (StoreError naming ``path`` and
    the cause if the disk refuses; the previous file, if any, is then unchanged)."""
    ds = ds.drop_encoding()  # a copy; the file's layout comes from ``_encoding`` alone
    ds.attrs = {**ds.attrs, **provenance(params_json, inputs)}
    validate(ds, kind, path, required)
    ds.attrs[CHECKSUM_ATTR] = content_sha256(ds)
    atomic.write_netcdf(ds, path, _encoding(ds, SCHEMAS[kind].weights), kind)


def read(path: str | os.PathLike, kind: str, required: dict[str, tuple[str, ...]] | None = None,
         expect: dict[str, object] | None = None) -> xr.Dataset:
    """Load a whole file into memory and check its format, schema, checksum and ``expect``;
    any failure is a StoreError naming ``path`` and the fix. Never executes code.

    ``expect``: what the reading job knows the file must hold, attr name -> value, e.g.
    ``{"run": spec.name, "params_json": spec}``. ``params_json`` (and ``params_json.<key>``,
    one entry of it, for a job that knows only part of the params) is compared as JSON
    with the value's canonical JSON (``config.to_json``); other attrs by equality.
    """
    ds = atomic.read_netcdf(path)
    try:
        check_format(ds, path)
        validate(ds, kind, path, required)
        verify_checksum(ds, path)
    except StoreError:
        raise
    except Exception as e:  # noqa: BLE001 - damaged bytes can decode to values no check foresees
        raise StoreError(f"{path}: damaged contents ({type(e).__name__}: {e}); "
                         "delete it and rerun `make run`") from None
    for key, value in (expect or {}).items():
        check_expected(ds, path, key, value)
    return ds


def check_format(ds: xr.Dataset, path: str | os.PathLike) -> None:
    """Refuse a file written in another learnscope file format than ``FORMAT``."""
    found = ds.attrs.get("learnscope_format")
    if found is None:
        raise StoreError(f"{path}: missing attribute 'learnscope_format': not a learnscope file, or one "
                         f"older than format {FORMAT}; delete it and rerun `make run`")
    if not isinstance(found, (int, np.integer)) or int(found) != FORMAT:
        raise StoreError(f"{path}: learnscope file format {found}, but this code reads format {FORMAT}; "
                         "delete it and rerun `make run`")


def check_expected(ds: xr.Dataset, path: str | os.PathLike, key: str, value: object) -> None:
    """Refuse a file whose attr ``key`` is not ``value`` (see ``read``'s ``expect``)."""
    attr, _, entry = key.partition(".")
    found = ds.attrs.get(attr)
    fix = "it was made for another run or other params; delete it and rerun `make run`"
    if attr != "params_json":
        if found != value:
            raise StoreError(f"{path}: holds {attr} {found!r}, but this job expects {value!r}: {fix}")
        return
    try:
        params = json.loads(str(found))
        params = params[entry] if entry else params
    except (ValueError, KeyError, TypeError):
        raise StoreError(f"{path}: its params_json has no {key!r} entry: {fix}") from None
    difference = _json_difference(params, json.loads(to_json(value)), entry)
    if difference:
        raise StoreError(f"{path}: made with other params than this job's ({difference}): {fix}")


def _json_difference(found, expected, where: str) -> str:
    """The first place where two JSON values differ, as text ("" if they are equal)."""
    if isinstance(found, dict) and isinstance(expected, dict):
        for key in sorted(set(found) | set(expected)):
            place = f"{where}.{key}".lstrip(".")
            if key not in found or key not in expected:
                return f"{place} is {'only in the file' if key in found else 'missing from the file'}"
            difference = _json_difference(found[key], expected[key], place)
            if difference:
                return difference
        return ""
    if found == expected:
        return ""
    return f"{where or 'params'} is {json.dumps(found)} in the file, {json.dumps(expected)} expected"


def write_json(data: dict, path: str | os.PathLike) -> None:
    """Atomic, canonical JSON (sorted keys, NaN written as null)."""
    text = json.dumps(_nan_to_none(data), indent=2, sort_keys=True) + "\n"
    atomic.write_bytes(path, text.encode(), "json")


def write_text(text: str, path: str | os.PathLike) -> None:
    atomic.write_bytes(path, text.encode(), "text")


def save_figure(fig, path: str | os.PathLike) -> None:
    """PNG at 150 dpi without metadata that could vary (byte-reproducible for fixed library versions)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, dpi=150, format="png", metadata={"Software": None})
    plt.close(fig)
    atomic.write_bytes(path, png.getvalue(), "figure")


def _nan_to_none(obj):
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
