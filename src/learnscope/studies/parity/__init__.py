"""Study ``parity``: the Neural Feature Ansatz on a trained MLP's first layer, and AGOP-guided
trees that find a sparse parity's hidden support (see ``analysis``)."""

from learnscope.studies.base import Study
from learnscope.studies.plots import Curve
from learnscope.studies.parity import analysis, figures
from learnscope.studies.parity.config import ParityConfig


class ParityStudy(Study):
    config_type = ParityConfig
    figure_claims = figures.CLAIMS  # before `figures` is rebound to the dict below
    figures = figures.FIGURES
    plots = {
        "test_loss.csv": Curve("curve_test_loss", "eval_step", "step", "test loss",
                               "sparse parity: test loss of the widest network (first task)",
                               at=(("task", 0), ("width", -1))),
        "nfa_corr.csv": Curve("nfa_corr_curve", "step", "step", "NFA correlation",
                              "NFA correlation over training, widest network (first task)",
                              at=(("task", 0), ("width", -1))),
    }

    summarise = staticmethod(analysis.summarise)
    metrics = staticmethod(analysis.metrics)
    claims = staticmethod(analysis.claims)

    def summary_variables(self, cfg):
        run = ("task", "width", "seed")
        return {"test_acc": run, "nfa_corr": run, "nfa_corr_init": run, "nfa_corr_curve": (*run, "step"),
                "nfa_corr_init_curve": (*run, "step"), "dw_stable_rank": (*run, "step"),
                "train_loss": (*run, "step"), "test_loss": (*run, "step"), "curve_train_loss": (*run, "eval_step"),
                "curve_test_loss": (*run, "eval_step"), "tree_fidelity": (*run, "variant", "depth"),
                "support_recovered": (*run, "variant"), "support_chance": ("task",),
                "agop_final": ("task", "in_a", "in_b"), "nfm_final": ("task", "in_a", "in_b")}


STUDY = ParityStudy()
