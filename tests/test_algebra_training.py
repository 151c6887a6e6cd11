"""Training recipes of the algebra study: full batch, the per-neuron L_{2,ν} penalty and
AdamW, each against an independent plain-PyTorch loop; and the penalty's config check."""

from __future__ import annotations

import pytest
import torch

from learnscope import data
from learnscope.studies.algebra.config import AlgebraStudyConfig
from learnscope.config import build
from learnscope.errors import ConfigError
from learnscope.models.embed import EmbedMLPConfig
from learnscope.models.mlp import MLPConfig
from learnscope.models.transformer import TransformerConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig
from learnscope.tasks.algebra import ModularAddition
from learnscope.train import seed_for, train_group

TASK = ModularAddition(p=7)
QUADRATIC = MLPConfig(activation="quadratic", bias=False)


@pytest.fixture(scope="module")
def tensors():
    return data.load_tensors(data.dataset_to_xarray(TASK, TASK.make_dataset()), torch.device("cpu"))


def _spec(seed, model=QUADRATIC, width=24, **train):
    recipe = {"optimizer": "adam", "lr": 1.0e-2, "full_batch": True, "steps": 40, "n_snapshots": 3,
              "eval_every": 10} | train
    return RunSpec(study="t", task_name="add", task=TASK, model=model, width=width, seed=seed,
                   train=TrainConfig(**recipe), compute=ComputeConfig(device="cpu", threads=1))


def _reference(spec, tensors, penalty: float, optimizer: str):
    """Plain PyTorch: nn.Module, torch's Adam/AdamW, the whole training set every step."""
    cfg = spec.train
    model = spec.model.build(TASK.n_inputs, TASK.n_outputs, spec.width,
                             torch.Generator().manual_seed(seed_for(spec.seed, "init")))
    if optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    x, y = tensors["x_train"], tensors["y_train"]
    for _ in range(cfg.steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        if penalty:
            w1, w2 = model.layers[0].weight, model.layers[1].weight
            degree = spec.model.neuron_degree
            loss = loss + penalty * (w1.square().sum(1) + w2.square().sum(0)).pow(degree / 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.state_dict()


@pytest.mark.parametrize("model, train", [
    (QUADRATIC, {"neuron_penalty": 1.0e-3}),
    (MLPConfig(activation="cubic", bias=False), {"neuron_penalty": 1.0e-3}),
    (QUADRATIC, {"weight_decay": 1.0e-3}),
    (EmbedMLPConfig(embed_dim=8), {"optimizer": "adamw", "lr": 1.0e-3, "weight_decay": 1.0, "betas": (0.9, 0.98)}),
    (TransformerConfig(d_model=16, n_heads=2), {"optimizer": "adamw", "lr": 1.0e-3, "weight_decay": 1.0}),
])
def test_full_batch_recipes_match_a_plain_pytorch_loop(tensors, model, train):
    specs = [_spec(seed, model=model, **train) for seed in (0, 1)]
    final = train_group(specs, tensors, "multiclass")[1].snapshots[-1][1]
    expected = _reference(specs[1], tensors, specs[1].train.neuron_penalty, specs[1].train.optimizer)
    # Batched kernels vs nn.Module for 40 steps: float32 rounding differences (~1e-6 of the weights'
    # scale) that training carries along, so relative 1e-4 with atol = 1e-4 * max|weight|; a 10%
    # error in the penalty or the wrong optimizer moves the weights by > 3e-2 of that scale.
    for name, value in expected.items():
        torch.testing.assert_close(final[name], value, rtol=1e-4, atol=1e-4 * float(value.abs().max()))


def test_the_penalty_shrinks_the_neurons(tensors):
    plain, penalised = (train_group([_spec(0, neuron_penalty=lam, steps=200)], tensors, "multiclass")[0]
                        for lam in (0.0, 1.0e-2))
    norm = {k: sum(float(v.norm()) for v in s.snapshots[-1][1].values()) for k, s in
            (("plain", plain), ("penalised", penalised))}
    assert norm["penalised"] < 0.8 * norm["plain"]


def test_the_penalty_needs_homogeneous_neurons():
    base = {"seeds": [0], "margin": {"task": {"family": "modular_addition", "p": 5},
                                     "model": {"name": "mlp", "activation": "relu"}, "width": 8,
                                     "train": {"lr": 1.0e-2, "steps": 5, "neuron_penalty": 1.0e-4}}}
    with pytest.raises(ConfigError, match=r"algebra\.margin\.train\.neuron_penalty .*bias false"):
        build(AlgebraStudyConfig, base, "algebra")
    base["margin"]["model"]["bias"] = False
    assert build(AlgebraStudyConfig, base, "algebra").margin.model.neuron_degree == 2


def test_each_experiment_must_have_a_suitable_task():
    exp = {"task": {"family": "modular_addition", "p": 6}, "model": {"name": "mlp"}, "width": 8,
           "train": {"lr": 1.0e-2, "steps": 5}}
    with pytest.raises(ConfigError, match=r"algebra\.margin\.task must be modular_addition with an odd p"):
        build(AlgebraStudyConfig, {"seeds": [0], "margin": exp}, "algebra")
    with pytest.raises(ConfigError, match=r"algebra\.grokking\.task must be .*train_fraction < 1\.0"):
        build(AlgebraStudyConfig, {"seeds": [0], "grokking": exp}, "algebra")
    with pytest.raises(ConfigError, match="defines no experiment"):
        build(AlgebraStudyConfig, {"seeds": [0]}, "algebra")


def test_full_batch_and_online_exclude_each_other():
    with pytest.raises(ConfigError, match="full_batch"):
        build(TrainConfig, {"lr": 1.0e-2, "steps": 5, "full_batch": True, "online": True}, "t")


@pytest.mark.parametrize("model, train", [
    (QUADRATIC, {"neuron_penalty": 1.0e-3}),
    (EmbedMLPConfig(embed_dim=8), {"optimizer": "adamw", "lr": 1.0e-3, "weight_decay": 1.0}),
])
def test_a_full_batch_member_is_bit_identical_alone_and_in_a_group(tensors, model, train):
    specs = [_spec(seed, model=model, **train) for seed in (0, 1, 2)]
    alone = train_group(specs[1:2], tensors, "multiclass")[0]
    grouped = train_group(specs, tensors, "multiclass")[1]
    assert alone.curves == grouped.curves
    for (_, a), (_, b) in zip(alone.snapshots, grouped.snapshots, strict=True):
        assert all(torch.equal(a[k], b[k]) for k in a)
