"""Study ``similarity``: distances between the networks other studies trained (GULP, CKA, CCA,
Procrustes; Boix-Adsera, Lawrence, Stepaniants & Rigollet, NeurIPS 2022; see ``analysis``).

It trains nothing: its sources job reads the hidden layers of the runs ``similarity.sources``
names from their checkpoints (``sources``), and its study job compares them."""

from learnscope import store
from learnscope.studies.base import Study
from learnscope.studies.plots import Curve
from learnscope.studies.similarity import analysis, figures
from learnscope.studies.similarity import metrics as similarity_metrics
from learnscope.studies.similarity.config import SimilarityConfig


class SimilarityStudy(Study):
    config_type = SimilarityConfig
    run_artefacts = ()
    measures = ()
    figure_claims = figures.CLAIMS  # before `figures` is rebound to the dict below
    figures = figures.FIGURES
    plots = {
        "gulp_to_final.csv": Curve("gulp_to_final", "snapshot", "snapshot (index)", "GULP distance to the final network",
                                   "GULP distance of each snapshot to its run's final network (largest ridge), over runs",
                                   at=(("lam", -1),), over="run"),
    }

    summarise = staticmethod(analysis.summarise)
    metrics = staticmethod(similarity_metrics.metrics)
    claims = staticmethod(similarity_metrics.claims)

    def source_runs(self, study, cfg, params):
        return cfg.source_runs(params.studies, params.compute, study)

    def source_outputs(self, study, cfg, params):
        return [store.representations_path(study, run) for run in self.source_runs(study, cfg, params)]

    def read_sources(self, study, cfg, specs, checkpoints, out_paths, inputs):
        from learnscope.studies.similarity.sources import write_representations

        write_representations(cfg, specs, checkpoints, out_paths, inputs)

    def load(self, study, cfg, inputs):
        return analysis.load(study, inputs)

    def summary_variables(self, cfg):
        pair, run = ("run_a", "run_b"), ("run",)
        return {"gulp": (*pair, "lam"), "distance": ("measure", *pair), "same_task": pair, "identity_err": pair,
                "ridge_gap_max": (*pair, "lam"), "ridge_gap_mean": (*pair, "lam"),
                "triangle_violations": ("lam",), "triangle_triples": (), "width": run, "seed": run, "task": run,
                "source": run, "space": run, "n_units": run, "rank": run,
                "gulp_to_final": ("run", "snapshot", "lam"), "snapshot_step": ("run", "snapshot"),
                "nearest": ("run", "lam"), "nearest_same_task": ("run", "lam"), "same_task_chance": run,
                "informative": run, "rank_corr": ("lam", "measure"), "rank_corr_chance": ("lam", "measure")}


STUDY = SimilarityStudy()
