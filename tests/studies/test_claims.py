"""Claims as data: verdict rules, chance levels and the JSON written to metrics.json."""

from __future__ import annotations

import numpy as np

from learnscope.groups import group
from learnscope.studies.algebra.analysis import chance_coverages
from learnscope.studies.claims import Claim


def claim(values, **kw) -> Claim:
    args = dict(key="k", claim="c", paper="p", values=np.array(values, dtype=float), reference=1.0, chance=None,
                op=">=", threshold=0.9, rule="r")
    return Claim(**(args | kw))


def test_median_against_the_threshold():
    assert claim([0.95, 0.91, 0.2]).verdict == "holds"  # median 0.91
    assert claim([0.95, 0.89, 0.2]).verdict == "does not hold"
    assert claim([0.01, 0.05], op="<=", threshold=0.05).verdict == "holds"


def test_every_seed_must_beat_chance_when_the_rule_says_so():
    assert claim([0.95, 0.96, 0.5], chance=0.4, above_chance=True).verdict == "holds"
    assert claim([0.95, 0.96, 0.3], chance=0.4, above_chance=True).verdict == "does not hold"
    assert claim([0.95, 0.96, 0.3], chance=0.4).verdict == "holds"  # the median alone


def test_a_chance_level_that_passes_the_rule_makes_the_claim_uninformative():
    assert claim([1.0, 1.0, 1.0], chance=0.99).verdict == "uninformative"


def test_within_compares_with_the_reference():
    assert claim([2.3, 1.8, 2.1], reference=2.0, op="within", threshold=0.5).verdict == "holds"
    assert claim([2.7, 2.6, 2.1], reference=2.0, op="within", threshold=0.5).verdict == "does not hold"
    assert claim([1.2, 1.4, 1.3], reference=2.0, op="within", threshold=0.5).verdict == "does not hold"


def test_missing_values_and_left_out_experiments():
    assert claim([]).verdict == "not measured"
    assert claim([0.95, np.nan, 0.97]).verdict == "does not hold"  # a seed that never got there counts
    data = claim([0.95, np.nan, 0.97], chance=0.2).to_json()
    assert data["value"] is None and data["range"] == [0.95, 0.97] and (data["seeds"], data["reached"]) == (3, 2)
    assert data["chance"] == 0.2 and data["verdict"] == "does not hold"


def test_frequency_coverage_of_random_networks_is_near_one_clean_coverage_near_zero():
    """The issue's example: with ~128 random neurons every frequency of Z_23 is some neuron's best,
    so coverage cannot fail; coverage by single-frequency neurons has a chance level near 0."""
    coverage, clean = chance_coverages(group("cyclic:23"), n_parts=3, n_units=128)
    assert coverage > 0.95
    assert clean < 0.05
    few, _ = chance_coverages(group("cyclic:23"), n_parts=3, n_units=4)
    assert few < 0.5  # four random neurons cover at most 4 of the 11 frequencies
    assert chance_coverages(group("cyclic:23"), 3, 4) == chance_coverages(group("cyclic:23"), 3, 4)
