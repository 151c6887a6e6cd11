"""The similarity study's table: distances between the trained networks of other studies
(Boix-Adsera, Lawrence, Stepaniants & Rigollet, "GULP: a prediction-based metric between
representations", NeurIPS 2022).

Each compared run is represented by its last hidden layer on the probe set of its input
space (``representations``); two runs are compared only on the same space. Everything is
computed from one SVD per representation (``learnscope.similarity``): the distance matrices
of the final networks (GULP at every λ, CKA, CCA, Procrustes), and GULP of every stored
checkpoint to its own final network. The known properties are checked on these very pairs
by independent routes (``checks``): the λ = 0 CCA identity, the triangle inequality and the
bound on ridge-predictor gaps.

Conventions: a run's "task" is its task's full configuration (the algebra study's sparse
parity and the parity study's are the same task when their fields agree); the nearest-run
claim counts only runs whose input space holds more than one task, where being nearest a
same-task run is not automatic.
"""

from __future__ import annotations

import json

import numpy as np
import scipy.stats
import xarray as xr

from learnscope import store
from learnscope.errors import StoreError
from learnscope.similarity import MEASURES, gulp_to, matrices_of_spectra, spectrum
from learnscope.studies.base import LoadedRuns
from learnscope.studies.similarity import checks
from learnscope.studies.similarity.config import SimilarityConfig

RUN_ATTRS = ("source_study", "task_name", "task_json", "width", "seed", "space", "final_step")
OTHER_MEASURES = MEASURES[1:]  # cka, cca, procrustes


def load(study: str, inputs: list[str]) -> LoadedRuns:
    """The representations files among the study job's ``inputs``, by (run,)."""
    prefix = store.representations_path(study, "").rsplit("/", 1)[0] + "/"
    files = sorted(p for p in map(str, inputs) if p.startswith(prefix) and p.endswith(".nc"))
    out = {}
    for path in files:
        ds = store.read(path, "representations")
        out[(str(ds.attrs["run"]),)] = {"representations": ds}
    return out


def last_hidden(ds: xr.Dataset) -> xr.DataArray:
    """The run's last hidden layer (step, sample, unit): the readout's input."""
    return ds[f"hidden_{sum(name.startswith('hidden_') for name in ds.data_vars) - 1}"]


def run_table(runs: LoadedRuns) -> list[dict]:
    """One row per run (its attrs and dataset), ordered by space, source, task, width and seed."""
    rows = [{"run": coords[0], "ds": files["representations"],
             **{key: files["representations"].attrs[key] for key in (*RUN_ATTRS, "probe_sha256")}}
            for coords, files in runs.items()]
    rows.sort(key=lambda r: (r["space"], r["source_study"], r["task_name"], int(r["width"]), int(r["seed"])))
    for space in {r["space"] for r in rows}:
        if len({r["probe_sha256"] for r in rows if r["space"] == space}) > 1:
            raise StoreError(f"representations of the space {space} were made on different probe sets; "
                             "delete results/studies/similarity/representations and rerun `make run`")
    return rows


