"""``learnscope.representations``: hidden layers read from a trained run's checkpoints; the
readout of the last one is the network's own output (known answer), at every snapshot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learnscope import data
from learnscope.features.extract import load_model
from learnscope.models.embed import EmbedMLPConfig
from learnscope.models.mlp import MLPConfig
from learnscope.representations import representations
from learnscope.run_files import checkpoints_to_xarray
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig
from learnscope.tasks.boolean import SparseParity
from learnscope.train import train

TASK = SparseParity(n_bits=6, k=2, n_train=64, n_test=64)


@pytest.fixture(scope="module")
def run():
    spec = RunSpec(study="t", task_name="p", task=TASK, model=MLPConfig(depth=2), width=8, seed=0,
                   train=TrainConfig(lr=1.0e-2, batch_size=16, steps=30, n_snapshots=4, eval_every=10),
                   compute=ComputeConfig(device="cpu"))
    tensors = data.load_tensors(data.dataset_to_xarray(TASK, TASK.make_dataset()), torch.device("cpu"))
    return spec, checkpoints_to_xarray(spec, train(spec, tensors, TASK.kind))


def test_the_readout_of_the_last_hidden_layer_is_the_network_output(run):
    spec, checkpoints = run
    probe = np.sign(np.random.default_rng(0).standard_normal((50, 6))).astype(np.float32)
    reps = representations(spec, checkpoints, probe)
    assert reps["hidden_0"].dims == ("step", "sample", "unit_0") and reps.sizes["step"] == checkpoints.sizes["step"]
    assert set(reps.data_vars) == {"hidden_0", "hidden_1"}
    for i in range(checkpoints.sizes["step"]):
        model = load_model(spec, checkpoints, i, torch.device("cpu"))
        readout = model.layers[-1](torch.as_tensor(reps["hidden_1"].values[i], dtype=torch.float32))
        torch.testing.assert_close(readout * model.output_scale, model(torch.as_tensor(probe)).detach())
    assert not np.allclose(reps["hidden_1"].values[0], reps["hidden_1"].values[-1])  # training moved them


def test_only_plain_mlps_and_probes_of_the_input_width(run):
    spec, checkpoints = run
    with pytest.raises(ValueError, match="must be"):
        representations(spec, checkpoints, np.zeros((5, 7), dtype=np.float32))
    with pytest.raises(ValueError, match="plain MLPs"):
        representations(RunSpec(**{**spec.__dict__, "model": EmbedMLPConfig(embed_dim=4)}), checkpoints,
                        np.zeros((5, 6), dtype=np.float32))
