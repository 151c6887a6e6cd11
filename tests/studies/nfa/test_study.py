"""The nfa study end to end on a small scale: real MLPs of two hidden layers trained on digits,
a sparse parity and the RFM demo, measured at every layer (features stage), RFMs fitted to the
same datasets (the sources job's ``fit_rfm``), tabulated, measured, claimed and drawn."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from learnscope import data, store
from learnscope.config import build, to_json
from learnscope.errors import ConfigError
from learnscope.features.config import FeaturesConfig
from learnscope.features.extract import measure_group
from learnscope.features.layout import features_to_xarray
from learnscope.run_files import checkpoints_to_xarray, curves_to_xarray
from learnscope.runspec import ComputeConfig
from learnscope.studies.nfa import STUDY, analysis, figures, sources
from learnscope.studies.nfa import metrics as nfa_metrics
from learnscope.studies.nfa.config import NfaConfig
from learnscope.train import train_group

SECTION = {"seeds": [0, 1], "widths": [32],
           "tasks": {"digits": {"family": "digits", "n_train": 400, "n_test": 300},
                     "sparse_parity": {"family": "sparse_parity", "n_bits": 8, "k": 2, "n_train": 400, "n_test": 200},
                     "rfm_demo": {"family": "gated_product", "dim": 10, "product": [0, 1], "gate": [5],
                                  "n_train": 800, "n_test": 400}},
           "model": {"name": "mlp", "depth": 2},
           "train": {"optimizer": "adam", "lr": 3.0e-3, "batch_size": 64, "steps": 400, "n_snapshots": 4,
                     "eval_every": 100},
           "rfm": {"iterations": 3}}


@pytest.fixture(scope="module")
def study():
    cfg = build(NfaConfig, SECTION, "nfa")
    cfg.check("nfa")
    specs = cfg.runs("nfa", ComputeConfig(device="cpu", threads=1))
    runs, rfms = {}, {}
    for task_name, task in cfg.tasks.items():
        dataset = data.dataset_to_xarray(task, task.make_dataset())
        rfms[task_name] = sources.fit_rfm(cfg, task_name, dataset)
        group = [specs[(task_name, 32, seed)] for seed in cfg.seeds]
        states = train_group(group, data.load_tensors(dataset, torch.device("cpu")), task.kind)
        checkpoints = [checkpoints_to_xarray(spec, state) for spec, state in zip(group, states)]
        measured = measure_group(group, FeaturesConfig(), dataset, checkpoints, torch.device("cpu"), STUDY.measures)
        for spec, state, m, ck in zip(group, states, measured, checkpoints):
            runs[(task_name, 32, spec.seed)] = {"curves": curves_to_xarray(spec, state, task.kind),
                                                "features": features_to_xarray(spec, m, ck), "rfm": rfms[task_name]}
    return cfg, runs, rfms, analysis.summarise("nfa", cfg, runs)


def test_rfm_files_pass_their_schema(study, tmp_path):
    cfg, _, rfms, _ = study
    for task, ds in rfms.items():
        path = tmp_path / f"{task}.nc"
        store.write(ds, path, "rfm", to_json(cfg.rfm))
        back = store.read(path, "rfm", expect={"task_name": task})
        np.testing.assert_array_equal(back["metric"].values, ds["metric"].values)
        assert back.sizes["iteration"] == cfg.rfm.iterations + 1
        np.testing.assert_array_equal(back["metric"].values[0], np.eye(ds.sizes["input"]))


def test_the_rfm_learns_the_demo_and_parity_supports(study):
    _, _, _, summary = study
    assert nfa_metrics.top_coords(summary, "rfm_demo") == [0, 1, 5]
    mse = summary["rfm_test_mse"].sel(task="rfm_demo").values
    assert mse[-1] < mse[0] / 2
    parity = summary["rfm_test_mse"].sel(task="sparse_parity").values
    assert parity[-1] < parity[0] / 10  # a 2-sparse parity of 8 bits: learned outright
    assert set(nfa_metrics.support_of(summary, "sparse_parity")) <= set(nfa_metrics.top_coords(summary, "sparse_parity"))
    assert summary["rfm_test_acc"].sel(task="digits").values[-1] > 0.9


def test_every_hidden_layer_is_measured_against_its_init_baseline(study):
    _, runs, _, summary = study
    assert summary.sizes["hidden_layer"] == 2
    final = summary["layer_nfa"].values  # (task, width, seed, layer)
    assert np.isfinite(final).all() and (np.abs(final) <= 1).all()
    features = runs[("digits", 32, 0)]["features"]
    np.testing.assert_array_equal(summary["layer_nfa"].sel(task="digits", width=32, seed=0).values,
                                  features["layer_nfa_corr"].sel(weight_form="W", agop_power="sqrt_agop",
                                                                 metric="pearson").values[-1])
    # layer 0's correlation is the first-layer ansatz the agop measure computes too
    np.testing.assert_allclose(features["layer_nfa_corr"].values[:, 0], features["nfa_corr"].values, rtol=1e-9)
    # on digits, training moves both layers' Gram matrices towards their AGOPs
    digits = summary.sel(task="digits")
    assert (digits["layer_nfa"] > digits["layer_nfa_init"]).all()


def test_rfm_vs_mlp_reads_the_final_gram_matrix_and_the_rfms_metric(study):
    _, runs, rfms, summary = study
    w = runs[("rfm_demo", 32, 1)]["features"]["nfm"].values[-1]
    m = rfms["rfm_demo"]["metric"].values[-1]
    evals, evecs = np.linalg.eigh(m)
    root = (evecs * np.sqrt(np.clip(evals, 0, None))) @ evecs.T
    expected = np.corrcoef(w.ravel(), root.ravel())[0, 1]
    assert float(summary["rfm_vs_mlp"].sel(task="rfm_demo", width=32, seed=1)) == pytest.approx(expected, abs=1e-9)


def test_metrics_and_claims_name_the_demo_and_the_main_task(study):
    _, _, _, summary = study
    m = nfa_metrics.metrics(summary)
    json.dumps(m)
    assert m["rfm_top_coords"] == [0, 1, 5]
    assert m["rfm_test_mse_iter0"] == float(summary["rfm_test_mse"].sel(task="rfm_demo").values[0])
    assert len(m["nfa_corr_per_layer"]) == len(m["nfa_corr_init_per_layer"]) == 2
    assert set(m["digits_test_acc"]) == {"mlp", "rfm"}
    assert m["detail"]["main"] == "digits" and m["detail"]["demo"] == "rfm_demo"
    claims = {c.key: c for c in nfa_metrics.claims(summary)}
    assert set(claims) == {"rfm_mse_falls", "rfm_top_coords", "nfa_corr_rfm_vs_mlp", "nfa_corr_layer0",
                           "nfa_corr_layer1", "digits_rfm_vs_mlp"}
    assert claims["rfm_top_coords"].verdict == "holds"
    assert claims["rfm_top_coords"].chance == pytest.approx(1 / 120)  # 3 of 10 coordinates
    assert claims["nfa_corr_layer1"].chance == pytest.approx(float(summary["layer_nfa_init"].sel(
        task="digits", width=32, hidden_layer=1).median("seed")))


def test_every_figure_draws(study):
    _, _, _, summary = study
    for name, draw in figures.FIGURES.items():
        fig = draw(summary)
        assert fig.axes, name
        plt.close(fig)


def test_summary_matches_the_declared_schema(study):
    cfg, _, _, summary = study
    for name, dims in STUDY.summary_variables(cfg).items():
        assert summary[name].dims == dims, name


@pytest.mark.parametrize("change, key, message", [
    ({"model": {"name": "embed_mlp", "embed_dim": 4}}, "nfa.model.name", "must be 'mlp'"),
    ({"demo_task": "nope"}, "nfa.demo_task", "must be one of tasks"),
    ({"rfm": {"bandwidth": 0.0}}, "nfa.rfm.bandwidth", "must be > 0"),
    ({"rfm": {"iterations": 0}}, "nfa.rfm.iterations", "must be >= 1"),
])
def test_bad_params_name_the_key(change, key, message):
    with pytest.raises(ConfigError) as info:
        build(NfaConfig, SECTION | change, "nfa").check("nfa")
    assert key in str(info.value) and message in str(info.value)


def test_the_sources_job_refuses_outputs_it_does_not_make(study):
    cfg = study[0]
    with pytest.raises(ValueError, match="the nfa sources job writes"):
        sources.write_rfms("nfa", cfg, [store.rfm_path("nfa", "digits")])
