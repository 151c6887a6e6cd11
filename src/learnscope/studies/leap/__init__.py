"""Study ``leap``: leap complexity, saddle-to-saddle dynamics and low-rank weight updates
(Abbe, Boix-Adsera, Misiakiewicz, COLT 2023; see ``analysis``)."""

from learnscope.studies.base import Study
from learnscope.studies.plots import Curve
from learnscope.studies.leap import analysis, figures
from learnscope.studies.leap import metrics as leap_metrics
from learnscope.studies.leap.config import LeapStudyConfig


class LeapStudy(Study):
    config_type = LeapStudyConfig
    run_artefacts = ("curves.nc", "features.nc")
    measures = ("fourier",)
    figure_claims = figures.CLAIMS  # before `figures` is rebound to the dict below
    figures = figures.FIGURES
    plots = {
        "test_loss.csv": Curve("test_loss", "eval", "fresh samples seen", "test loss",
                               "leap: test loss of the first target at the largest d (first c)",
                               at=(("target", 0), ("d", -1), ("c", 0)), x_values="eval_samples"),
    }

    summarise = staticmethod(analysis.summarise)
    metrics = staticmethod(leap_metrics.metrics)
    claims = staticmethod(leap_metrics.claims)

    def summary_variables(self, cfg):
        run = ("target", "d", "c", "seed")
        return {"leap": ("target",), "n_leaps": ("target",), "theory_exponent": ("target",),
                "samples_to_threshold": run, "initial_test_loss": run, "final_test_loss": run,
                "best_samples": ("target", "d", "seed"), "best_c": ("target", "d", "seed"),
                "slope": ("target", "seed"), "slope_median": ("target",), "test_loss": (*run, "eval"),
                "coord_mass": (*run, "snapshot", "coord"), "stable_rank": (*run, "snapshot"),
                "fourier": (*run, "snapshot", "monomial"), "monomial_name": ("target", "monomial"),
                "fourier_cross_samples": (*run, "monomial"), "n_drops": run, "drop_coords": (*run, "drop")}


STUDY = LeapStudy()
