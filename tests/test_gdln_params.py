"""The gdln section: init scale x seed runs, one training group per init scale, clear errors."""

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from learnscope.errors import ConfigError
from learnscope.params import load_params
from learnscope.runspec import TrainConfig

DEFAULT = Path(__file__).resolve().parents[1] / "params.yaml"


@pytest.fixture(scope="module")
def default_data() -> dict:
    return yaml.safe_load(DEFAULT.read_text())


def _gdln_only(data: dict, edit=None) -> dict:
    data = {"compute": data["compute"], "gdln": copy.deepcopy(data["gdln"])}
    if edit:
        edit(data["gdln"])
    return data


def test_every_init_scale_trains_its_own_group_of_seeds(default_data):
    params = load_params(_gdln_only(default_data))
    cfg = params.gdln
    assert cfg.scales == tuple(sorted({cfg.model.init_scale, *cfg.init_scales}))
    assert len(params.runs) == len(cfg.scales) * len(cfg.seeds)
    assert len(params.groups) == len(cfg.scales)
    for group, names in params.groups.items():
        scales = {params.runs[n].model.init_scale for n in names}
        assert len(scales) == 1 and len(names) == len(cfg.seeds)
        assert group.endswith(f"init{scales.pop():g}")
    ref = params.runs["gdln-routing-w64-init0.2-s0"]
    assert ref.model.init_scale == 0.2 and ref.task is cfg.task and ref.train is cfg.train


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
