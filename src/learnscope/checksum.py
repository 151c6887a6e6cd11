"""A sha256 of a Dataset's contents that is the same before writing and after reading back.

Covers every variable (data variables and coordinates, sorted by name: name, dims, dtype,
shape and raw C-order little-endian bytes) and every attribute (the dataset's and each
variable's, sorted by name), except the checksum attr itself and netCDF's reserved
``_``-attrs (xarray moves those into ``encoding`` on reading). Strings hash as UTF-8 text
and every NaN as the one canonical NaN, because netCDF reads strings back as objects and
masked fill values as ``np.nan``; an empty array hashes by its shape alone (netCDF reads an
empty string coordinate back as float64). Deterministic: it adds no time, host or path to a file.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import xarray as xr

from learnscope.errors import StoreError

CHECKSUM_ATTR = "content_sha256"


def content_sha256(ds: xr.Dataset) -> str:
    """Hex sha256 of ``ds``'s variables and attrs (see the module docstring)."""
    digest = hashlib.sha256()
    _update_attrs(digest, ds.attrs)
    for name in sorted(ds.variables, key=str):
        var = ds.variables[name]
        _update_text(digest, f"variable {name} {','.join(map(str, var.dims))}")
        _update_array(digest, var.values)
        _update_attrs(digest, var.attrs)
    return digest.hexdigest()


def verify_checksum(ds: xr.Dataset, path: str | os.PathLike) -> None:
    """Raise StoreError naming ``path`` unless ``ds`` (as read from it) matches its checksum attr."""
    stored = ds.attrs.get(CHECKSUM_ATTR)
    if stored is None:
        raise StoreError(f"{path}: missing attribute '{CHECKSUM_ATTR}': it is not a complete learnscope file; "
                         "delete it and rerun `make run`")
    if stored != content_sha256(ds):
        raise StoreError(f"{path}: content checksum mismatch: the file is corrupted; delete it and rerun `make run`")


def _update_text(digest, text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    digest.update(len(data).to_bytes(8, "little"))
    digest.update(data)


def _update_array(digest, values) -> None:
    a = np.asarray(values)
    if a.size == 0:  # netCDF gives an empty string coordinate back as float64
        _update_text(digest, f"empty {a.shape}")
        return
    if a.dtype.kind in "OUST":  # fixed-width, variable-length and object strings alike
        _update_text(digest, f"str {a.shape}")
        for item in a.ravel().tolist():
            _update_text(digest, item.decode("utf-8", "surrogateescape") if isinstance(item, bytes) else str(item))
        return
    a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
    if a.dtype.kind in "fc" and np.isnan(a).any():
        a = a.copy()
        a[np.isnan(a)] = np.nan
    _update_text(digest, f"{a.dtype.str} {a.shape}")
    digest.update(a.tobytes())


def _update_attrs(digest, attrs: dict) -> None:
    for key in sorted(k for k in attrs if k != CHECKSUM_ATTR and not str(k).startswith("_")):
        _update_text(digest, f"attr {key}")
        _update_array(digest, np.ravel(attrs[key]))  # a one-element list reads back as a scalar
