"""The algebra study's headline metrics (learnscope.studies.algebra.metrics) on planted
summaries: the grokking delay (first step at the accuracy threshold, test ÷ train, median
over seeds) and the margin ratio (final normalised margin ÷ the maximum γ*, median over seeds)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from learnscope.models.mlp import MLPConfig
from learnscope.runspec import TrainConfig
from learnscope.studies.algebra.analysis import summarise
from learnscope.studies.algebra.config import AlgebraExperiment, AlgebraStudyConfig
from learnscope.studies.algebra.metrics import grok_steps, metrics
from learnscope.tasks.algebra import ModularAddition

IRREPS = ["trivial", "rot1", "rot2"]  # C_5's real irreps
N_SNAP, N_UNIT = 3, 4
GAMMA = 0.0125  # a planted maximum normalised margin γ*


def _table_block(role: str, final_margin_ratio: list[float] | None) -> tuple[dict, dict, dict]:
    """Variables, coords and attrs of a group-table experiment (margin, contrast, irreps):
    every unit in irrep 1; if ``final_margin_ratio`` is given, a normalised margin rising
    to ratio x γ* at the last snapshot (−0.5 γ* and 0.2 γ* before) and γ* itself."""
    n_seed = 3 if final_margin_ratio is None else len(final_margin_ratio)
    energy = np.zeros((n_seed, N_UNIT, len(IRREPS)))
    energy[..., 1] = 1.0
    variables = {
        f"{role}_best_frac": (("seed", f"{role}_snapshot"), np.full((n_seed, N_SNAP), 0.5)),
        f"{role}_coverage": (("seed", f"{role}_snapshot"), np.full((n_seed, N_SNAP), 0.5)),
        f"{role}_chance_best_frac": ((), 0.4),
        f"{role}_energy_frac": (("seed", f"{role}_unit", f"{role}_irrep"), energy),
        f"{role}_active": (("seed", f"{role}_unit"), np.ones((n_seed, N_UNIT), dtype=np.int8)),
    }
    if final_margin_ratio is not None:
        ratio = np.array(final_margin_ratio)[:, None]
        variables[f"{role}_normalised_margin"] = (("seed", f"{role}_snapshot"),
                                                  GAMMA * np.hstack([np.full_like(ratio, -0.5),
                                                                     np.full_like(ratio, 0.2), ratio]))
        variables[f"{role}_max_margin"] = ((), GAMMA)
    coords = {f"{role}_irrep": (f"{role}_irrep", np.array(IRREPS, dtype=object)),
              f"{role}_snapshot_step": (f"{role}_snapshot", [0, 500, 1000])}
    return variables, coords, {f"{role}_task": f"the {role} task"}


def _grokking_block(train_reach: list[float], test_reach: list[float]) -> tuple[dict, dict, dict]:
    n_seed = len(train_reach)
    frac = np.zeros((n_seed, N_SNAP, len(IRREPS)))
    frac[..., 2] = 1.0
    variables = {"grokking_train_reach_step": ("seed", np.array(train_reach, dtype=float)),
                 "grokking_test_reach_step": ("seed", np.array(test_reach, dtype=float)),
                 "grokking_test_acc": (("seed", "grokking_eval"), np.full((n_seed, 2), 0.5)),
                 "grokking_embed_irrep_frac": (("seed", "grokking_snapshot", "grokking_irrep"), frac)}
    coords = {"grokking_irrep": ("grokking_irrep", np.array(IRREPS, dtype=object)),
              "grokking_eval_step": ("grokking_eval", [0, 100])}
    return variables, coords, {"grokking_task": "the grokking task"}


def _summary(*blocks: tuple[str, tuple[dict, dict, dict]]) -> xr.Dataset:
    variables, coords = {}, {}
    attrs = {"accuracy_threshold": 0.99, "active_fraction": 0.1,
             "experiments": ",".join(role for role, _ in blocks)}
    for _, (v, c, a) in blocks:
        variables |= v
        coords |= c
        attrs |= a
    return xr.Dataset(variables, coords=coords, attrs=attrs)


# Per seed (train step, test step, ratio): (50, 4000, 80), (100, 5000, 50), (200, 3000, 15).
# Median of the ratios 50 (seed 1); their mean 48.3; ratio of the medians 4000 / 100 = 40.
TRAIN_REACH, TEST_REACH = [50.0, 100.0, 200.0], [4000.0, 5000.0, 3000.0]


def test_grok_delay_ratio_is_the_median_over_seeds_of_test_over_train_steps():
    out = metrics(_summary(("grokking", _grokking_block(TRAIN_REACH, TEST_REACH))))
    assert out["grok_delay_ratio"] == pytest.approx(50.0)
    grok = out["detail"]["grokking"]
    assert grok["delay_ratio_per_seed"] == pytest.approx([80.0, 50.0, 15.0])
    assert grok["train_reach_step_per_seed"] == TRAIN_REACH and grok["test_reach_step_per_seed"] == TEST_REACH
    assert grok["key_frequencies_per_seed"] == [["rot2"]] * 3  # all embedding energy planted in rot2


def test_a_seed_that_never_groks_is_null_and_left_out_of_the_median():
    """Seed 3's test accuracy never reaches the threshold (NaN step): its ratio is null, and
    the headline is the median of the other three (50), not of four with it as inf (65)."""
    out = metrics(_summary(("grokking", _grokking_block(TRAIN_REACH + [100.0], TEST_REACH + [np.nan]))))
    grok = out["detail"]["grokking"]
    assert grok["test_reach_step_per_seed"][3] is None
    assert grok["delay_ratio_per_seed"] == pytest.approx([80.0, 50.0, 15.0, None])
    assert out["grok_delay_ratio"] == pytest.approx(50.0)


def test_no_ratio_where_train_never_reaches_or_already_reached_at_step_0():
    summary = _summary(("grokking", _grokking_block([0.0, np.nan, 100.0], [300.0, 500.0, np.nan])))
    train, test, ratio = grok_steps(summary)
    np.testing.assert_array_equal(train, [0.0, np.nan, 100.0])
    np.testing.assert_array_equal(test, [300.0, 500.0, np.nan])
    assert np.isnan(ratio).all()
    assert metrics(summary)["grok_delay_ratio"] is None


def _curve(steps: np.ndarray, reach: float) -> np.ndarray:
    """Accuracy rising to 0.98 just before ``reach``, exactly the threshold 0.99 at it, then 1
    (NaN ``reach``: never above 0.98)."""
    if np.isnan(reach):
        return 0.98 * steps / steps[-1]
    return np.where(steps < reach, 0.98 * steps / reach, np.where(steps == reach, 0.99, 1.0))


def test_grok_delay_from_planted_accuracy_curves_through_summarise():
    """Train accuracy reaches 0.99 at steps 50, 100, 200, 100 and test accuracy at 4000,
    5000, 3000 and never: per-seed ratios 80, 50, 15, null; headline 50."""
    seeds = (0, 1, 2, 3)
    task = ModularAddition(p=5, train_fraction=0.5)
    cfg = AlgebraStudyConfig(seeds=seeds, grokking=AlgebraExperiment(
        task=task, model=MLPConfig(), width=N_UNIT, train=TrainConfig(lr=1e-3, steps=6000)))
    steps = np.arange(0, 6001, 50)
    snapshots = np.array([0, 3000, 6000])
    energy = np.zeros((len(snapshots), N_UNIT, len(IRREPS)))
    energy[:, :, 1] = 1.0
    runs = {}
    for seed, train_at, test_at in zip(seeds, TRAIN_REACH + [100.0], TEST_REACH + [np.nan]):
        curves = xr.Dataset({"train_acc": ("step", _curve(steps, train_at)),
                             "test_acc": ("step", _curve(steps, test_at)),
                             "train_loss": ("step", np.ones(len(steps))), "test_loss": ("step", np.ones(len(steps)))},
                            coords={"step": steps})
        features = xr.Dataset({"irrep_energy_embed": (("step", "unit", "irrep"), energy),
                               "margin": ("step", np.zeros(len(snapshots)))}, coords={"step": snapshots})
        runs["grokking", seed] = {"curves": curves, "features": features}
    out = metrics(summarise("algebra", cfg, runs))
    grok = out["detail"]["grokking"]
    assert grok["train_reach_step_per_seed"] == [50.0, 100.0, 200.0, 100.0]
    assert grok["test_reach_step_per_seed"] == [4000.0, 5000.0, 3000.0, None]
    assert grok["delay_ratio_per_seed"] == pytest.approx([80.0, 50.0, 15.0, None])
    assert out["grok_delay_ratio"] == pytest.approx(50.0)


def test_margin_ratio_is_the_median_final_normalised_margin_over_gamma_of_the_margin_experiment():
    """margin: final ratios 0.95, 0.80, 0.40 (median 0.80: not the mean 0.72, nor the first or
    last seed); contrast (plain L2): 0.10, 0.30, 0.20, reported in detail only."""
    summary = _summary(("margin", _table_block("margin", [0.95, 0.80, 0.40])),
                       ("contrast", _table_block("contrast", [0.10, 0.30, 0.20])))
    out = metrics(summary)
    assert out["margin_ratio"] == pytest.approx(0.80)
    margin = out["detail"]["margin"]
    assert margin["margin_ratio_per_seed"] == pytest.approx([0.95, 0.80, 0.40])
    assert margin["max_margin"] == GAMMA
    assert out["detail"]["contrast"]["margin_ratio"] == pytest.approx(0.20)
    assert out["detail"]["contrast"]["margin_ratio_per_seed"] == pytest.approx([0.10, 0.30, 0.20])


def test_margin_ratio_is_null_without_the_margin_experiment_or_its_max_margin():
    out = metrics(_summary(("grokking", _grokking_block(TRAIN_REACH, TEST_REACH))))
    assert out["margin_ratio"] is None and out["single_freq_frac"] is None
    assert "margin" not in out["detail"]
    # contrast has a margin ratio, but the headline is only ever the margin experiment's
    out = metrics(_summary(("contrast", _table_block("contrast", [0.10, 0.30, 0.20]))))
    assert out["margin_ratio"] is None
    assert out["detail"]["contrast"]["margin_ratio"] == pytest.approx(0.20)
    # a margin experiment without γ* (e.g. an even p) has no ratio
    out = metrics(_summary(("margin", _table_block("margin", None))))
    assert out["margin_ratio"] is None and "margin_ratio" not in out["detail"]["margin"]
    assert out["single_freq_frac"] == pytest.approx(0.5)
