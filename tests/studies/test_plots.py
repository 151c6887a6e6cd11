"""Each study's main curves as CSV tables for DVC plots (``studies/plots.py``), and dvc.yaml's
``plots`` section declaring exactly them."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
import yaml

from learnscope.studies import STUDIES
from learnscope.studies.plots import Curve, curve_table, dvc_plots
from pipeline_tools import REPO


def summary() -> xr.Dataset:
    loss = np.array([[[4.0, 2.0, 1.0, np.nan], [6.0, 3.0, 2.0, np.nan]],      # width 8: seeds 0, 1
                     [[2.0, 1.0, 0.5, np.nan], [3.0, 2.0, np.nan, np.nan]]])  # width 16
    return xr.Dataset({"loss": (("width", "seed", "eval"), loss),
                       "eval_step": (("width", "eval"), [[0, 10, 20, -1], [0, 10, 20, -1]]),
                       "theory": (("eval",), [5.0, 2.5, 1.25, 0.6])},
                      coords={"width": [8, 16], "seed": [0, 1], "model": ["mlp", "transformer"]})


def rows(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.splitlines()]


def test_a_curve_is_the_median_and_range_over_seeds_at_the_chosen_configuration():
    curve = Curve("loss", "eval", "step", "loss", "t", at=(("width", -1),), x_values="eval_step",
                  references=(("theory", "theory"),))
    assert rows(curve_table(summary(), curve)) == [
        ["eval_step", "median", "low", "high", "theory"],
        ["0", "2.5", "2", "3", "5"],
        ["10", "1.5", "1", "2", "2.5"],
        ["20", "0.5", "0.5", "0.5", "1.25"],  # one seed got there: its value; the padded step (-1) is left out
    ]
    assert curve_table(summary(), curve) == curve_table(summary(), curve)


def test_a_curve_by_label_and_an_absent_part_give_a_header_alone():
    ds = summary().assign(per_model=(("model", "eval"), [[1.0, 0.5, 0.25, 0.1], [2.0, 1.0, 0.5, 0.2]]))
    by_label = Curve("per_model", "eval", "i", "y", "t", at=(("model", "transformer"),))
    assert rows(curve_table(ds, by_label))[1] == ["0", "2", "2", "2"]  # no seed dimension: median = low = high
    absent = Curve("per_model", "eval", "i", "y", "t", at=(("model", "lstm"),))
    assert curve_table(ds, absent) == "eval,median,low,high\n"
    assert curve_table(ds, Curve("nosuch", "eval", "i", "y", "t")) == "eval,median,low,high\n"


def test_a_dimension_left_unfixed_is_refused():
    with pytest.raises(ValueError, match=r"dimensions \['width'\] are neither x, over nor fixed"):
        curve_table(summary(), Curve("loss", "eval", "i", "y", "t"))


def test_dvc_yaml_declares_every_studys_curves_and_nothing_else():
    declared = yaml.safe_load((REPO / "dvc.yaml").read_text())["plots"]
    assert declared == dvc_plots()
    assert len(declared) == sum(len(STUDIES[study].plots) for study in STUDIES) and all(
        STUDIES[study].plots for study in STUDIES)
