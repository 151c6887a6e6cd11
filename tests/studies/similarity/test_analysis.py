"""The similarity study's table, metrics and claims on planted representations whose answers
are known: two tasks whose seeds are small perturbations of one network each, checkpoints
that approach (or leave) their final network, and a second input space with one task."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from learnscope.studies.similarity import analysis, figures, metrics
from learnscope.studies.similarity.config import SimilarityConfig
from learnscope.studies.similarity.sources import probe_sha256

STEPS = np.array([0, 10, 50, 60, 100])
CFG = SimilarityConfig(sources={"parity": ("a", "b")}, lams=(0.0, 0.1, 1.0), lam=1.0, n_targets=8)


def _run(name, source, task, seed, space, probe, W, rng, towards=True):
    """Hidden layer tanh(probe W + seed noise) at the last step; earlier checkpoints move away
    from it (towards=True: the distance to the final one falls with the step) or towards it."""
    final = np.tanh(probe @ W + 0.05 * rng.standard_normal((len(probe), W.shape[1])))
    drift = rng.standard_normal(final.shape)
    weight = (1 - STEPS / STEPS[-1]) if towards else (STEPS / STEPS[-1]) * (STEPS < STEPS[-1])
    hidden = np.stack([final + w * drift for w in weight]).astype(np.float32)
    ds = xr.Dataset({"hidden_0": (("step", "sample", "unit_0"), hidden, {"long_name": "h"}),
                     "probe": (("sample", "input"), probe, {"long_name": "p"})}, coords={"step": STEPS})
    ds.attrs.update(run=name, source_study=source, task_name=task, task_json=f'{{"task": "{task}"}}', width=W.shape[1],
                    seed=seed, space=space, final_step=100, probe_sha256=probe_sha256(probe))
    return {"representations": ds}


def planted(towards=True):
    rng = np.random.default_rng(0)
    cube = np.sign(rng.standard_normal((80, 6))).astype(np.float32)
    pairs = np.eye(9, dtype=np.float32)[:, :6]
    Wa, Wb, Wt = rng.standard_normal((6, 10)), rng.standard_normal((6, 10)), rng.standard_normal((6, 7))
    runs = {}
    for seed in range(3):
        for task, W in (("a", Wa), ("b", Wb)):
            name = f"parity-{task}-w10-s{seed}"
            runs[(name,)] = _run(name, "parity", task, seed, "hypercube_6", cube, W, rng, towards)
    for seed in range(2):
        name = f"algebra-t-w7-s{seed}"
        runs[(name,)] = _run(name, "algebra", "t", seed, "pairs_3", pairs, Wt, rng, towards)
    return runs


@pytest.fixture(scope="module")
def summary():
    return analysis.summarise("similarity", CFG, planted())


def test_distances_only_within_a_space_and_symmetric(summary):
    g = summary["gulp"].values
    space = summary["space"].values
    across = space[:, None] != space[None, :]
    assert np.isnan(g[across]).all() and np.isfinite(g[~across]).all()
    np.testing.assert_allclose(g, np.transpose(g, (1, 0, 2)))
    assert (np.diagonal(g[:, :, 0]) == 0).all()
    assert list(summary["run"].values[:4]) == [f"parity-a-w10-s{s}" for s in range(3)] + ["parity-b-w10-s0"]


def test_planted_answers(summary):
    m = metrics.metrics(summary)
    assert m["same_task_closer_frac"] == 1.0  # seeds of one task are perturbations of one network
    assert m["converges_over_training"] == 1.0
    assert m["triangle_violations"] == 0 and m["gulp_identity_err"] < 1e-8 and m["ridge_gap_bounded"] is True
    assert summary["informative"].values.tolist() == [1, 1, 1, 1, 1, 1, 0, 0]
    np.testing.assert_allclose(summary["same_task_chance"].values[:6], 2 / 5)  # 2 of the 5 others share the task
    assert m["detail"]["converges_chance"] == pytest.approx(0.5)  # 50 and 60 in the last half: 1/2!
    verdicts = {c.key: c.verdict for c in metrics.claims(summary)}
    assert verdicts["same_task_closer_frac"] == verdicts["converges_over_training"] == "holds"
    assert verdicts["ridge_gap_bounded"] == verdicts["triangle_violations"] == verdicts["gulp_identity_err"] == "holds"


def test_checkpoints_that_leave_their_final_network_do_not_converge():
    m = metrics.metrics(analysis.summarise("similarity", CFG, planted(towards=False)))
    assert m["converges_over_training"] == 0.0


def test_a_different_probe_set_on_one_space_is_refused():
    runs = planted()
    ds = runs[("algebra-t-w7-s1",)]["representations"]
    ds.attrs["probe_sha256"] = "0" * 64
    with pytest.raises(Exception, match="different probe sets"):
        analysis.summarise("similarity", CFG, runs)


def test_every_figure_renders(summary):
    for name, make in figures.FIGURES.items():
        fig = make(summary)
        assert fig.axes, name
