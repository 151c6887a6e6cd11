"""Study ``attention``: transformers reasoning with abstract symbols (Boix-Adsera et al., ICLR
2024) and gradual rank increase (Boix-Adsera et al., NeurIPS 2023); see ``analysis``."""

from learnscope.studies.attention import analysis, figures
from learnscope.studies.attention import metrics as attention_metrics
from learnscope.studies.attention.config import AttentionStudyConfig
from learnscope.studies.base import Study
from learnscope.studies.plots import Curve


class AttentionStudy(Study):
    config_type = AttentionStudyConfig
    run_artefacts = ("curves.nc", "features.nc")
    measures = ("attention_rank",)
    figure_claims = figures.CLAIMS  # before `figures` is rebound to the dict below
    figures = figures.FIGURES
    plots = {
        "transformer_identity.csv": Curve(
            "test_loss", "eval", "step", "test loss",
            "relational task: test loss of the transformer with identity at the largest number of symbols",
            at=(("model", "transformer_identity"), ("n", -1)), x_values="eval_step"),
        "mlp.csv": Curve("test_loss", "eval", "step", "test loss",
                         "relational task: test loss of the MLP at the largest number of symbols",
                         at=(("model", "mlp"), ("n", -1)), x_values="eval_step"),
    }

    summarise = staticmethod(analysis.summarise)
    metrics = staticmethod(attention_metrics.metrics)
    claims = staticmethod(attention_metrics.claims)

    def summary_variables(self, cfg):
        run = ("model", "n", "seed")
        out = {"train_loss": (*run, "eval"), "test_loss": (*run, "eval"), "eval_step": ("model", "eval"),
               "final_test_loss": run, "median_test_loss": ("model", "n"), "n_reached": ("model", "seed"),
               "n_reached_median": ("model",), "chance_loss": (),
               "stable_rank": (*run, "snapshot", "layer", "head", "product"),
               "identity_a": (*run, "snapshot", "layer", "head"), "snapshot_step": ("model", "snapshot")}
        if cfg.toy is not None:
            out |= {"toy_tau": ("alpha", "toy_step"), "toy_loss": ("alpha", "toy_step"),
                    "toy_qk": ("alpha", "toy_step", "entry"), "toy_stages": ("alpha",),
                    "toy_rank_increment": ("alpha", "stage")}
        return out


STUDY = AttentionStudy()
