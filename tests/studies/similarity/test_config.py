"""The ``similarity`` section: its sources must be runs of other sections that can be probed;
every mistake is one ConfigError naming the key."""

from __future__ import annotations

import copy

import pytest

from learnscope.errors import ConfigError
from learnscope.params import load_params
from pipeline_tools import TINY

SECTION = {"sources": {"parity": ["sparse_parity"], "algebra": ["margin", "grokking"]}, "n_probe": 64}


def _params(**similarity):
    data = {key: copy.deepcopy(TINY[key]) for key in ("compute", "parity", "algebra", "gdln")}
    data["similarity"] = {**copy.deepcopy(SECTION), **similarity}
    return data


def test_the_sources_resolve_to_the_runs_of_the_named_tasks():
    from learnscope.studies import STUDIES

    params = load_params(_params())
    runs = STUDIES["similarity"].source_runs("similarity", params.similarity, params)
    assert sorted(runs) == sorted(["parity-sparse_parity-w16-s0", "parity-sparse_parity-w16-s1",
                                   "algebra-margin-w16-s0", "algebra-margin-w16-s1",
                                   "algebra-grokking-w16-s0", "algebra-grokking-w16-s1"])
    assert params.similarity.runs("similarity", params.compute) == {}


@pytest.mark.parametrize("change, message", [
    ({"sources": {"leap": ["leap1"]}}, "similarity.sources.leap names no study section"),
    ({"sources": {"parity": ["staircase"]}}, "similarity.sources.parity lists 'staircase', which is not a task of parity"),
    ({"sources": {"gdln": ["routing"]}}, "similarity.sources.gdln lists 'routing', whose model GatedDLNConfig has no"),
    ({"sources": {}}, "similarity.sources must name at least one study"),
    ({"lams": [0.1, 1.0]}, "similarity.lams must include 0.0"),
    ({"lams": [0.0, 0.1], "lam": 1.0}, "similarity.lam = 1.0 must be one of lams"),
    ({"lams": [0.0, 1.0, 0.5], "lam": 1.0}, "similarity.lams = .* must be ascending"),
    ({"snapshots": 1}, "similarity.snapshots = 1 must be >= 2"),
    ({"n_probe": "many"}, "similarity.n_probe"),
])
def test_bad_similarity_params_name_the_key(change, message):
    with pytest.raises(ConfigError, match=message):
        load_params(_params(**change))
