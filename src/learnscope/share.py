"""``python -m learnscope.share pull``: ``dvc pull`` that names what it could not get
(``make pull``).

When an object is missing from the remote, DVC reports only its md5 ("failed to transfer
'0872bc...'"). After a failed pull this looks each output of dvc.lock up in the local
cache (a directory output through its ``.dir`` file list) and names every file that is on
neither this machine nor the remote, e.g. ``results/runs/<run>/checkpoints.nc``; ``make
run`` rebuilds them. DVC does not keep the file list of a directory it could not fetch
whole, so the list is read from the remote when the remote is a local folder (the
default); for a cloud remote the directory itself is named.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

LOCK = "dvc.lock"


def _cached(cache: Path, md5: str) -> Path:
    return cache / "files" / "md5" / md5[:2] / md5[2:]


def _outputs(root: Path) -> list[dict]:
    stages = yaml.safe_load((root / LOCK).read_text())["stages"]
    return [out for stage in stages.values() for key in ("outs", "metrics") for out in stage.get(key, [])]


def missing_files(root: Path, cache: Path, remote: Path | None = None) -> list[str]:
    """Files recorded in dvc.lock that are neither in the workspace nor in the local cache,
    by path. ``remote``: a local DVC remote to read directories' file lists from."""
    missing = []
    for out in _outputs(root):
        md5, path = out.get("md5"), out["path"]
        if md5 is None or (root / path).is_file():  # e.g. results/metrics.json, kept in git
            continue
        if not md5.endswith(".dir"):
            missing += [] if _cached(cache, md5).exists() else [path]
            continue
        lists = [_cached(folder, md5) for folder in (cache, remote) if folder is not None]
        manifest = next((p for p in lists if p.exists()), None)
        if manifest is None:
            missing.append(f"{path}/ (a directory: its file list is not on this machine)")
            continue
        missing += [f"{path}/{entry['relpath']}" for entry in json.loads(manifest.read_text())
                    if not _cached(cache, entry["md5"]).exists()]
    return sorted(missing)


def _dvc(root: Path, *args: str) -> str:
    return subprocess.run(["dvc", *args], cwd=root, capture_output=True, text=True).stdout.strip()


def local_remote(root: Path) -> Path | None:
    """The default DVC remote's folder when it is a local one, else None."""
    name = _dvc(root, "remote", "default")
    rows = [line.split() for line in _dvc(root, "remote", "list").splitlines()]  # name, url[, (default)]
    url = {row[0]: row[1] for row in rows if len(row) >= 2}.get(name, "").removeprefix("file://")
    return Path(url).expanduser() if url and "://" not in url else None


def pull(root: Path = Path(".")) -> int:
    """``dvc pull``; on failure, print the missing files' paths. The exit status of dvc."""
    code = subprocess.call(["dvc", "pull"], cwd=root)
    if code == 0:
        return 0
    cache = Path(_dvc(root, "cache", "dir"))
    missing = missing_files(root, cache if cache.is_absolute() else root / cache, local_remote(root))
    if missing:
        shown = "\n  ".join(missing[:20]) + (f"\n  ... and {len(missing) - 20} more" if len(missing) > 20 else "")
        print(f"learnscope: {len(missing)} file(s) are on neither this machine nor the DVC remote:\n  {shown}\n"
              "DVC checks out nothing of a folder that lacks a file: ask whoever shared the results to "
              "`make share` again, or `make run` to recompute what is missing", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["pull"]:
        print("usage: python -m learnscope.share pull", file=sys.stderr)
        return 2
    return pull()


if __name__ == "__main__":
    sys.exit(main())
