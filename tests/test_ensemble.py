"""Ensemble training: runs differing only in seed train as one batched model.

Checks that each member equals its run trained alone and does not depend on the other
members (bit for bit: adding a seed leaves the old seeds' files byte-identical), equals an
independent plain-PyTorch reference loop (float tolerance: ``baddbmm`` vs ``nn.Linear``),
resumes exactly, and that a diverging member is named.
"""

from __future__ import annotations

import dataclasses
import filecmp

import numpy as np
import pytest
import torch

from learnscope import data, metrics, run_files, store
from learnscope import train as train_module
from learnscope.errors import DivergenceError
from learnscope.features.extract import features_group_run
from learnscope.features.config import FeaturesConfig
from learnscope.train import group_name, seed_for, train, train_group, train_group_run

KIND = "binary"


def _equal_states(a, b):
    assert a.curves == b.curves
    for (sa, wa), (sb, wb) in zip(a.snapshots, b.snapshots, strict=True):
        assert sa == sb and all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.fixture
def seeds3(make_spec):
    return [make_spec(seed=s) for s in (0, 1, 2)]


def test_each_member_equals_its_run_trained_alone_bit_for_bit(seeds3, tiny_tensors):
    together = train_group(seeds3, tiny_tensors, KIND)
    for spec, member in zip(seeds3, together):
        _equal_states(member, train(spec, tiny_tensors, KIND))


def test_members_differ(seeds3, tiny_tensors):
    a, b, _ = train_group(seeds3, tiny_tensors, KIND)
    assert not torch.equal(a.snapshots[-1][1]["layers.0.weight"], b.snapshots[-1][1]["layers.0.weight"])


