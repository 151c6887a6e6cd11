"""Tests of the AGOP: known answers (linear map, x0·x1) and a naive per-sample reference."""

import pytest
import torch
from torch import nn

from learnscope.features.agop import agop, matrix_power_psd


def naive_agop(fn, x: torch.Tensor) -> torch.Tensor:
    """Reference: one Jacobian per sample with torch.autograd.functional.jacobian."""
    total = torch.zeros(x.shape[1], x.shape[1], dtype=x.dtype)
    for xi in x:
        jac = torch.autograd.functional.jacobian(lambda v: fn(v[None])[0], xi)  # (c, d)
        total += jac.T @ jac
    return total / x.shape[0]


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


def mlp(d: int, c: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, c))


def test_linear_map_agop_is_AtA():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(3, 5, generator=gen, dtype=torch.float64)  # (c, d)
    x = torch.randn(11, 5, generator=gen, dtype=torch.float64) * 10  # (n, d), any x
    torch.testing.assert_close(agop(lambda v: v @ a.T, x), a.T @ a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("c", [1, 3])
def test_mlp_agop_matches_per_sample_loop(c):
    model = mlp(d=6, c=c, seed=c)
    x = torch.randn(40, 6, generator=torch.Generator().manual_seed(1))
    result = agop(model, x)
    assert result.shape == (6, 6) and result.dtype == x.dtype and not result.requires_grad
    assert relative_error(result, naive_agop(model, x)) < 1e-5
    model.zero_grad(set_to_none=True)
    agop(model, x)
    assert all(p.grad is None for p in model.parameters())


def test_chunking_gives_same_result():
    model = mlp(d=6, c=3, seed=0)
    x = torch.randn(50, 6, generator=torch.Generator().manual_seed(2))
    whole = agop(model, x)
    # float32 sums over samples in another order: equal to rounding (~2e-7 seen), so 1e-5 as for the
    # per-sample loop; one of the 50 samples dropped or counted twice is off by ~1e-2.
    assert relative_error(agop(model, x, chunk_size=7), whole) < 1e-5  # 7 does not divide 50
    assert relative_error(agop(model, x, chunk_size=1), whole) < 1e-5


def test_works_under_no_grad():
    model = mlp(d=4, c=2, seed=0)
    x = torch.randn(9, 4, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        inside = agop(model, x)
    assert relative_error(inside, naive_agop(model, x)) < 1e-5


def test_product_target_agop_is_analytic():
    # f(x) = x0·x1 has gradient (x1, x0, 0, ...), so AGOP = mean [[x1², x0x1], [x0x1, x0²]].
    x = torch.randn(200, 5, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    x0, x1 = x[:, 0], x[:, 1]
    expected = torch.zeros(5, 5, dtype=torch.float64)
    expected[:2, :2] = torch.stack([
        torch.stack([(x1 * x1).mean(), (x0 * x1).mean()]),
        torch.stack([(x0 * x1).mean(), (x0 * x0).mean()]),
    ])
    result = agop(lambda v: (v[:, 0] * v[:, 1])[:, None], x, chunk_size=64)
    torch.testing.assert_close(result, expected, rtol=1e-12, atol=1e-12)


def test_rejects_non_matrix_input():
    with pytest.raises(ValueError, match="shape"):
        agop(lambda v: v, torch.zeros(3))


def test_psd_square_root_squares_back():
    b = torch.randn(6, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    m = b @ b.T  # (6, 6) PSD of rank 4
    root = matrix_power_psd(m, 0.5)
    torch.testing.assert_close(root, root.T)
    torch.testing.assert_close(root @ root, m, rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(matrix_power_psd(m, 1.0), m, rtol=1e-10, atol=1e-10)


def test_psd_power_clamps_tiny_negative_eigenvalue():
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(6),
                                       dtype=torch.float64))
    m = q @ torch.diag(torch.tensor([2.0, 0.5, -1e-12], dtype=torch.float64)) @ q.T
    root = matrix_power_psd(m, 0.5)
    assert torch.isfinite(root).all()
    expected = q @ torch.diag(torch.tensor([2.0, 0.5, 0.0], dtype=torch.float64).sqrt()) @ q.T
    torch.testing.assert_close(root, expected, rtol=1e-8, atol=1e-8)
    assert matrix_power_psd(m.float(), 0.5).dtype == torch.float32
