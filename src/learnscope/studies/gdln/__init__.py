"""Study ``gdln``: gated deep linear networks, the neural race reduction and systematic
generalisation (Saxe, Sodhani & Lewallen, ICML 2022; see ``analysis``)."""

from learnscope.studies.base import Study
from learnscope.studies.plots import Curve
from learnscope.studies.gdln import analysis, figures
from learnscope.studies.gdln.config import GdlnStudyConfig


class GdlnStudy(Study):
    config_type = GdlnStudyConfig
    run_artefacts = ("curves.nc", "features.nc")
    measures = ("gdln",)
    figure_claims = figures.CLAIMS  # before `figures` is rebound to the dict below
    figures = figures.FIGURES
    plots = {
        "loss.csv": Curve("train_loss", "epoch", "epoch", "loss on trained pairs",
                          "GDLN: simulated loss (first init scale) and the reduction's theory",
                          at=(("init_scale", 0),), references=(("theory", "theory_loss"),)),
        "heldout.csv": Curve("test_loss", "epoch", "epoch", "loss on held-out pairs",
                             "GDLN: held-out loss (first init scale) and the reduction's theory",
                             at=(("init_scale", 0),), references=(("theory", "theory_heldout_loss"),)),
    }

    summarise = staticmethod(analysis.summarise)
    metrics = staticmethod(analysis.metrics)
    claims = staticmethod(analysis.claims)

    def summary_variables(self, cfg):
        return {"train_loss": ("init_scale", "seed", "epoch"), "test_loss": ("init_scale", "seed", "epoch"),
                "sv_shared": ("seed", "snapshot", "shared_layer", "shared_sv"), "sv_in": ("seed", "snapshot", "in_sv"),
                "sv_out": ("seed", "snapshot", "out_sv"), "theory_loss": ("epoch",),
                "theory_shared": ("epoch", "shared_layer", "mode"), "transition_sim": ("seed", "group"),
                "transition_theory": ("group",), "plateau_sim": ("seed", "level"), "plateau_theory": ("level",)}


STUDY = GdlnStudy()
