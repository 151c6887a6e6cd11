"""Files written whole or not at all, and read whole, with the operating system's own error.

Every file is written to a temporary name in its destination's folder, fsync'd and renamed
onto the destination, so a reader sees the previous complete file or the new one, never a
part, and a failure leaves no temporary file behind. Failures raise ``StoreError`` naming
the file and the real cause from errno ("No space left on device", "Read-only file
system", "Permission denied"). netCDF/HDF5 reports any failed write as "NetCDF: HDF
error", hiding errno, so the temporary file is first created with plain Python I/O (a
read-only or forbidden folder fails there, with its errno) and, when the netCDF write then
fails, the disk is probed with a plain write to the same file (a full disk fails there).
(HDF5's in-memory images would give errno directly, but netCDF-C stamps their root group
with the time, so their bytes would change from one second to the next.)

Reading loads a file's bytes with Python I/O and decodes them in memory: a missing file,
a folder or an unreadable one gets its own message, and no reader ever executes code.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
from pathlib import Path
from typing import Callable

import xarray as xr

from learnscope import faults
from learnscope.errors import StoreError

_FIXES = {errno.ENOSPC: "free disk space and rerun", errno.EDQUOT: "free disk space (quota) and rerun",
          errno.EROFS: "write to a writable file system and rerun",
          errno.EACCES: "make the folder writable and rerun", errno.EPERM: "make the folder writable and rerun"}
_PROBE_BYTES = 1 << 20


def write_file(path: str | os.PathLike, write_tmp: Callable[[Path], None], what: str = "file") -> None:
    """Call ``write_tmp(tmp)`` to write a temporary file beside ``path``, fsync it and
    rename it onto ``path``. StoreError naming ``path`` and errno's reason if the disk
    refuses; an error of ``write_tmp`` that is not the disk's propagates unchanged.
    ``what`` (the kind of file) names the failpoints ``store.replace.<what>`` (written, not
    yet renamed) and ``store.written.<what>`` (``learnscope.faults``)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        open(tmp, "wb").close()  # a read-only or forbidden folder fails here, with its errno
        try:
            write_tmp(tmp)
        except Exception as e:
            if not isinstance(e, OSError) or not e.errno or e.errno < 0:  # netCDF's own codes hide errno
                _probe(tmp)
            raise
        _fsync(tmp, os.O_RDWR)  # delayed allocation: a full disk may only say so now
        faults.point(f"store.replace.{what}")
        os.replace(tmp, path)
        with contextlib.suppress(OSError):  # some file systems cannot fsync a folder; harmless
            _fsync(path.parent, os.O_RDONLY)
    except OSError as e:
        fix = _FIXES.get(e.errno, "check the disk and rerun")
        raise StoreError(f"{path}: cannot write ({e.strerror or e}): {fix}; "
                         "the previous file, if any, is unchanged") from None
    finally:
        with contextlib.suppress(OSError):  # already gone after the rename
            tmp.unlink()
    faults.point(f"store.written.{what}")


def write_bytes(path: str | os.PathLike, data: bytes, what: str = "file") -> None:
    """Write ``data`` to ``path`` atomically (``write_file``)."""
    write_file(path, lambda tmp: tmp.write_bytes(data), what)


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike, encoding: dict[str, dict], what: str = "netcdf") -> None:
    """Write ``ds`` as a netCDF4 file atomically (``write_file``); same dataset, same bytes."""
    write_file(path, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=encoding), what)


def _probe(tmp: Path) -> None:
    """Append 1 MiB to ``tmp`` and fsync: raises the OSError of a full or failing disk."""
    with open(tmp, "ab") as f:
        f.write(bytes(_PROBE_BYTES))
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_bytes(path: str | os.PathLike) -> bytes:
    """The whole file; StoreError naming ``path`` if it is missing, a folder or unreadable."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise StoreError(f"{path}: no such file; run `make run` to create it") from None
    except IsADirectoryError:
        raise StoreError(f"{path}: is a folder, not a file; delete it and rerun `make run`") from None
    except OSError as e:
        raise StoreError(f"{path}: cannot read ({e.strerror or e}); fix its permissions or delete it "
                         "and rerun `make run`") from None


def read_netcdf(path: str | os.PathLike) -> xr.Dataset:
    """Load a whole netCDF4 file into memory; StoreError naming ``path`` if it cannot be
    read or decoded (netCDF/HDF5 raise OSError, RuntimeError, ValueError, ... on bad bytes)."""
    data = read_bytes(path)
    try:
        with xr.open_dataset(data, engine="netcdf4") as ds:
            return ds.load()
    except Exception as e:  # noqa: BLE001 - any decoding failure means a damaged or foreign file
        cause = e.strerror if isinstance(e, OSError) and e.strerror else e  # not netCDF's in-memory name
        error = StoreError(f"{path}: not a readable netCDF4 file ({type(e).__name__}: {cause}); "
                           "delete it and rerun `make run`")
    # A failed open leaves xarray's file manager in a reference cycle (through the traceback).
    # Collected later, inside another read that holds netCDF's (non-reentrant) lock, its close()
    # waits for that lock forever: collect it now, outside the lock.
    gc.collect()
    raise error from None
