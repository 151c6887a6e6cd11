"""Trainer features for sweeps: per-member learning rates, online fresh samples, mean field.

A learning-rate grid trains as one ensemble with every member bit-identical to its solo
run; online training draws fresh samples each step, independently per member, and resumes
exactly; the mean-field MLP computes (1/m) Σ a_j relu(w_j·x + b_j) and scales lr by m;
MemberSGD/MemberAdam follow torch.optim's formulas.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from learnscope import train as train_module
from learnscope.models.mlp import MLPConfig
from learnscope.optim import MemberAdam, MemberSGD
from learnscope.train import OnlineSampler, train, train_group

KIND = "binary"


def _equal(a, b):
    assert a.curves == b.curves
    for (sa, wa), (sb, wb) in zip(a.snapshots, b.snapshots, strict=True):
        assert sa == sb and all(torch.equal(wa[k], wb[k]) for k in wa)


def _with_lr(spec, lr):
    return dataclasses.replace(spec, train=dataclasses.replace(spec.train, lr=lr))


def test_a_learning_rate_grid_trains_as_one_ensemble(make_spec, tiny_tensors):
    specs = [_with_lr(make_spec(seed=s), lr) for s, lr in ((0, 1.0e-2), (1, 3.0e-3), (2, 1.0e-3))]
    together = train_group(specs, tiny_tensors, KIND)
    for spec, member in zip(specs, together):
        _equal(member, train(spec, tiny_tensors, KIND))
    assert together[0].curves[-1][1] != together[2].curves[-1][1]


@pytest.mark.parametrize("optimizer, torch_cls, extra", [
    ("sgd", torch.optim.SGD, {"momentum": 0.9, "weight_decay": 1.0e-3}),
    ("adam", torch.optim.Adam, {"weight_decay": 1.0e-3, "betas": (0.9, 0.98)}),
    ("adamw", torch.optim.AdamW, {"weight_decay": 1.0, "betas": (0.9, 0.98)}),
])
def test_member_optimizers_follow_torch(optimizer, torch_cls, extra):
    torch.manual_seed(0)
    p0 = torch.randn(3, 4, 5)
    lrs = torch.tensor([0.1, 0.01, 0.001])
    mine = torch.nn.Parameter(p0.clone())
    ours = MemberSGD([mine], lr=lrs, **extra) if optimizer == "sgd" else \
        MemberAdam([mine], lr=lrs, decoupled=optimizer == "adamw", **extra)
    refs = [torch.nn.Parameter(p0[e].clone()) for e in range(3)]
    theirs = [torch_cls([r], lr=float(lrs[e]), **extra) for e, r in enumerate(refs)]
    for _ in range(20):
        grad = torch.randn(3, 4, 5)
        mine.grad = grad.clone()
        ours.step()
        for e, (r, opt) in enumerate(zip(refs, theirs)):
            r.grad = grad[e].clone()
            opt.step()
    # Vectorised per-member updates vs torch's: the same float32 arithmetic arranged differently,
    # equal to rounding. Relative 1e-5, atol scaled to the parameters (|p| up to ~5): another
    # member's lr moves them by > 5e-2 of that scale, a dropped weight decay by > 5e-3 (member 0).
    for e in range(3):
        torch.testing.assert_close(mine[e], refs[e], rtol=1e-5, atol=1e-5 * float(refs[e].detach().abs().max()))


def test_online_training_draws_fresh_samples_per_member(make_spec):
    specs = [dataclasses.replace(make_spec(seed=s), train=dataclasses.replace(make_spec().train, online=True))
             for s in (0, 1)]
    sampler = OnlineSampler(specs, torch.device("cpu"), chunk=4)
    x0, y0 = sampler.batch(0)
    x1, _ = sampler.batch(1)
    x5, _ = sampler.batch(5)  # next chunk
    assert x0.shape == (2, specs[0].train.batch_size, specs[0].task.n_inputs)
    assert not torch.equal(x0[0], x0[1]) and not torch.equal(x0[0], x1[0]) and not torch.equal(x1[0], x5[0])
    assert torch.equal(y0[0], specs[0].task.target(x0[0]))
    alone = OnlineSampler(specs[1:], torch.device("cpu"), chunk=4)
    assert torch.equal(alone.batch(5)[0][0], x5[1])  # a member's samples ignore the others


def test_online_runs_are_group_independent_and_resume_exactly(make_spec, tiny_tensors, tmp_path, monkeypatch):
    online = dataclasses.replace(make_spec().train, online=True)
    specs = [dataclasses.replace(make_spec(seed=s), train=online) for s in (0, 1)]
    reference = train_group(specs, tiny_tensors, KIND)
    _equal(reference[1], train(specs[1], tiny_tensors, KIND))
    original, calls = train_module._record, []

    def record(*args, **kwargs):
        calls.append(1)
        if len(calls) == 70:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(train_module, "_record", record)
    with pytest.raises(KeyboardInterrupt):
        train_group(specs, tiny_tensors, KIND, resume=tmp_path / "r.nc", resume_interval_s=0)
    monkeypatch.setattr(train_module, "_record", original)
    for a, b in zip(reference, train_group(specs, tiny_tensors, KIND, resume=tmp_path / "r.nc",
                                           resume_interval_s=0)):
        _equal(a, b)


def test_mean_field_network_is_an_average_of_neurons():
    cfg = MLPConfig(parametrization="mean_field", init_scale=1.0)
    net = cfg.build(5, 1, 64, torch.Generator().manual_seed(0))
    x = torch.randn(7, 5)
    w, b = net.layers[0].weight, net.layers[0].bias
    a, c = net.layers[1].weight[0], net.layers[1].bias
    by_hand = (torch.relu(x @ w.T + b) @ a + c) / 64
    # nn.Linear vs hand-written products, then bmm vs mm: equal to float32 rounding.
    torch.testing.assert_close(net(x)[:, 0], by_hand, rtol=1e-5, atol=1e-5 * float(by_hand.detach().abs().max()))
    assert net.layers[1].weight.abs().max() > 0.5  # O(1) readout weights
    assert cfg.lr_scale(64) == 64 and MLPConfig().lr_scale(64) == 1
    ensemble = cfg.build_ensemble(5, 1, 64, [torch.Generator().manual_seed(0)])
    expected = net(x)
    torch.testing.assert_close(ensemble(x)[0], expected, rtol=1e-5, atol=1e-5 * float(expected.detach().abs().max()))
