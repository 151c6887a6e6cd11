"""Fourier coefficients of functions on the hypercube, checked exactly on all of {-1, +1}^4."""

from __future__ import annotations

import itertools

import torch

from learnscope.features.fourier import characters, fourier_coefficients
from learnscope.tasks.boolean import monomial_target

CUBE = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=4)))  # all 16 points


def test_a_sum_of_monomials_has_its_coefficients_and_no_others():
    f = monomial_target(CUBE, ((0,), (0, 1), (0, 1, 2)), (1.0, -0.5, 2.0))
    sets = ((0,), (0, 1), (0, 1, 2), (1,), (2, 3), (0, 1, 2, 3))
    coefficients = fourier_coefficients(f[None], CUBE, sets)[0]
    assert torch.allclose(coefficients, torch.tensor([1.0, -0.5, 2.0, 0.0, 0.0, 0.0], dtype=torch.float64))


def test_many_functions_at_once_and_characters_are_orthonormal():
    chi = characters(CUBE, ((0,), (1, 2), (3,)))
    assert torch.allclose(chi.T @ chi / len(CUBE), torch.eye(3, dtype=torch.float64))
    outputs = torch.stack([chi[:, 0] * 3, chi[:, 1] - chi[:, 2]]).float()  # (M=2, n)
    coefficients = fourier_coefficients(outputs, CUBE, ((0,), (1, 2), (3,)))
    assert torch.allclose(coefficients, torch.tensor([[3.0, 0.0, 0.0], [0.0, 1.0, -1.0]], dtype=torch.float64))
