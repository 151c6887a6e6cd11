"""The algebra measurements: irrep energies, margins, and the derived maximum margin for
modular addition, checked by construction and by brute-force optimisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from learnscope.features.algebra import irrep_energies, margins
from learnscope.studies.algebra.margin import max_margin_modular_addition, max_margin_network, normalised_margin
from learnscope.groups import group
from learnscope.tasks.algebra import ModularAddition


def _table(p):
    d = ModularAddition(p=p).make_dataset()
    return d["x_train"].astype(np.float64), d["y_train"]


@pytest.mark.parametrize("p", [3, 5, 7, 11, 23])
def test_the_constructed_network_attains_the_derived_maximum(p):
    w1, w2 = max_margin_network(p)
    x, y = _table(p)
    assert normalised_margin(w1, w2, x, y, degree=3) == pytest.approx(max_margin_modular_addition(p), rel=1e-9)


def test_single_neuron_optimum_matches_the_bound_by_brute_force():
    """Step 1 of the derivation: max over ‖θ‖ = 1 of the class-weighted margin Ψ(θ) is
    (2 / (p (p-1))) sqrt(p/2) / (3 sqrt 3); found here by projected gradient ascent from
    many random starts."""
    p = 5
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    c = (a + b) % p
    torch.manual_seed(0)
    theta = torch.randn(64, 3, p, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=0.02)

    def psi(t):
        t = t / t.flatten(1).norm(dim=1)[:, None, None]
        u, v, w = t[:, 0], t[:, 1], t[:, 2]
        out = (u[:, a] + v[:, b]) ** 2  # (starts, p^2)
        right = w[:, c]
        wrong = (w.sum(1, keepdim=True) - right) / (p - 1)
        return (out * (right - wrong)).mean(1)

    for _ in range(1500):
        opt.zero_grad()
        (-psi(theta).sum()).backward()
        opt.step()
    bound = 2 / (p * (p - 1)) * math.sqrt(p / 2) / (3 * math.sqrt(3))
    best = float(psi(theta.detach()).max())
    assert best == pytest.approx(bound, rel=1e-4)
    assert best <= bound * (1 + 1e-9)


def test_random_networks_stay_below_the_maximum():
    p = 7
    x, y = _table(p)
    rng = np.random.default_rng(0)
    gamma = max_margin_modular_addition(p)
    for _ in range(50):
        m = int(rng.integers(1, 200))
        value = normalised_margin(rng.standard_normal((m, 2 * p)), rng.standard_normal((p, m)), x, y, 3)
        assert value < gamma


def test_max_margin_needs_odd_p():
    with pytest.raises(ValueError, match="odd p"):
        max_margin_modular_addition(8)


def test_margins_of_a_hand_example():
    out = torch.tensor([[[2.0, 0.5, 1.0], [0.0, 3.0, -1.0]], [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]])
    y = torch.tensor([0, 1])
    assert margins(out, y).tolist() == [1.0, -1.0]


def test_irrep_energies_split_the_squared_norm_and_find_a_frequency():
    g = group("cyclic:11")
    k = 3
    f = np.cos(2 * np.pi * k * np.arange(11) / 11 + 0.7) * 2.0
    e = irrep_energies(np.stack([f, np.ones(11)]), g)
    names = [r.name for r in g.irreps]
    assert e[0, names.index(f"rot{k}")] == pytest.approx(np.square(f).sum())
    assert e[1, names.index("trivial")] == pytest.approx(11.0)
    rand = np.random.default_rng(1).standard_normal((4, 11))
    np.testing.assert_allclose(irrep_energies(rand, g).sum(-1), np.square(rand).sum(-1))
