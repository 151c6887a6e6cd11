"""Shared fixtures: a tiny sparse-parity run (8 bits, k = 2, width 32, 200 steps, one thread),
and the tiny pipeline project (run once per session)."""

from __future__ import annotations

import pytest
import torch

from learnscope import data
from learnscope.models.mlp import MLPConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig
from learnscope.tasks.boolean import SparseParity

TINY_TASK = SparseParity(n_bits=8, k=2, n_train=256, n_test=256)


def tiny_spec(*, seed: int = 0, width: int = 32, model: MLPConfig | None = None, **train) -> RunSpec:
    """A RunSpec small enough to train in a fraction of a second; ``train`` overrides TrainConfig."""
    recipe = {"optimizer": "adam", "lr": 1.0e-2, "batch_size": 32, "steps": 200,
              "n_snapshots": 12, "eval_every": 20} | train
    return RunSpec(study="tiny", task_name="parity", task=TINY_TASK, model=model or MLPConfig(),
                   width=width, seed=seed, train=TrainConfig(**recipe),
                   compute=ComputeConfig(device="cpu", threads=1))


@pytest.fixture(scope="session")
def make_spec():
    """The ``tiny_spec`` factory: ``make_spec(seed=1, optimizer="sgd", momentum=0.9)``."""
    return tiny_spec


@pytest.fixture
def one_thread():
    """Torch on one thread for the test: tiny products only suffer contention from a second
    one (20x slower on a busy 2-core machine). Use with ``pytest.mark.usefixtures``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_tensors() -> dict[str, torch.Tensor]:
    """x_train, y_train, x_test, y_test of ``TINY_TASK`` on the CPU (kind ``binary``)."""
    ds = data.dataset_to_xarray(TINY_TASK, TINY_TASK.make_dataset())
    return data.load_tensors(ds, torch.device("cpu"))



@pytest.fixture(scope="session")
def pipeline_repo(tmp_path_factory):
    """A git + DVC project with the pipeline and tiny params for every study
    (``pipeline_tools.TINY``), run once with ``dvc repro``. Shared by tests/test_pipeline.py
    and tests/reliability/: a test that changes it puts it back (or leaves another state in
    which both tools agree nothing is to be done)."""
    from pipeline_tools import TINY, make_project, sh

    root = make_project(tmp_path_factory.mktemp("pipeline") / "repo", TINY, tmp_path_factory.mktemp("remote"))
    sh(root, "dvc", "repro")
    return root
