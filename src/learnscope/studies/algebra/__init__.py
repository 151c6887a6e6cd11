"""Study ``algebra``: margins, Fourier and irreps features and grokking on algebraic tasks
(Morwani et al. 2024; Nanda et al. 2023; Chughtai et al. 2023; Power et al. 2022; see ``analysis``)."""

from learnscope.studies.algebra import analysis, figures
from learnscope.studies.algebra import metrics as algebra_metrics
from learnscope.studies.algebra.config import AlgebraStudyConfig
from learnscope.studies.base import Study
from learnscope.studies.plots import Curve


class AlgebraStudy(Study):
    config_type = AlgebraStudyConfig
    run_artefacts = ("curves.nc", "features.nc")
    measures = ("group",)
    figure_claims = figures.CLAIMS  # before `figures` is rebound to the dict below
    figures = figures.FIGURES
    plots = {
        "grokking.csv": Curve("grokking_test_acc", "grokking_eval", "step", "accuracy",
                              "grokking: test accuracy (median, range over seeds) and train accuracy (median)",
                              x_values="grokking_eval_step", references=(("train", "grokking_train_acc"),)),
    }

    summarise = staticmethod(analysis.summarise)
    metrics = staticmethod(algebra_metrics.metrics)
    claims = staticmethod(algebra_metrics.claims)

    def summary_variables(self, cfg):
        out = {}
        for r in cfg.experiments:
            out |= {f"{r}_{key}": ("seed", f"{r}_eval") for key in ("train_acc", "test_acc", "train_loss", "test_loss")}
            if r == "parity":
                out |= {"parity_support_frac": ("seed", "parity_snapshot"), "parity_support_chance": ()}
                continue
            out |= {f"{r}_{key}": ("seed", f"{r}_snapshot") for key in ("best_frac", "coverage", "clean_coverage")}
            out |= {f"{r}_{key}": () for key in ("chance_best_frac", "chance_coverage", "chance_clean_coverage")}
            out |= {f"{r}_energy_frac": ("seed", f"{r}_unit", f"{r}_irrep"), f"{r}_active": ("seed", f"{r}_unit"),
                    f"{r}_train_reach_step": ("seed",), f"{r}_test_reach_step": ("seed",)}
        return out


STUDY = AlgebraStudy()
