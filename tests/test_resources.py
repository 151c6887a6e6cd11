"""What each job asks a scheduler for (learnscope.resources), estimated from its params."""

from __future__ import annotations

import copy

import pytest
import yaml

from learnscope.errors import ConfigError
from learnscope.params import load_params
from learnscope.resources import gpus, group_resources
from pipeline_tools import REPO, TINY


@pytest.fixture(scope="module")
def default_data() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


def test_every_group_job_gets_memory_and_runtime(default_data):
    params = load_params(default_data)
    found = group_resources(params)
    assert set(found) == set(params.groups)
    for group, jobs in found.items():
        assert set(jobs) == {"train", "features", "distill"}, group
        for job in jobs.values():
            assert job["mem_mb"] >= 1024 and job["mem_mb"] % 256 == 0 and job["runtime"] >= 10, (group, job)
    # the heaviest group (grokking: 256-wide embedding MLP, full batch) asks for more time than the lightest
    runtimes = sorted(jobs["train"]["runtime"] for jobs in found.values())
    assert runtimes[-1] > runtimes[0]


def test_more_steps_and_wider_networks_ask_for_more(default_data):
    tiny = load_params(TINY)
    longer = copy.deepcopy(TINY)
    longer["parity"]["train"]["steps"] *= 10
    longer["parity"]["widths"] = [1_000_000]  # 8 M parameters per network
    base, grown = group_resources(tiny), group_resources(load_params(longer))
    (small,) = [g for g in base if g.startswith("parity")]
    (big,) = [g for g in grown if g.startswith("parity")]
    assert grown[big]["train"]["runtime"] > base[small]["train"]["runtime"]
    assert grown[big]["train"]["mem_mb"] > base[small]["train"]["mem_mb"]


@pytest.mark.parametrize("config, expected", [({}, 0), ({"gpus_per_job": 1}, 1), ({"gpus_per_job": 2}, 2)])
def test_gpus_per_job_come_from_the_profiles_config(config, expected):
    assert gpus(config) == expected


@pytest.mark.parametrize("value", [-1, "one", 1.5, True])
def test_a_bad_gpus_per_job_is_named(value):
    with pytest.raises(ConfigError, match="gpus_per_job="):
        gpus({"gpus_per_job": value})
