"""Tests of spectral summaries: known stable ranks, numpy SVD reference, coordinate mass."""

import numpy as np
import torch

from learnscope.features.spectra import coordinate_mass, singular_values, stable_rank


def test_stable_rank_of_rank_one_is_one():
    gen = torch.Generator().manual_seed(0)
    u, v = torch.randn(7, 1, generator=gen), torch.randn(1, 4, generator=gen)
    assert abs(stable_rank(u @ v) - 1.0) < 1e-6


def test_stable_rank_of_identity_is_its_size():
    assert abs(stable_rank(torch.eye(5)) - 5.0) < 1e-12


def test_stable_rank_of_zero_matrix_is_zero():
    assert stable_rank(torch.zeros(3, 4)) == 0.0


def test_stable_rank_of_known_spectrum():
    # σ = (2, 1): (4 + 1) / 4.
    assert abs(stable_rank(torch.diag(torch.tensor([1.0, 2.0]))) - 1.25) < 1e-12


def test_singular_values_match_numpy():
    m = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    sigma = singular_values(m)
    assert sigma.shape == (3,) and sigma.dtype == torch.float64
    assert (sigma[:-1] >= sigma[1:]).all()
    expected = np.linalg.svd(m.double().numpy(), compute_uv=False)
    np.testing.assert_allclose(sigma.numpy(), expected, rtol=1e-12)


def test_coordinate_mass_of_known_matrix():
    w = torch.tensor([[1.0, 0.0, -2.0], [3.0, 1.0, 0.0]])  # (out=2, in=3)
    mass = coordinate_mass(w)
    assert mass.dtype == torch.float64
    torch.testing.assert_close(mass, torch.tensor([10.0, 1.0, 4.0], dtype=torch.float64))