def test_member_equals_a_plain_pytorch_loop(make_spec, tiny_tensors):
    """An independent reference: nn.Module MLP, torch Adam, the same generators."""
    spec = make_spec(seed=1)
    cfg = spec.train
    model = spec.model.build(spec.task.n_inputs, 1, spec.width,
                             torch.Generator().manual_seed(seed_for(spec.seed, "init")))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(seed_for(spec.seed, "batch"))
    x, y = tiny_tensors["x_train"], tiny_tensors["y_train"]
    for _ in range(cfg.steps):
        idx = torch.randint(x.shape[0], (cfg.batch_size,), generator=g)
        loss = ((model(x[idx])[:, 0] - y[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    final = train_group([make_spec(seed=0), spec], tiny_tensors, KIND)[1].snapshots[-1][1]
    # Training carries the float32 rounding differences of the two kernels along (~1e-6 of each
    # tensor's scale): relative 1e-4, atol = 1e-4 * max|p|; an lr off by 10% moves them by > 5e-3.
    for name, p in model.state_dict().items():
        torch.testing.assert_close(final[name], p, rtol=1e-4, atol=1e-4 * float(p.abs().max()))


def test_adding_a_seed_leaves_the_old_seeds_bit_identical(seeds3, tiny_tensors):
    two = train_group(seeds3[:2], tiny_tensors, KIND)
    three = train_group(seeds3, tiny_tensors, KIND)
    for a, b in zip(two, three):
        _equal_states(a, b)


def test_adding_a_seed_leaves_the_old_seeds_files_byte_identical(seeds3, tmp_path, monkeypatch):
    """Train and features stages, groups of 2 then 3 seeds: the first two seeds' files agree."""
    for n in (2, 3):
        (tmp_path / str(n)).mkdir()
        monkeypatch.chdir(tmp_path / str(n))
        specs = seeds3[:n]
        data.generate(specs[0].task, "d.nc")
        ck = [f"{s.name}/checkpoints.nc" for s in specs]
        train_group_run(specs, "d.nc", ck, [f"{s.name}/curves.nc" for s in specs], ["d.nc"])
        features_group_run(specs, FeaturesConfig(agop_samples=128), "d.nc", ck,
                           [f"{s.name}/features.nc" for s in specs], ["d.nc", *ck])
    for spec in seeds3[:2]:
        for name in ("checkpoints.nc", "curves.nc", "features.nc"):
            assert filecmp.cmp(tmp_path / "2" / spec.name / name, tmp_path / "3" / spec.name / name,
                               shallow=False), name


def test_a_group_resumes_exactly(seeds3, tiny_tensors, tmp_path, monkeypatch):
    reference = train_group(seeds3, tiny_tensors, KIND)
    original, calls = train_module._record, []

    def record(*args, **kwargs):
        calls.append(1)
        if len(calls) == 60:
            raise KeyboardInterrupt  # killed
        return original(*args, **kwargs)

    monkeypatch.setattr(train_module, "_record", record)
    resume = tmp_path / "group.nc"
    with pytest.raises(KeyboardInterrupt):
        train_group(seeds3, tiny_tensors, KIND, resume=resume, resume_interval_s=0)
    assert resume.exists()
    monkeypatch.setattr(train_module, "_record", original)
    for a, b in zip(reference, train_group(seeds3, tiny_tensors, KIND, resume=resume, resume_interval_s=0)):
        _equal_states(a, b)


def test_a_group_must_differ_only_in_seed(make_spec, tiny_tensors):
    a = make_spec(seed=0)
    b = dataclasses.replace(make_spec(seed=1), width=a.width * 2)
    with pytest.raises(ValueError, match="more than its seed"):
        train_group([a, b], tiny_tensors, KIND)
    with pytest.raises(ValueError, match="repeated runs"):
        train_group([a, a], tiny_tensors, KIND)


def test_a_diverging_member_is_named(seeds3, tiny_tensors, monkeypatch):
    real_loss = metrics.loss

    def loss(kind, out, y):
        value = real_loss(kind, out, y)
        if value.dim() == 1 and out.shape[-2] == seeds3[0].train.batch_size:
            value = value * torch.tensor([1.0, float("nan"), 1.0])  # member 1 diverges
        return value

    monkeypatch.setattr(train_module.metrics, "loss", loss)
    with pytest.raises(DivergenceError, match=seeds3[1].name + r": training loss is nan at step 0"):
        train_group(seeds3, tiny_tensors, KIND)


def test_group_name_drops_the_seed(seeds3):
    assert group_name(seeds3) == seeds3[0].name.rsplit("-s", 1)[0]
    assert store.resume_path(group_name(seeds3)).endswith(f"{group_name(seeds3)}.nc")


# ---- on_divergence: stop (learning-rate grids) ------------------------------------------------
@pytest.fixture(scope="module")
def lr_grid(make_spec):
    """Seed 0 at a sane lr and at one that blows up within a few steps, plus seed 1."""
    recipe = dict(optimizer="sgd", on_divergence="stop", steps=120)
    return [dataclasses.replace(make_spec(seed=0, lr=0.05, **recipe), tag="good"),
            dataclasses.replace(make_spec(seed=0, lr=400.0, **recipe), tag="bad"),
            dataclasses.replace(make_spec(seed=1, lr=0.05, **recipe), tag="good")]


def test_a_diverging_member_stops_and_the_others_are_untouched(lr_grid, tiny_tensors):
    good, bad, other = train_group(lr_grid, tiny_tensors, KIND)
    _equal_states(good, train(lr_grid[0], tiny_tensors, KIND))
    _equal_states(other, train(lr_grid[2], tiny_tensors, KIND))
    assert good.diverged_at is None and bad.diverged_at is not None and 0 < bad.diverged_at < 120
    curves = np.array(bad.curves)
    late = curves[:, 0] >= bad.diverged_at
    assert np.isnan(curves[late, 1:]).all() and np.isfinite(curves[~late, 1:]).all() and late.any()
    frozen = [w for step, w in bad.snapshots if step <= bad.diverged_at][-1]
    for step, weights in bad.snapshots:
        assert all(torch.isfinite(v).all() for v in weights.values())
        if step >= bad.diverged_at:
            assert all(torch.equal(weights[k], frozen[k]) for k in weights)


def test_a_group_with_a_stopped_member_resumes_exactly(lr_grid, tiny_tensors, tmp_path, monkeypatch):
    reference = train_group(lr_grid, tiny_tensors, KIND)
    original, calls = train_module._record, []

    def record(*args, **kwargs):
        calls.append(1)
        if len(calls) == 90:  # past the divergence
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(train_module, "_record", record)
    resume = tmp_path / "group.nc"
    with pytest.raises(KeyboardInterrupt):
        train_group(lr_grid, tiny_tensors, KIND, resume=resume, resume_interval_s=0)
    monkeypatch.setattr(train_module, "_record", original)
    resumed = train_group(lr_grid, tiny_tensors, KIND, resume=resume, resume_interval_s=0)
    for a, b in zip(reference, resumed):
        _equal_states(a, b)
        assert a.diverged_at == b.diverged_at


def test_stopped_runs_write_the_step_and_features_mask_it(lr_grid, tiny_tensors):
    from learnscope.features.extract import _mask_after_divergence
    bad = train_group(lr_grid, tiny_tensors, KIND)[1]
    checkpoints = run_files.checkpoints_to_xarray(lr_grid[1], bad)
    assert checkpoints.attrs["diverged_at_step"] == bad.diverged_at
    assert run_files.curves_to_xarray(lr_grid[1], bad, KIND).attrs["diverged_at_step"] == bad.diverged_at
    steps = checkpoints["step"].values
    masked = _mask_after_divergence({"test_loss": np.ones(len(steps)), "coord_mass": np.ones((len(steps), 3)),
                                     "_matrices": ["x"]}, checkpoints)
    assert np.isnan(masked["test_loss"][steps >= bad.diverged_at]).all()
    assert np.isnan(masked["coord_mass"][steps >= bad.diverged_at]).all()
    assert (masked["coord_mass"][steps < bad.diverged_at] == 1).all() and masked["_matrices"] == ["x"]


def test_a_member_that_is_not_finite_at_step_0_fails_even_with_stop(lr_grid, tiny_tensors, monkeypatch):
    """There is no earlier snapshot to stop at, so the run is named as with ``fail``."""
    real = train_module.evaluate_members

    def evaluate_members(model, kind, x, y):
        out = real(model, kind, x, y)
        out[1, 0] = np.nan
        return out

    monkeypatch.setattr(train_module, "evaluate_members", evaluate_members)
    with pytest.raises(DivergenceError, match=lr_grid[1].name + r": evaluation loss is nan at step 0"):
        train_group(lr_grid, tiny_tensors, KIND)
