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
from learnscope.models.mlp_xxt import MLPXXTConfig
from learnscope.representations import input_space, probe_inputs, representations, snapshot_positions
from learnscope.tasks.algebra import ModularAddition
from learnscope.tasks.boolean import MultiIndex
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


def test_an_embedding_mlp_s_hidden_layer_is_its_readout_s_input():
    task = ModularAddition(p=5)
    spec = RunSpec(study="t", task_name="m", task=task, model=EmbedMLPConfig(embed_dim=4), width=8, seed=0,
                   train=TrainConfig(lr=1.0e-2, full_batch=True, steps=20, n_snapshots=3, eval_every=10),
                   compute=ComputeConfig(device="cpu"))
    ds = task.make_dataset()
    tensors = data.load_tensors(data.dataset_to_xarray(task, ds), torch.device("cpu"))
    checkpoints = checkpoints_to_xarray(spec, train(spec, tensors, task.kind))
    probe = probe_inputs(task, 100, seed=0)
    reps = representations(spec, checkpoints, probe, snapshots=[0, 2])
    assert list(reps.data_vars) == ["hidden_0"] and reps.sizes["step"] == 2
    model = load_model(spec, checkpoints, 2, torch.device("cpu"))
    torch.testing.assert_close(model.out(torch.as_tensor(reps["hidden_0"].values[1])),
                               model(torch.as_tensor(probe)).detach())


def test_models_without_readable_hidden_layers_and_probes_of_another_width_are_refused(run):
    spec, checkpoints = run
    with pytest.raises(ValueError, match="must be"):
        representations(spec, checkpoints, np.zeros((5, 7), dtype=np.float32))
    with pytest.raises(ValueError, match="not MLPXXTConfig"):
        representations(RunSpec(**{**spec.__dict__, "model": MLPXXTConfig(seq_len=3)}), checkpoints,
                        np.zeros((5, 6), dtype=np.float32))


def test_tasks_on_one_input_space_share_one_probe_set():
    parity, staircase = TASK, MultiIndex(n_bits=6, monomials=((0,), (0, 1)), n_train=8, n_test=8, data_seed=3)
    assert input_space(parity) == input_space(staircase) == "hypercube_6"
    np.testing.assert_array_equal(probe_inputs(parity, 40, 0), probe_inputs(staircase, 40, 0))
    assert not np.array_equal(probe_inputs(parity, 40, 0), probe_inputs(parity, 40, 1))
    assert set(np.unique(probe_inputs(parity, 40, 0))) == {-1.0, 1.0}


def test_a_small_table_is_probed_on_every_pair_and_a_large_one_on_distinct_pairs():
    small, large = ModularAddition(p=5), ModularAddition(p=11)
    assert input_space(small) == "pairs_5"
    np.testing.assert_array_equal(probe_inputs(small, 100, 0), small.encode(*small.pairs()))
    probe = probe_inputs(large, 50, 0)
    assert probe.shape == (50, 22) and len(np.unique(probe, axis=0)) == 50
    assert (probe.sum(axis=1) == 2).all()


def test_snapshot_positions_keep_the_last_half_and_spread_the_rest():
    log_steps = np.array([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000])
    assert snapshot_positions(log_steps, 5) == [0, 4, 9, 10, 11]  # 512 and 1000 ≥ 500; 256 is not
    assert snapshot_positions(log_steps, 3) == [0, 10, 11]
    assert snapshot_positions(log_steps, 50) == list(range(12))
    linear = np.arange(0, 101, 10)
    assert snapshot_positions(linear, 3) == [5, 7, 10]  # all six late ones are more than 3: spread over them
