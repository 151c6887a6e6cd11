"""Study ``nfa``: the Neural Feature Ansatz at every layer of an MLP and on real data, and the
Recursive Feature Machine, a kernel machine that learns features by the AGOP update the ansatz
describes (Radhakrishnan, Beaglehole, Pandit, Belkin, Science 2024; see ``analysis``).

Its runs are MLPs (as in ``parity``: task x width x seed, one recipe) measured at every hidden
layer (measures ``agop`` and ``layer_nfa``); its sources job fits one RFM to every task's dataset
(``sources``), and its study job compares them."""

from learnscope import store
from learnscope.studies.base import Study
from learnscope.studies.plots import Curve
from learnscope.studies.nfa import analysis, figures
from learnscope.studies.nfa import metrics as nfa_metrics
from learnscope.studies.nfa.config import NfaConfig


class NfaStudy(Study):
    config_type = NfaConfig
    run_artefacts = ("curves.nc", "features.nc")
    measures = ("agop", "layer_nfa")
    figure_claims = figures.CLAIMS  # before `figures` is rebound to the dict below
    figures = figures.FIGURES
    plots = {
        "layer_nfa.csv": Curve("layer_nfa_curve", "step", "step", "NFA correlation",
                               "NFA correlation of the first hidden layer, widest network (first task)",
                               at=(("task", 0), ("width", -1), ("hidden_layer", 0))),
        "test_loss.csv": Curve("curve_test_loss", "eval_step", "step", "test loss",
                               "deep MLP: test loss of the widest network (first task)",
                               at=(("task", 0), ("width", -1))),
    }

    summarise = staticmethod(analysis.summarise)
    metrics = staticmethod(nfa_metrics.metrics)
    claims = staticmethod(nfa_metrics.claims)

    def source_outputs(self, study, cfg, params):
        return [store.rfm_path(study, task) for task in cfg.tasks]

    def source_datasets(self, study, cfg, params):
        return [store.dataset_path(study, task) for task in cfg.tasks]

    def read_sources(self, study, cfg, specs, checkpoints, out_paths, inputs):
        from learnscope.studies.nfa.sources import write_rfms

        write_rfms(study, cfg, out_paths)

    def load(self, study, cfg, inputs):
        return analysis.load(study, cfg, inputs)

    def summary_variables(self, cfg):
        run = ("task", "width", "seed")
        return {"test_acc": run, "layer_nfa": (*run, "hidden_layer"), "layer_nfa_init": (*run, "hidden_layer"),
                "layer_nfa_curve": (*run, "step", "hidden_layer"), "layer_nfa_init_curve": (*run, "step", "hidden_layer"),
                "rfm_vs_mlp": run, "rfm_vs_mlp_init": run, "rfm_test_mse": ("task", "iteration"),
                "rfm_test_acc": ("task", "iteration"), "rfm_diag": ("task", "iteration", "input"),
                "support": ("task", "input"), "rfm_metric": ("task", "in_a", "in_b"),
                "nfm_final": ("task", "in_a", "in_b"), "dnfm_final": ("task", "in_a", "in_b")}


STUDY = NfaStudy()
