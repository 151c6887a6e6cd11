"""A full or read-only disk: a StoreError naming the file and the real cause, the previous
complete file kept, no temporary file left behind.

Real failures, not mocks: each check runs a child Python in a private mount namespace
(``unshare -rm``, which needs no privileges) on a 200 KiB tmpfs, where writes really get
ENOSPC, then on the same tmpfs remounted read-only (EROFS). Both the netCDF writer (whose
HDF5 library hides errno) and the plain byte writers (JSON, text, PNG) are exercised.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import json, os, sys
    import numpy as np, xarray as xr
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from learnscope import store
    from learnscope.errors import StoreError

    folder, mode = sys.argv[1], sys.argv[2]

    def curves(n):
        rng = np.random.default_rng(0)  # random floats: they do not compress below 200 KiB
        return xr.Dataset({k: ("step", rng.random(n), {"long_name": k}) for k in store.CURVES},
                          coords={"step": np.arange(n)}, attrs={"run": "r"})

    def figure():
        fig = plt.figure()
        fig.add_subplot().imshow(np.random.default_rng(0).random((400, 400)))
        return fig

    writers = {"c.nc": lambda p, big: store.write(curves(50_000 if big else 10), p, "curves", "{}"),
               "m.json": lambda p, big: store.write_json({"x": list(range(100_000 if big else 3))}, p),
               "t.txt": lambda p, big: store.write_text("x" * (400_000 if big else 3), p),
               "f.png": lambda p, big: store.save_figure(figure() if big else plt.figure(), p)}
    for name, write in writers.items():
        write(os.path.join(folder, name), False)  # the previous, complete file
    before = {name: open(os.path.join(folder, name), "rb").read() for name in writers}
    if mode == "ro":
        os.system(f"mount -o remount,ro {folder}")
    report = {}
    for name, write in writers.items():
        path = os.path.join(folder, name)
        try:
            write(path, True)
            message = None
        except StoreError as e:
            message = str(e)
        report[name] = {"path": path, "message": message, "kept": open(path, "rb").read() == before[name]}
    report["files"] = sorted(os.listdir(folder))
    print(json.dumps(report))
""")


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt || mount -t tmpfs tmpfs /tmp"],
                          capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _unshare_works(),
                                reason="needs `unshare -rm` (user + mount namespaces) to mount a tiny tmpfs")


def _run_on_tiny_tmpfs(tmp_path, mode: str) -> dict:
    folder = tmp_path / "disk"
    folder.mkdir()
    script = 'mount -t tmpfs -o size=200k tmpfs "$1" && exec "$2" -c "$3" "$1" "$4"'
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", str(folder), sys.executable, CHILD, mode],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode, cause", [("full", "no space left on device"), ("ro", "read-only file system")])
def test_a_failed_write_names_the_file_and_the_cause_and_keeps_the_previous_file(tmp_path, mode, cause):
    report = _run_on_tiny_tmpfs(tmp_path, mode)
    print(f"\n{mode}: " + "\n".join(f"{name}: {r['message']}" for name, r in report.items() if name != "files"))
    for name in ("c.nc", "m.json", "t.txt", "f.png"):
        result = report[name]
        assert result["message"] is not None, f"{name}: the write did not fail"
        assert result["message"].startswith(f"{result['path']}: ") and cause in result["message"].lower(), result
        assert result["kept"], f"{name}: the previous file changed"
    assert report["files"] == ["c.nc", "f.png", "m.json", "t.txt"]  # no temporary file left
