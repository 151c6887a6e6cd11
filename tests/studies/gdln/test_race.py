"""Tests of the neural race reduction: closed forms, exactness against gradient descent on an
aligned gated deep linear network, symmetry, task modes, plateaus, half-times and the race."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learnscope.features.modes import half_time, mode_groups, plateau_levels, task_modes
from learnscope.studies.gdln.race import integrate_race, random_init_overlaps

HIERARCHY = np.array([[6, 4, 0, 3, 0, 0, 0],
                      [6, 4, 0, 0, 3, 0, 0],
                      [6, 0, 4, 0, 0, 3, 0],
                      [6, 0, 4, 0, 0, 0, 3]], dtype=np.float64)  # (P=4 items, N=7 outputs)


def circulant(pathways: int, offsets) -> np.ndarray:
    """(M, M) weights: input i trains outputs (i + o) mod M for o in offsets."""
    pairs = np.zeros((pathways, pathways))
    inputs = np.arange(pathways)
    for offset in offsets:
        pairs[(inputs + offset) % pathways, inputs] = 1.0
    return pairs


def orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, n) random orthogonal matrix (Haar)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


@pytest.mark.parametrize("method, substeps, rtol", [("rk45", 1, 1e-6), ("euler", 100, 1e-3)])
def test_one_mode_follows_the_sigmoid(method, substeps, rtol):
    s, lr, a0 = 2.0, 0.01, 0.02
    modes = task_modes(np.array([[1.0]]), np.array([[s]]))
    sol = integrate_race(modes, np.array([[1.0]]), lr, 150, np.sqrt(a0), 1.0, np.sqrt(a0), n_shared=0,
                         method=method, substeps=substeps)
    exact = s / (1 + (s / a0 - 1) * np.exp(-4 * lr * s * sol.epochs))  # d = 1
    assert exact[-1] > 0.9 * s  # the curve covers the whole sigmoid
    np.testing.assert_allclose(sol.strength[:, 0, 0, 0], exact, rtol=rtol)


def aligned_gdln(modes, b_in, c, b_out, hidden, rng):
    """Torch float64 leaves W_in[i] = R_0 b_in[i] Vᵀ, W_shared[l] = R_{l+1} diag(c[l]) R_lᵀ,
    W_out[j] = U b_out[j] R_Lᵀ, with random orthonormal hidden bases R_l (hidden, r)."""
    r = modes.s.size
    bases = [orthogonal(hidden, rng)[:, :r] for _ in range(len(c) + 1)]

    def leaf(a):
        return torch.tensor(a, dtype=torch.float64, requires_grad=True)
    w_in = [leaf(bases[0] @ np.diag(b) @ modes.V.T) for b in b_in]
    w_shared = [leaf(bases[l + 1] @ np.diag(cl) @ bases[l].T) for l, cl in enumerate(c)]
    w_out = [leaf(modes.U @ np.diag(b) @ bases[-1].T) for b in b_out]
    return w_in, w_shared, w_out


def pair_losses(x, y, w_in, w_shared, w_out) -> torch.Tensor:
    """(M_out, M_in) mean over items of the squared error summed over outputs, pair by pair."""
    losses = torch.zeros(len(w_out), len(w_in), dtype=torch.float64)
    for j, wo in enumerate(w_out):
        for i, wi in enumerate(w_in):
            w = wi
            for ws in w_shared:
                w = ws @ w
            losses[j, i] = ((x @ (wo @ w).T - y) ** 2).sum(1).mean()
    return losses


@pytest.mark.parametrize("n_shared", [0, 1, 2])
def test_reduction_is_exactly_gradient_descent(n_shared):
    rng = np.random.default_rng(n_shared)
    x, y = np.eye(4), orthogonal(4, rng) @ np.diag([6.0, 4.0, 2.5, 1.2]) @ orthogonal(5, rng)[:4]
    modes = task_modes(x, y)
    pairs = np.zeros((3, 3))
    pairs[[0, 1, 1, 2, 2], [0, 0, 1, 1, 2]] = [1.0, 2.0, 3.0, 4.0, 5.0]  # 5 of 9 trained, unequal
    b_in, b_out = rng.uniform(0.2, 0.5, (3, 4)), rng.uniform(0.2, 0.5, (3, 4))
    c = rng.uniform(0.3, 0.6, (n_shared, 4))
    lr, steps = 0.1, 200
    sol = integrate_race(modes, pairs, lr, steps, b_in, c, b_out, n_shared=n_shared)

    w_in, w_shared, w_out = aligned_gdln(modes, b_in, c, b_out, hidden=6, rng=rng)
    params = [*w_in, *w_shared, *w_out]
    xt, yt, pi = torch.tensor(x), torch.tensor(y), torch.tensor(pairs / pairs.sum())
    train, held = [], []
    for epoch in range(steps + 1):
        pair_loss = pair_losses(xt, yt, w_in, w_shared, w_out)
        loss = (pi * pair_loss).sum()
        train.append(loss.item())
        held.append(pair_loss[pi == 0].mean().item())
        if epoch < steps:
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p -= lr * g
    assert train[-1] < 1e-2 * train[0]
    np.testing.assert_allclose(sol.loss, train, rtol=1e-9)
    np.testing.assert_allclose(sol.heldout_loss(), held, rtol=1e-9)
    for layer, w in enumerate(w_shared):
        top = np.linalg.svd(w.detach().numpy(), compute_uv=False)[:4]
        np.testing.assert_allclose(top, np.sort(np.abs(sol.c[-1, layer]))[::-1], rtol=1e-9)


def test_symmetric_init_collapses():
    modes = task_modes(np.eye(4), HIERARCHY)
    b_in, c, b_out = random_init_overlaps(0.1, 5)
    sol = integrate_race(modes, circulant(5, [0, 2]), 0.1, 200, b_in, c, b_out, n_shared=1)
    assert sol.b_in[-1, 0, 0] > 10 * b_in  # it learned
    np.testing.assert_allclose(sol.b_in, np.broadcast_to(sol.b_in[:, :1], sol.b_in.shape), rtol=1e-12)
    np.testing.assert_allclose(sol.b_out, np.broadcast_to(sol.b_out[:, :1], sol.b_out.shape), rtol=1e-12)
    uneven = circulant(5, [0, 2])
    uneven[1, 0] = 1.0
    sol = integrate_race(modes, uneven, 0.1, 200, b_in, c, b_out, n_shared=1)
    assert np.ptp(sol.b_in[:, :, 0], axis=1).max() > 1e-2  # without the symmetry they come apart


def test_task_modes_of_the_hierarchy():
    modes = task_modes(np.eye(4), HIERARCHY)
    np.testing.assert_allclose(modes.s, np.sqrt([185, 41, 9, 9]) / 4)
    np.testing.assert_allclose(modes.d, 0.25)
    assert modes.residual == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(modes.U @ np.diag(modes.s) @ modes.V.T, HIERARCHY.T / 4, atol=1e-12)
    assert task_modes(np.eye(4), HIERARCHY[:, :3]).s.size == 2  # rank-2 targets: zero modes dropped


def test_residual_counts_what_no_linear_map_explains():
    x = np.array([[1.0], [1.0]])  # the same input twice
    modes = task_modes(x, np.array([[1.0], [3.0]]))  # best map 2: error 1 on each item
    np.testing.assert_allclose([modes.s[0], modes.d[0], modes.residual], [2.0, 1.0, 1.0])


def test_task_modes_rejects_non_white_inputs():
    x = np.array([[1.0, 0.5], [0.0, 1.0], [1.0, -1.0]])
    with pytest.raises(ValueError, match="white"):
        task_modes(x, np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))


def test_plateau_levels_and_groups_of_the_hierarchy():
    modes = task_modes(np.eye(4), HIERARCHY)
    np.testing.assert_allclose(plateau_levels(modes), [61.0, 14.75, 4.5, 0.0], atol=1e-12)
    assert [g.tolist() for g in mode_groups(modes)] == [[0], [1], [2, 3]]


def test_half_time_interpolates():
    epochs = np.array([0, 10, 20, 40])
    curves = np.array([[0.0, 0.0], [0.2, 0.1], [0.6, 0.2], [1.0, 0.4]])  # (T, r=2)
    times = half_time(epochs, curves, np.array([1.0, 1.0]))
    np.testing.assert_allclose(times[0], 10 + 10 * 0.3 / 0.4)
    assert np.isnan(times[1])
    stacked = half_time(epochs, np.stack([curves, curves / 2], axis=1), np.array([1.0, 0.4]))  # (T, 2, r)
    np.testing.assert_allclose(stacked, [[17.5, 20.0], [40.0, 40.0]])
    assert half_time(epochs, curves + 1, np.array([1.0, 1.0])).tolist() == [0.0, 0.0]


def test_random_init_overlaps_are_balanced():
    b_in, c, b_out = random_init_overlaps(0.3, 9)
    assert (b_in, c, b_out) == pytest.approx((0.1, 0.3, 0.1))
    assert c**2 == pytest.approx(9 * b_in**2)


@pytest.mark.parametrize("n_shared, ratio", [(0, 0.5), (1, 0.95)])
def test_pathways_in_more_pairs_learn_sooner(n_shared, ratio):
    """The race within one network: input 0 and output 0 are in four trained pairs each,
    input 5 and output 5 only in theirs; at equal init and π, pair 0 → 0 learns every mode
    first (shared layers sum over all pairs, which damps the contrast)."""
    modes = task_modes(np.eye(4), HIERARCHY)
    pairs = np.zeros((6, 6))
    pairs[:4, 0] = pairs[0, :4] = pairs[5, 5] = 1.0
    sol = integrate_race(modes, pairs, 0.1, 400, 0.05, 0.05, 0.05, n_shared=n_shared)
    times = half_time(sol.epochs, sol.strength, modes.asymptote)  # (M_out, M_in, r)
    assert np.isfinite(times[[0, 5], [0, 5]]).all()
    assert (times[0, 0] < ratio * times[5, 5]).all()


def test_with_normalised_weights_k_drops_out_of_the_symmetric_race():
    """7 pathways, input i training outputs i−1..i+2 (K = 4) or only i (K = 1): at the same
    init and normalised π every layer's summed weight is the same, so the shared mode
    learns at the same pace; only a larger weight per pair speeds it up."""
    modes = task_modes(np.eye(4), HIERARCHY)
    init = random_init_overlaps(0.3, 7)
    wide = integrate_race(modes, circulant(7, [-1, 0, 1, 2]), 0.05, 400, *init, n_shared=1)
    narrow = integrate_race(modes, circulant(7, [0]), 0.05, 400, *init, n_shared=1)
    np.testing.assert_allclose(wide.b_in, narrow.b_in, rtol=1e-10)
    np.testing.assert_allclose(wide.strength[:, 0, 0], narrow.strength[:, 0, 0], rtol=1e-10)  # pair 0 → 0
    # Gradient flow: the K = 1 network with 4× the weight per pair (4× the lr) runs 4× faster.
    flow = integrate_race(modes, circulant(7, [-1, 0, 1, 2]), 0.05, 400, *init, n_shared=1, method="rk45")
    heavier = integrate_race(modes, circulant(7, [0]), 0.2, 100, *init, n_shared=1, method="rk45")
    t_wide = half_time(flow.epochs, flow.strength[:, 0, 0], modes.asymptote)
    assert np.isfinite(t_wide).all()
    np.testing.assert_allclose(half_time(heavier.epochs, heavier.strength[:, 0, 0], modes.asymptote),
                               t_wide / 4, rtol=1e-2)  # linear interpolation between epochs
