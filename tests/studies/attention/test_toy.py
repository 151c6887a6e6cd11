"""The diagonal attention toy (learnscope.studies.attention.toy): gradient vs autograd, and the
stagewise learning at small init that the gradual-rank-increase paper predicts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learnscope.features.plateaus import Drop
from learnscope.studies.attention.toy import (entries_per_stage, find_stages, head_forward,
                                              loss_and_grad, make_teacher_data, train_toy)

A_STAR, B_STAR = np.array([1.5, 1.0, 0.5]), np.array([4.0, 2.0, 1.0])  # d = 3 teacher directions
ALPHAS = (1e-4, 1e-2, 0.5)
LR, N_STEPS = 0.03, 1500


def torch_loss(X, Y_star, q, k, v, o):
    """The toy's loss written directly in torch: softmax(X diag(qk) Xᵀ) X diag(vo), per member."""
    S = torch.einsum("nsi,ei,nti->enst", X, q * k, X)
    Y = torch.einsum("enst,ntj,ej->ensj", torch.softmax(S, dim=-1), X, v * o)
    return 0.5 * ((Y - Y_star) ** 2).sum(dim=(1, 2, 3)) / (X.shape[0] * X.shape[1])


def test_gradient_matches_autograd():
    rng = np.random.default_rng(0)
    X, Y_star = rng.standard_normal((5, 4, 3)), rng.standard_normal((5, 4, 3))
    params = [rng.standard_normal((2, 3)) for _ in range(4)]  # q, k, v, o for E = 2, mixed signs
    loss, grads = loss_and_grad(X, Y_star, *params)
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    ref = torch_loss(torch.tensor(X), torch.tensor(Y_star), *tensors)
    ref.sum().backward()
    np.testing.assert_allclose(loss, ref.detach().numpy(), rtol=1e-12)
    for g, t in zip(grads, tensors):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_zero_attention_diagonal_averages_the_sequence():
    X = np.random.default_rng(1).standard_normal((2, 5, 3))
    b = np.array([[1.0, -2.0, 0.5]])
    A, Y = head_forward(X, np.zeros((1, 3)), b)
    np.testing.assert_allclose(A, 0.2)
    np.testing.assert_allclose(Y[0], np.broadcast_to(X.mean(1, keepdims=True) * b[0], X.shape))


def test_entries_per_stage_on_planted_switches():
    steps = np.arange(0.0, 101.0)
    products = 1 / (1 + np.exp(-(steps[:, None] - [20.0, 50.0, 80.0]) / 2))  # (101, 3)
    products[:, 1] *= -3  # a large negative switch counts as well
    drops = [Drop(s, s - 3, s + 3, 1.0, 0.5) for s in (20.0, 50.0, 80.0)]
    got = entries_per_stage(steps, np.concatenate([products, 1e-3 * products], 1), drops)
    assert [g.tolist() for g in got] == [[0], [1], [2]]  # the tiny copies never switch on


def test_train_toy_rejects_alpha_without_log_scale():
    X = np.zeros((1, 2, 2))
    with pytest.raises(ValueError, match="alphas"):
        train_toy(X, X, [1.0], lr=0.1, n_steps=1)


@pytest.fixture(scope="module")
def run():
    X, Y_star = make_teacher_data(A_STAR, B_STAR, 32, 6, np.random.default_rng(0))
    return train_toy(X, Y_star, ALPHAS, lr=LR, n_steps=N_STEPS, log_every=5)


def _stages(run, member):
    drops = find_stages(run, member)
    products = np.concatenate([run.qk[member], run.vo[member]], 1)  # entries 0..2: qk, 3..5: vo
    return drops, entries_per_stage(run.steps, products, drops)


def test_time_axis_is_rescaled_by_log_inverse_alpha(run):
    np.testing.assert_allclose(run.time, run.steps * LR / np.log(1 / np.array(ALPHAS))[:, None])


def test_loss_decreases_to_near_zero(run):
    assert np.all(run.loss[:, -1] < 1e-6 * run.loss[:, 0])
    np.testing.assert_allclose(run.qk[:, -1], np.broadcast_to(A_STAR, (3, 3)), atol=1e-3)
    np.testing.assert_allclose(run.vo[:, -1], np.broadcast_to(B_STAR, (3, 3)), atol=1e-3)


@pytest.mark.parametrize("member", [0, 1])  # α = 1e-4, 1e-2
def test_small_alpha_one_stage_per_teacher_direction(run, member):
    drops, entries = _stages(run, member)
    assert len(drops) == 3
    # Stage k switches on direction k (largest teacher first): one qk entry and one vo entry,
    # so the rank of Δ(W_K W_Qᵀ) grows by exactly one per stage.
    assert [sorted(e.tolist()) for e in entries] == [[0, 3], [1, 4], [2, 5]]


def test_stage_times_agree_across_small_alphas(run):
    """The staircase against t·lr/log(1/α) has a limit as α → 0: the first two stages of α = 1e-2
    and 1e-4 land at the same rescaled time (the last drop's step is pulled by the floor)."""
    tau = [np.array([d.step for d in find_stages(run, m)[:2]]) * LR / np.log(1 / ALPHAS[m])
           for m in (0, 1)]
    np.testing.assert_allclose(tau[0], tau[1], atol=0.1)


def test_large_alpha_merges_stages(run):
    drops, entries = _stages(run, 2)  # α = 0.5: the init is not small against the teacher
    assert len(drops) < 3
    assert max(int(np.sum(e < 3)) for e in entries) >= 2  # Δ(W_K W_Qᵀ) gains rank 2 at once
