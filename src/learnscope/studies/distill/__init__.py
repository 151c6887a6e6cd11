"""Study ``distill``: distilling a trained network into a decision tree by probing its hidden
layers for the tree's ANDs (Boix-Adsera, "Towards a theory of model distillation", 2024; see
``learnscope.distill.probing``).

Its runs are networks trained on random depth-r trees (``tasks.trees``); its sources job
probes each one's final network (``sources``) and its study job tabulates recovery."""

from learnscope import store
from learnscope.studies.base import Study
from learnscope.studies.plots import Curve
from learnscope.studies.distill import analysis, figures
from learnscope.studies.distill import metrics as distill_metrics
from learnscope.studies.distill.config import DistillStudyConfig


class DistillStudy(Study):
    config_type = DistillStudyConfig
    run_artefacts = ("curves.nc",)
    measures = ()
    figure_claims = figures.CLAIMS  # before `figures` is rebound to the dict below
    figures = figures.FIGURES
    plots = {
        "fidelity.csv": Curve("fidelity", "k", "probing beam k", "fidelity",
                              "distillation: tree fidelity to the network by beam width (deepest target, first tree)",
                              at=(("depth", -1), ("tree", 0)), references=(("recovery", "recovery"),)),
    }

    summarise = staticmethod(analysis.summarise)
    metrics = staticmethod(distill_metrics.metrics)
    claims = staticmethod(distill_metrics.claims)

    def source_runs(self, study, cfg, params):
        return {spec.name: spec for spec in self.runs(study, cfg, params.compute).values()}

    def source_outputs(self, study, cfg, params):
        return [store.probes_path(study, run) for run in self.source_runs(study, cfg, params)]

    def read_sources(self, study, cfg, specs, checkpoints, out_paths, inputs):
        from learnscope.studies.distill.sources import write_probes

        write_probes(cfg, specs, checkpoints, out_paths, inputs)

    def load(self, study, cfg, inputs):
        return analysis.load(study, cfg, inputs)

    def summary_variables(self, cfg):
        run, per_k = ("depth", "tree", "seed"), ("depth", "tree", "seed", "k")
        return {"exact": per_k, "n_probes": per_k, "fidelity": per_k, "agreement": per_k, "leaves": per_k,
                "cart_size_fidelity": (*run, "cart_leaves"), "cart_size_agreement": (*run, "cart_leaves"),
                "cart_exact": run, "cart_fidelity": run,
                "cart_n_leaves": run, "constant_exact": run, "net_test_acc": run, "net_val_acc": run, "n_units": run,
                "recovery": ("depth", "k"), "cart_recovery": ("depth",), "chance_recovery": ("depth",),
                "probes_median": ("depth", "k"), "n_all_ands": ("depth",),
                "example_and_score": ("example_and",), "example_and_depth": ("example_and",),
                "example_and_true": ("example_and",), "example_tree_feature": ("example_tree", "example_node")}


STUDY = DistillStudy()