def summarise(study: str, cfg: SimilarityConfig, runs: LoadedRuns) -> xr.Dataset:
    if not runs:
        raise StoreError(f"{study}: no representations to compare (similarity.sources names no run)")
    rows = run_table(runs)
    names = [r["run"] for r in rows]
    lams = np.asarray(cfg.lams, dtype=np.float64)
    spaces = np.array([r["space"] for r in rows])
    R, L = len(rows), len(lams)
    finals = [last_hidden(r["ds"]).values[-1] for r in rows]
    spectra = [spectrum(X) for X in finals]

    gulp = np.full((R, R, L), np.nan)
    other = np.full((len(OTHER_MEASURES), R, R), np.nan)
    for space in np.unique(spaces):
        idx = np.flatnonzero(spaces == space)
        mats = matrices_of_spectra([spectra[i] for i in idx], lams)
        gulp[np.ix_(idx, idx)] = mats["gulp"]
        for m, name in enumerate(OTHER_MEASURES):
            other[m][np.ix_(idx, idx)] = mats[name]
    pairs = [(i, j) for i in range(R) for j in range(i + 1, R) if spaces[i] == spaces[j]]
    data = {**_pair_checks(cfg, rows, finals, gulp, pairs, lams), **_convergence(rows, spectra, lams)}
    tasks = np.array([r["task_json"] for r in rows])
    same_task = (tasks[:, None] == tasks[None, :]).astype(np.int8)
    data.update(_nearest(gulp, spaces, tasks, same_task))
    data.update(_rank_correlations(gulp, other, pairs, cfg.seed))

    run = ("run",)
    variables = {
        "gulp": (("run_a", "run_b", "lam"), gulp, "GULP distance d_λ between final networks (NaN across spaces)"),
        "distance": (("measure", "run_a", "run_b"), other, "1 − CKA, mean-squared CCA distance, Procrustes distance"),
        "same_task": (("run_a", "run_b"), same_task, "1 where both runs were trained on the same task"),
        "width": (run, np.array([int(r["width"]) for r in rows]), "hidden width"),
        "seed": (run, np.array([int(r["seed"]) for r in rows]), "seed"),
        "task": (run, np.array([r["task_name"] for r in rows]), "task name in its source study"),
        "source": (run, np.array([r["source_study"] for r in rows]), "the study that trained the run"),
        "space": (run, spaces, "input space (probe set)"),
        "n_units": (run, np.array([X.shape[1] for X in finals]), "units of the compared (last hidden) layer"),
        "rank": (run, np.array([s.var.size for s in spectra]), "numerical rank of the preprocessed final representation"),
        **data,
    }
    ds = xr.Dataset({name: (dims, values, {"long_name": text}) for name, (dims, values, text) in variables.items()},
                    coords={"run": names, "run_a": names, "run_b": names, "lam": lams, "measure": list(OTHER_MEASURES)})
    ds.attrs.update(study=study, headline_lam=cfg.lam, n_probe=cfg.n_probe,
                    spaces_json=json.dumps({s: int((spaces == s).sum()) for s in np.unique(spaces)}, sort_keys=True))
    return ds


def _pair_checks(cfg: SimilarityConfig, rows: list[dict], finals: list[np.ndarray], gulp: np.ndarray,
                 pairs: list[tuple[int, int]], lams: np.ndarray) -> dict:
    """The λ = 0 identity, the triangle inequality and the ridge-gap bound on the study's pairs."""
    R, L = gulp.shape[0], len(lams)
    identity = np.full((R, R), np.nan)
    zero = list(lams).index(0.0)
    identity[tuple(np.array(pairs).T)] = checks.identity_errors(finals, gulp[:, :, zero], pairs) if pairs else []
    spaces = np.array([r["space"] for r in rows])
    violations, triples = np.zeros(L, dtype=np.int64), 0
    for space in np.unique(spaces):
        idx = np.flatnonzero(spaces == space)
        triples += len(idx) * (len(idx) - 1) * (len(idx) - 2)
        for l in range(L):
            violations[l] += checks.triangle_violations(gulp[np.ix_(idx, idx)][:, :, l])
    generator = np.random.default_rng(cfg.seed)
    targets = {s: checks.linear_targets(next(r["ds"]["probe"].values for r in rows if r["space"] == s),
                                        cfg.n_targets, generator) for s in sorted(set(spaces))}
    predictions = [checks.ridge_predictions(X, targets[r["space"]], lams) for X, r in zip(finals, rows)]
    gap_max, gap_mean = np.full((R, R, L), np.nan), np.full((R, R, L), np.nan)
    if pairs:
        pmax, pmean = checks.ridge_gaps(predictions, pairs)
        for p, (i, j) in enumerate(pairs):
            gap_max[i, j], gap_mean[i, j] = pmax[p], pmean[p]
    return {"identity_err": (("run_a", "run_b"), identity, "relative error of the λ = 0 CCA identity (pairs i < j)"),
            "triangle_violations": (("lam",), violations, "ordered triples breaking the triangle inequality"),
            "triangle_triples": ((), triples, "ordered triples of distinct runs on one space checked per λ"),
            "ridge_gap_max": (("run_a", "run_b", "lam"), gap_max,
                              "largest RMS gap between the two ridge-λ predictors over the random targets"),
            "ridge_gap_mean": (("run_a", "run_b", "lam"), gap_mean, "mean RMS gap over the random targets")}


