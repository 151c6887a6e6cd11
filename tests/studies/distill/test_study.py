"""The distill study end to end on a small scale: real networks trained on random depth-2
trees of 12 bits, probed and distilled (the sources job's ``probe_run``), tabulated,
measured and drawn."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learnscope import data
from learnscope.config import build
from learnscope.distill import ands
from learnscope.run_files import checkpoints_to_xarray, curves_to_xarray
from learnscope.runspec import ComputeConfig
from learnscope.studies.distill import STUDY, analysis, figures, metrics, sources
from learnscope.studies.distill.config import DistillStudyConfig
from learnscope.features.extract import load_model
from learnscope.train import train_group

SECTION = {"depths": [2], "n_bits": 12, "trees": [0, 1, 2], "seeds": [0, 1], "n_train": 64, "n_test": 512,
           "model": {"name": "mlp", "depth": 2}, "width": 64,
           "train": {"optimizer": "adam", "lr": 3.0e-3, "batch_size": 128, "steps": 400, "online": True,
                     "n_snapshots": 2, "eval_every": 400},
           "ks": [1, 3, 30], "k_paper": 3, "n_fit": 1024, "n_val": 1024}


@pytest.fixture(scope="module")
def study():
    cfg = build(DistillStudyConfig, SECTION, "distill")
    cfg.check("distill")
    specs = cfg.runs("distill", ComputeConfig(device="cpu", threads=1))
    x_fit, x_val = sources.probe_inputs(cfg)
    runs, probes = {}, {}
    for tree in cfg.trees:
        group = [specs[(2, tree, seed)] for seed in cfg.seeds]
        tensors = data.load_tensors(data.dataset_to_xarray(group[0].task, group[0].task.make_dataset()),
                                    torch.device("cpu"))
        for spec, state in zip(group, train_group(group, tensors, "binary")):
            ckpt = checkpoints_to_xarray(spec, state)
            result = sources.probe_run(cfg, spec, load_model(spec, ckpt, ckpt.sizes["step"] - 1,
                                                             torch.device("cpu")), x_fit, x_val)
            probes[(2, tree, spec.seed)] = result
            runs[(2, tree, spec.seed)] = {"curves": curves_to_xarray(spec, state, "binary"),
                                          "probes": sources.probes_dataset(cfg, spec, result)}
    return cfg, runs, probes, analysis.summarise("distill", cfg, runs)


def test_trained_networks_are_distilled_into_their_trees(study):
    cfg, _, _, summary = study
    assert (summary["net_test_acc"].values > 0.95).all()
    assert summary["exact"].sel(k=30).values.all()  # the widest beam recovers every tree
    assert summary["fidelity"].sel(k=30).values.min() > 0.95
    assert summary["agreement"].sel(k=30).values.min() == 1.0  # recovered: equal on every input
    # CART with all 4 leaves a depth-2 tree allows fits the network at least as well as with 2
    cart = summary["cart_size_fidelity"].sel(depth=2)
    assert (cart.sel(cart_leaves=4) >= cart.sel(cart_leaves=2) - 1e-12).all()


def test_probe_counts_grow_with_k_and_stay_below_all_ands(study):
    cfg, _, _, summary = study
    n = summary["n_probes"].values  # (depth, tree, seed, k)
    assert (np.diff(n, axis=-1) > 0).all()
    assert n[..., 0].min() == 1 + 24 + 22  # k = 1: root, 2d literals, 2(d - 1) extensions of the best
    assert n.max() <= ands.n_ands(12, 2) == int(summary["n_all_ands"].sel(depth=2))


def test_layers_select_the_probed_hidden_layers(study):
    cfg, _, _, _ = study
    spec = cfg.runs("distill", ComputeConfig())[(2, 0, 0)]
    model = spec.model.build(12, 1, 64, torch.Generator().manual_seed(0))
    x = sources.probe_inputs(cfg)[0][:10]
    assert sources.net_labels(model, x)[1].shape == (10, 128)
    last = sources.net_labels(model, x, (1,))[1]
    assert last.shape == (10, 64) and np.array_equal(last, sources.net_labels(model, x)[1][:, 64:])


def test_true_ands_are_marked_and_the_root_is_probed(study):
    cfg, runs, probes, _ = study
    for coords, result in probes.items():
        true = result["trees"][0]
        true_keys = set(ands.and_keys(sources.node_ands(true, 2), 12).tolist())
        marked = set(result["probed"].keys[result["and_true"].astype(bool)].tolist())
        assert marked <= true_keys and 0 in marked
        assert runs[coords]["probes"]["n_probes"].values[-1] == result["probed"].in_beam[:, -1].sum()


def test_cart_has_the_widest_distilled_trees_leaves(study):
    cfg, runs, probes, summary = study
    for coords, result in probes.items():
        widest = result["trees"][-1]
        assert result["trees"][1].is_leaf.sum() <= max(2, widest.is_leaf.sum())


def test_summary_schema_metrics_claims_and_figures(study, tmp_path):
    cfg, _, _, summary = study
    for name, dims in STUDY.summary_variables(cfg).items():
        assert summary[name].dims == dims, name
    out = metrics.metrics(summary)
    assert out["exact_recovery_r2"] == 1.0
    assert out["probes_vs_all_frac"] == 1.0  # d = 12: a beam of 30 probes every AND of <= 2 literals
    assert out["detail"]["probes_median"]["r2"][1] < ands.n_ands(12, 2)
    assert {c.key for c in metrics.claims(summary)} == {"recovery_r2_k3", "recovery_r2_k30", "probes_vs_all",
                                                         "probing_vs_cart"}
    for name, draw in figures.FIGURES.items():
        draw(summary).savefig(tmp_path / name)
    assert ands.same_function(analysis.example_tree(summary, 0), analysis.example_tree(summary, 1))


@pytest.mark.parametrize("change,key", [({"ks": [5, 1]}, "distill.ks"), ({"k_paper": 7}, "distill.k_paper"),
                                        ({"depths": [0]}, "distill.depths[0]"),
                                        ({"depths": [13]}, "distill.depths[0]"),
                                        ({"layers": [2]}, "distill.layers[0]"),
                                        ({"train": {**SECTION["train"], "online": False}}, "distill.train.online")])
def test_bad_section_names_the_key(change, key):
    from learnscope.errors import ConfigError
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        build(DistillStudyConfig, {**SECTION, **change}, "distill").check("distill")
