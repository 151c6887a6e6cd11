"""Recursive Feature Machines (learnscope.rfm): closed-form AGOP = autograd, M stays symmetric
PSD, M = I is plain Laplace kernel ridge regression, and the paper's demo learns its features."""

import numpy as np
import pytest
import torch
from sklearn.kernel_ridge import KernelRidge

from learnscope.rfm import RFM, laplace_kernel


def demo(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.5, (n, 20))
    return x, x[:, 0] * x[:, 1] * (x[:, 5] > 0)


def test_closed_form_gradients_equal_autograd():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 5)), rng.normal(size=(40, 2))
    rfm = RFM(bandwidth=2.0, ridge=1e-2, iterations=1).fit(x, y)
    points = rng.normal(size=(7, 5))  # away from the training inputs: the kernel is smooth there
    xt = torch.tensor(points, requires_grad=True)
    m, train, alpha = (torch.tensor(a) for a in (rfm.M_, rfm.x_train_, rfm.alpha_))
    diff = xt[:, None, :] - train[None, :, :]
    dist = torch.sqrt(torch.einsum("abi,ij,abj->ab", diff, m, diff))
    f = torch.exp(-dist / 2.0) @ alpha  # (7, 2)
    expected = np.stack([torch.autograd.grad(f[:, c].sum(), xt, retain_graph=True)[0].numpy() for c in range(2)],
                        axis=1)
    np.testing.assert_allclose(rfm.gradients(points), expected, rtol=1e-9, atol=1e-12)  # float64 both
    grads = expected.reshape(-1, 5)
    np.testing.assert_allclose(rfm.agop(points), grads.T @ grads / 7, rtol=1e-9, atol=1e-12)


def test_metric_stays_symmetric_positive_semidefinite():
    x, y = demo(300, 0)
    rfm = RFM(iterations=3).fit(x, y)
    for entry in rfm.history_:
        m = entry["M"]
        assert np.array_equal(m, m.T)
        assert np.linalg.eigvalsh(m).min() > -1e-12 * np.abs(m).max()


def test_identity_metric_is_laplace_kernel_ridge():
    x, y = demo(200, 1)
    x_test, _ = demo(50, 2)
    rfm = RFM(bandwidth=10.0, ridge=1e-3, iterations=0).fit(x, y)
    ridge = KernelRidge(alpha=1e-3, kernel="precomputed").fit(laplace_kernel(x, x, np.eye(20), 10.0), y)
    np.testing.assert_allclose(rfm.predict(x_test), ridge.predict(laplace_kernel(x_test, x, np.eye(20), 10.0)),
                               rtol=1e-6, atol=1e-9)
    assert np.array_equal(rfm.M_, np.eye(20))


def test_demo_learns_the_three_relevant_coordinates():
    x, y = demo(1500, 3)
    x_test, y_test = demo(500, 4)
    rfm = RFM(bandwidth=10.0, ridge=1e-3, iterations=3).fit(x, y, x_test, y_test)
    mse = [entry["test_mse"] for entry in rfm.history_]
    assert mse[-1] < mse[0] / 2  # the learned metric helps several-fold
    assert set(np.argsort(-np.diag(rfm.M_))[:3].tolist()) == {0, 1, 5}
    assert rfm.predict(x_test).shape == (500,)


def test_each_metric_is_the_previous_predictors_agop_over_its_largest_entry():
    x, y = demo(200, 5)
    normalised = RFM(iterations=2).fit(x, y)
    raw = RFM(iterations=1, normalise=False).fit(x, y)
    first = RFM(iterations=0).fit(x, y)
    np.testing.assert_allclose(raw.M_, first.agop(x), rtol=1e-12)
    np.testing.assert_allclose(normalised.history_[1]["M"], raw.M_ / np.abs(raw.M_).max(), rtol=1e-12)
    assert [np.abs(entry["M"]).max() for entry in normalised.history_] == [1.0, 1.0, 1.0]


def test_a_constant_predictor_names_the_iteration():
    x = np.random.default_rng(0).normal(size=(30, 4))
    with pytest.raises(ValueError, match="RFM iteration 1: the predictor's AGOP is zero"):
        RFM(iterations=2).fit(x, np.zeros(30))
