"""The attention study: its params section (runs, groups, clear errors), its analysis on planted
runs (thresholds, gain, rank ratio, known answers), its claims and its figures."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from learnscope.config import to_json
from learnscope.errors import ConfigError
from learnscope.params import load_params
from learnscope.studies.attention import STUDY, analysis
from learnscope.studies.attention.metrics import claims, metrics

DEFAULT = Path(__file__).resolve().parents[3] / "params.yaml"


@pytest.fixture(scope="module")
def default_data() -> dict:
    return yaml.safe_load(DEFAULT.read_text())


def _attention_only(data: dict, edit=None) -> dict:
    data = {"compute": data["compute"], "attention": copy.deepcopy(data["attention"])}
    if edit:
        edit(data["attention"])
    return data


def test_every_model_n_and_seed_is_a_run_and_seeds_train_together(default_data):
    params = load_params(_attention_only(default_data))
    cfg = params.attention
    expected = sum(len(cfg.grid(m)) for m in cfg.models) * len(cfg.seeds)
    assert len(params.runs) == expected == cfg.n_runs
    assert all(len(members) == len(cfg.seeds) for members in params.groups.values())
    assert "attention-transformer_identity_n64-w64" in params.groups
    small = [spec for spec in params.runs.values() if spec.task_name.startswith("transformer_small_init")]
    assert {spec.task.n_symbols for spec in small} == set(cfg.models["transformer_small_init"].n_symbols)
    # the same n gives the same task (dataset) to every model: a paired comparison
    tasks = {to_json(spec.task) for spec in params.runs.values() if spec.task.n_symbols == 64}
    assert len(tasks) == 1


@pytest.mark.parametrize("edit, key", [
    (lambda s: s.update(n_symbols=[16, 4]), "attention.n_symbols"),
    (lambda s: s.update(n_symbols=[1, 16]), "attention.n_symbols"),
    (lambda s: s["models"]["mlp"].update(n_symbols=[5]), "attention.models.mlp.n_symbols"),
    (lambda s: s["models"]["transformer"]["model"].update(seq_len=4), "attention.models.transformer.model.seq_len"),
    (lambda s: s["train"].update(online=False), "attention.train.online"),
    (lambda s: s.update(template_set="abc"), "attention.template_set"),
    (lambda s: s.update(loss_threshold=1.5), "attention.loss_threshold"),
    (lambda s: s["toy"].update(alphas=[1.0e-2, 1.0]), "attention.toy.alphas[1]"),
    (lambda s: s["toy"].update(teacher_vo=[1.0, 2.0]), "attention.toy.teacher_vo"),
])
def test_bad_values_name_their_key(default_data, edit, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_params(_attention_only(default_data, edit))


def test_reach_n_and_chance_loss_known_answers(default_data):
    ns = np.array([4, 16, 64])
    assert analysis.reach_n(ns, np.array([0.9, 0.05, 0.01]), 0.1) == 16
    assert analysis.reach_n(ns, np.array([0.9, np.nan, 0.09]), 0.1) == 64
    assert np.isnan(analysis.reach_n(ns, np.array([0.9, 0.5, 0.2]), 0.1))
    cfg = load_params(_attention_only(default_data)).attention
    assert analysis.chance_loss(cfg) == 1.0  # labels ±1, balanced: predicting 0
    custom = load_params(_attention_only(default_data, lambda s: s.update(
        template_set="", templates={"AAB": 0.0, "ABA": 1.0, "ABB": 2.0}))).attention
    assert analysis.chance_loss(custom) == pytest.approx(2 / 3)


# Planted final test losses per model and n (seed-independent unless noted): the plain
# transformer generalises from n = 64, with identity from n = 16; the MLP never does.
NS = (4, 16, 64)
FINAL = {"mlp": (1.0, 1.02, 0.98), "mlp_xxt": (0.12, 0.03, 0.01), "transformer": (1.1, 0.6, 0.05),
         "transformer_identity": (0.9, 0.04, 0.0), "transformer_small_init": (np.nan, np.nan, 0.2)}


def _planted(default_data):
    def edit(s):
        s["n_symbols"] = list(NS)
        s["models"]["transformer_small_init"]["n_symbols"] = [64]
    cfg = load_params(_attention_only(default_data, edit)).attention
    steps, snaps = np.array([0, 10, 100]), np.array([0, 50, 100])
    runs = {}
    for (model, n, seed), spec in STUDY.runs("attention", cfg, None).items():
        final = FINAL[model][NS.index(n)] + 0.001 * seed
        curves = xr.Dataset({"train_loss": ("step", [1.0, 0.5, 0.0]), "test_loss": ("step", [1.0, 0.9, final]),
                             "train_acc": ("step", np.zeros(3)), "test_acc": ("step", np.zeros(3))},
                            coords={"step": steps})
        features = xr.Dataset(coords={"step": snaps})
        if "transformer" in model:
            rank = 2.0 if model == "transformer_small_init" else 4.0  # final stable rank of Δ(W_Q W_Kᵀ)
            sr = np.zeros((3, 2, 2, 2))
            sr[1:] = rank
            features = features.assign(attn_stable_rank=(("step", "block", "head", "product"), sr),
                                       identity_a=(("step", "block", "head"), np.zeros((3, 2, 2))),
                                       identity_b=(("step", "block", "head"), np.zeros((3, 2, 2))))
        runs[model, n, seed] = {"curves": curves, "features": features}
    return cfg, analysis.summarise("attention", cfg, runs)


def test_planted_runs_give_the_planted_thresholds_gain_and_rank_ratio(default_data):
    cfg, summary = _planted(default_data)
    out = metrics(summary)
    assert out["n_transformer"] == 64 and out["n_transformer_identity"] == 16 and out["identity_gain"] == 4
    assert out["mlp_loss_at_max_n"] == pytest.approx(0.981) and out["mlp_xxt_loss_at_min_n"] == pytest.approx(0.121)
    assert out["final_stable_rank_small_vs_default_init"] == 0.5
    assert out["toy_stages_small_alpha"] == len(cfg.toy.teacher_qk)  # the toy itself, at the default params
    assert out["rank_increment_max"] == 1
    assert np.isnan(summary["n_reached"].sel(model="mlp").values).all()
    verdicts = {c["key"]: c["verdict"] for c in map(lambda c: c.to_json(), claims(summary))}
    assert verdicts == {"n_transformer": "holds", "n_transformer_identity": "holds", "identity_gain": "holds",
                        "mlp_loss_at_max_n": "holds", "mlp_xxt_loss_at_min_n": "holds",
                        "toy_stages_small_alpha": "holds", "rank_increment_max": "holds",
                        "final_stable_rank_small_vs_default_init": "holds"}
    for name, make in STUDY.figures.items():  # every figure renders from the planted table
        assert make(summary).get_axes(), name


def test_a_model_left_out_leaves_its_claims_not_measured(default_data):
    cfg, summary = _planted(default_data)
    summary = summary.drop_sel(model=["transformer_identity", "transformer_small_init"])
    out = metrics(summary)
    assert out["n_transformer_identity"] is None and out["identity_gain"] is None
    assert out["final_stable_rank_small_vs_default_init"] is None
    verdicts = {c.key: c.verdict for c in claims(summary)}
    assert verdicts["identity_gain"] == verdicts["final_stable_rank_small_vs_default_init"] == "not measured"
