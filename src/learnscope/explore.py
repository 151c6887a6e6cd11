"""Looking at results from Python and the command line: ``learnscope.open(run)`` returns a
run's files as one xarray DataTree, and ``describe`` is ``learnscope show``: a readable
summary of any learnscope .nc file (dims, variables, provenance, key numbers).

Every file is read through ``store.read`` (schema and checksum checked; never executes code).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from learnscope import store
from learnscope.atomic import read_netcdf
from learnscope.errors import StoreError

RUN_FILES = ("checkpoints", "curves", "features", "tree")  # each <name>.nc, of store kind <name>


def run_dir(run: str | Path, root: str | Path = ".") -> Path:
    """The folder of ``run`` (a run name or its folder); StoreError naming the runs on disk if absent."""
    candidates = [Path(run), Path(root) / store.run_path(str(run), "")]
    for path in candidates:
        if path.is_dir() and (path / "curves.nc").exists():
            return path
    runs_dir = Path(root) / store.RUNS_DIR
    known = sorted(p.name for p in runs_dir.iterdir()) if runs_dir.is_dir() else []
    hint = f"e.g. {', '.join(known[:3])} ({len(known)} on disk)" if known else "none on disk: run `make run` first"
    raise StoreError(f"{run}: no such run under {runs_dir}; {hint}")


def open(run: str | Path, root: str | Path = ".") -> xr.DataTree:  # noqa: A001 - learnscope.open, like xr.open_*
    """One run's files as a DataTree: ``/checkpoints`` (weights at every snapshot), ``/curves``
    (losses and accuracies at every evaluation), ``/features`` (the measures at every snapshot)
    and ``/tree`` (distilled trees), whichever the run has; the run's spec is the root's
    ``run`` and ``params_json`` attrs.

    >>> run = learnscope.open("parity-sparse_parity-w256-s0")
    >>> run["curves"].test_acc.isel(step=-1)
    """
    folder = run_dir(run, root)
    children = {name: store.read(folder / f"{name}.nc", name) for name in RUN_FILES if (folder / f"{name}.nc").exists()}
    curves = children["curves"]
    root_attrs = {"run": curves.attrs["run"], "params_json": curves.attrs["params_json"]}
    return xr.DataTree.from_dict({"/": xr.Dataset(attrs=root_attrs), **{f"/{k}": v for k, v in children.items()}})


def kind_of(ds: xr.Dataset) -> str | None:
    """The schema a dataset matches (its own ``kind``-defining variables), or None."""
    for kind in ("tree", "features", "curves", "probes", "rfm", "representations", "dataset"):
        if all(name in ds.variables for name in store.SCHEMAS[kind].variables):
            return kind
    if ds.attrs.get("study") is not None:
        return "summary"
    if any("torch_name" in var.attrs for var in ds.data_vars.values()):
        return "checkpoints"
    return None


def key_numbers(ds: xr.Dataset, limit: int = 12) -> list[str]:
    """The last value of every 1-D variable along ``step`` and every scalar variable."""
    lines = []
    for name, var in ds.data_vars.items():
        if var.dims == ("step",) and var.dtype.kind == "f":
            lines.append(f"{name} = {float(var[-1]):.4g} at step {int(ds['step'][-1])}")
        elif var.ndim == 0 and var.dtype.kind in "fiub":
            lines.append(f"{name} = {var.item():.4g}")
    return lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])


def _params_line(params_json: str, width: int = 100) -> str:
    try:
        params = json.loads(params_json)
    except ValueError:
        return params_json[:width]
    text = json.dumps(params, sort_keys=True, separators=(", ", ": "))
    return text if len(text) <= width else text[:width - 3] + "..."


def describe(path: str | Path) -> str:
    """``learnscope show`` of one .nc file: kind, dims, variables, provenance and key numbers."""
    ds = read_netcdf(path)
    kind = kind_of(ds)
    if kind is not None:
        ds = store.read(path, kind)  # schema and checksum checked
    lines = [f"{path}: learnscope {kind or 'unknown kind of'} file"
             + (f" of run {ds.attrs['run']}" if "run" in ds.attrs else "")
             + (f" of study {ds.attrs['study']}" if "study" in ds.attrs else ""),
             "dims: " + ", ".join(f"{d} {n}" for d, n in ds.sizes.items())]
    variables = [f"{name}({', '.join(var.dims)})" for name, var in ds.data_vars.items()]
    lines.append(f"variables ({len(variables)}): " + ", ".join(variables[:12])
                 + (f", ... and {len(variables) - 12} more" if len(variables) > 12 else ""))
    if "learnscope_version" in ds.attrs:
        inputs = json.loads(ds.attrs.get("inputs_json", "{}"))
        lines.append(f"provenance: learnscope {ds.attrs['learnscope_version']}, format "
                     f"{ds.attrs.get('learnscope_format')}, {len(inputs)} input file(s) hashed, "
                     f"content sha256 {str(ds.attrs.get('content_sha256', ''))[:12]}")
        lines.append(f"params: {_params_line(ds.attrs.get('params_json', '{}'))}")
    numbers = key_numbers(ds)
    if numbers:
        lines.append("key numbers:")
        lines += [f"  {line}" for line in numbers]
    return "\n".join(lines)


def describe_run(run: str | Path, root: str | Path = ".") -> str:
    """``learnscope show RUN``: the run's files with their sizes, its params and final curves."""
    folder = run_dir(run, root)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    curves = store.read(folder / "curves.nc", "curves")
    lines = [f"run {curves.attrs['run']} ({folder})",
             "files: " + ", ".join(f"{p.name} ({p.stat().st_size / 1e3:,.0f} kB)" for p in files),
             f"params: {_params_line(curves.attrs['params_json'], 300)}", "final curves:"]
    lines += [f"  {line}" for line in key_numbers(curves)]
    return "\n".join(lines)


def final_values(curves: xr.Dataset) -> dict[str, float]:
    """The last value of each curve of a run's curves.nc (NaN where it never evaluated one)."""
    return {name: float(curves[name][-1]) if curves.sizes["step"] else float(np.nan) for name in store.CURVES}