def _convergence(rows: list[dict], spectra: list, lams: np.ndarray) -> dict:
    """GULP of each stored checkpoint to its own final network; whether it decreases over the
    second half of training, and the chance of that for distances in a random order."""
    S = max(r["ds"].sizes["step"] for r in rows)
    to_final = np.full((len(rows), S, len(lams)), np.nan)
    steps = np.full((len(rows), S), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        values = last_hidden(r["ds"]).values
        checkpoint_spectra = [spectrum(X) for X in values[:-1]] if values.shape[0] > 1 else []
        n = values.shape[0]
        to_final[i, :n - 1] = gulp_to(spectra[i], checkpoint_spectra, lams) if checkpoint_spectra else 0.0
        to_final[i, n - 1] = 0.0
        steps[i, :n] = r["ds"]["step"].values
    return {"gulp_to_final": (("run", "snapshot", "lam"), to_final, "GULP d_λ of a checkpoint to its run's final network"),
            "snapshot_step": (("run", "snapshot"), steps, "training step of the snapshot (-1: none)")}


def converges(to_final: np.ndarray, steps: np.ndarray) -> tuple[bool, float]:
    """Whether d to the final network is non-increasing over the snapshots of the second half
    of training (step ≥ final / 2, the final one included), and the chance of that order for
    the m non-final distances in a random order, 1/m!."""
    valid = steps >= 0
    late = valid & (steps >= steps[valid].max() / 2)
    d = to_final[late]
    return bool(np.all(np.diff(d) <= 1e-12 * max(d.max(), 1e-300))), 1.0 / float(np.prod(np.arange(1, late.sum())))


def _nearest(gulp: np.ndarray, spaces: np.ndarray, tasks: np.ndarray, same_task: np.ndarray) -> dict:
    """Per run and λ, the nearest other run on its space and whether it shares the run's task;
    a run is informative when its space holds another task; its chance is the fraction of the
    other runs on its space that share its task."""
    R, L = gulp.shape[0], gulp.shape[2]
    nearest = np.stack([checks.nearest_runs(gulp[:, :, l], spaces) for l in range(L)], axis=1)  # (R, L)
    hit = np.where(nearest >= 0, same_task[np.arange(R)[:, None], np.maximum(nearest, 0)], 0).astype(np.int8)
    on_space = spaces[:, None] == spaces[None, :]
    others = on_space.sum(1) - 1
    chance = np.where(others > 0, ((same_task == 1) & on_space).sum(1) - 1, 0) / np.maximum(others, 1)
    informative = np.array([len(set(tasks[spaces == s])) > 1 for s in spaces], dtype=np.int8)
    return {"nearest": (("run", "lam"), nearest, "index of the nearest other run on the same space (-1: none)"),
            "nearest_same_task": (("run", "lam"), hit, "1 where the nearest run was trained on the same task"),
            "same_task_chance": (("run",), chance, "fraction of the other runs on its space sharing its task"),
            "informative": (("run",), informative, "1 where the run's space holds more than one task")}


def _rank_correlations(gulp: np.ndarray, other: np.ndarray, pairs: list, seed: int, n_shuffles: int = 200) -> dict:
    """Spearman correlation across pairs between GULP_λ and each other measure, per λ, and its
    chance level: the 95th percentile of the correlation with the measure's pairs permuted
    (``n_shuffles`` seeded permutations)."""
    L = gulp.shape[2]
    corr, chance = np.full((L, len(OTHER_MEASURES)), np.nan), np.full((L, len(OTHER_MEASURES)), np.nan)
    if len(pairs) >= 3:
        i, j = np.array(pairs).T
        generator = np.random.default_rng(seed)
        shuffles = np.stack([generator.permutation(len(pairs)) for _ in range(n_shuffles)])  # (S, P)
        for l in range(L):
            g = scipy.stats.rankdata(gulp[i, j, l])
            for m in range(len(OTHER_MEASURES)):
                o = scipy.stats.rankdata(other[m, i, j])
                corr[l, m] = np.corrcoef(g, o)[0, 1]  # Spearman: Pearson of the ranks
                permuted = np.array([np.corrcoef(g, o[s])[0, 1] for s in shuffles])
                chance[l, m] = np.quantile(permuted, 0.95)
    return {"rank_corr": (("lam", "measure"), corr, "Spearman correlation across pairs of GULP_λ with the measure"),
            "rank_corr_chance": (("lam", "measure"), chance,
                                 "95th percentile of the correlation with the measure's pairs permuted")}
