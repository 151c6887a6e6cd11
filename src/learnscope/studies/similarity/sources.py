"""The similarity study's sources job: every compared run's hidden layers on its input
space's probe set, at the chosen snapshots, one representations file per run
(``store.representations_path``)."""

from __future__ import annotations

import hashlib
import logging

import numpy as np

from learnscope import store
from learnscope.config import to_json
from learnscope.representations import input_space, probe_inputs, representations, snapshot_positions
from learnscope.runspec import RunSpec
from learnscope.studies.similarity.config import SimilarityConfig

log = logging.getLogger(__name__)


def probe_sets(cfg: SimilarityConfig, specs: list[RunSpec]) -> dict[str, np.ndarray]:
    """Input space -> its probe inputs (one per space, shared by every run on it)."""
    return {input_space(spec.task): probe_inputs(spec.task, cfg.n_probe, cfg.seed) for spec in specs}


def probe_sha256(probe: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(probe, dtype=np.float32).tobytes()).hexdigest()


def write_representations(cfg: SimilarityConfig, specs: list[RunSpec], checkpoints: list[str],
                          out_paths: list[str], inputs: list[str]) -> None:
    """Read each run's checkpoints (``checkpoints[i]`` is ``specs[i]``'s) and write its hidden
    layers on the probe set of its input space to ``out_paths[i]``.

    Each file's provenance names its own checkpoints and the code, not the other runs' files,
    so adding a run leaves the others' bytes unchanged.
    """
    probes = probe_sets(cfg, specs)
    for spec, path, out in zip(specs, checkpoints, out_paths, strict=True):
        ckpt = store.read(path, "checkpoints", expect={"run": spec.name})
        space = input_space(spec.task)
        positions = snapshot_positions(ckpt["step"].values, cfg.snapshots)
        ds = representations(spec, ckpt, probes[space], positions)
        ds["probe"] = (("sample", "input"), probes[space], {"long_name": f"probe inputs of the space {space}"})
        ds.attrs.update(source_study=spec.study, task_name=spec.task_name, task_json=to_json(spec.task),
                        width=spec.width, seed=spec.seed, space=space, final_step=int(ckpt["step"].values[-1]),
                        probe_sha256=probe_sha256(probes[space]))
        made_with = {"run": spec, "n_probe": cfg.n_probe, "snapshots": cfg.snapshots, "seed": cfg.seed}
        store.write(ds, out, "representations", to_json(made_with), store.own_inputs(inputs, path, checkpoints))
        log.info("%s: %d snapshots x %d probe inputs of %s", spec.name, len(positions), len(probes[space]), space)
