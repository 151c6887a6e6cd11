"""The gdln section: init scale x seed runs, one training group per init scale, clear errors."""

import copy
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from learnscope import data

from learnscope.errors import ConfigError
from learnscope.params import load_params
from learnscope.runspec import TrainConfig
from learnscope.train import check_group, train_group

DEFAULT = Path(__file__).resolve().parents[3] / "params.yaml"


@pytest.fixture(scope="module")
def default_data() -> dict:
    return yaml.safe_load(DEFAULT.read_text())


def _gdln_only(data: dict, edit=None) -> dict:
    data = {"compute": data["compute"], "gdln": copy.deepcopy(data["gdln"])}
    if edit:
        edit(data["gdln"])
    return data


def test_every_init_scale_and_seed_is_a_run_and_all_train_as_one_group(default_data):
    params = load_params(_gdln_only(default_data))
    cfg = params.gdln
    assert cfg.scales == tuple(sorted({cfg.model.init_scale, *cfg.init_scales}))
    assert len(params.runs) == len(cfg.scales) * len(cfg.seeds)
    assert list(params.groups) == ["gdln-routing-w64"]
    assert {spec.model.init_scale for spec in params.runs.values()} == set(cfg.scales)
    ref = params.runs["gdln-routing-w64-init0.2-s0"]
    assert ref.model.init_scale == 0.2 and ref.task is cfg.task and ref.train is cfg.train


def test_a_member_of_the_init_scale_group_equals_its_run_trained_alone(default_data):
    """Bit for bit: a run's files do not depend on the other init scales in its group."""
    def tiny(g):
        g.update(seeds=[0, 1], width=8, init_scales=[1.5])
        g["train"].update(steps=20, n_snapshots=5)
    params = load_params(_gdln_only(default_data, tiny))
    specs = [params.runs[n] for n in params.groups["gdln-routing-w8"]]
    assert len(specs) == 4 and len({s.model.init_scale for s in specs}) == 2
    task = specs[0].task
    tensors = data.load_tensors(data.dataset_to_xarray(task, task.make_dataset()), torch.device("cpu"))
    together = train_group(specs, tensors, "vector")
    for spec, member in zip(specs, together):
        alone = train_group([spec], tensors, "vector")[0]
        assert member.curves == alone.curves
        for (step_a, wa), (step_b, wb) in zip(member.snapshots, alone.snapshots, strict=True):
            assert step_a == step_b and all(torch.equal(wa[k], wb[k]) for k in wa)
    w0 = {s.model.init_scale: m.snapshots[0][1]["W_shared"] for s, m in zip(specs, together)}
    assert torch.linalg.svdvals(w0[1.5][0]).min() > 1.49 and torch.linalg.svdvals(w0[0.2][0]).max() < 0.21


def test_a_group_rejects_members_differing_in_more_than_init_only_fields(default_data):
    params = load_params(_gdln_only(default_data))
    spec = params.runs["gdln-routing-w64-init0.2-s0"]
    other = dataclasses.replace(spec, seed=1, model=dataclasses.replace(spec.model, shared_layers=2))
    with pytest.raises(ValueError, match="init-only"):
        check_group([spec, other])


def test_linear_snapshots_are_evenly_spaced():
    train = TrainConfig(lr=0.1, steps=500, n_snapshots=101, snapshot_spacing="linear")
    assert np.array_equal(train.snapshot_steps, np.arange(0, 501, 5))
    assert TrainConfig(lr=0.1, steps=500, n_snapshots=101).snapshot_steps[1] == 1  # log-spaced by default


@pytest.mark.parametrize("edit, key", [
    (lambda g: g.update(model={"name": "mlp", "depth": 1}), "gdln.model.name"),
    (lambda g: g["model"].update(pathways=5), "gdln.model.pathways"),
    (lambda g: g.update(task={"family": "sparse_parity", "n_bits": 4, "k": 2, "n_train": 8, "n_test": 8}),
     "gdln.task.family"),
    (lambda g: g["task"].update(offsets=[0, 1, 2, 3, 4, 5, 6]), "gdln.task.offsets"),
    (lambda g: g["train"].update(optimizer="adam"), "gdln.train"),
    (lambda g: g["train"].update(full_batch=False), "gdln.train"),
    (lambda g: g.update(init_scales=[0.5, 0.5]), "gdln.init_scales"),
    (lambda g: g.update(init_scales=[-1.0]), "gdln.init_scales[0]"),
])
def test_bad_sections_name_their_key(default_data, edit, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_params(_gdln_only(default_data, edit))
