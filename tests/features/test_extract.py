"""The features stage's batched measurements equal the one-network-at-a-time computations.

``measure_group`` puts every snapshot of every run into one ensemble; here each number is
recomputed per snapshot with a single ``nn.Module``, the generic ``agop`` and the
single-matrix spectra, as a reference.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learnscope import data
from learnscope.features import nfa
from learnscope.features.agop import agop, ensemble_agop
from learnscope.features.nfa import AGOP_MEASURE
from learnscope.features.extract import batched_measures, load_ensemble, load_model, measure_group
from learnscope.features.spectra import singular_values, stable_rank
from learnscope.features.config import FeaturesConfig
from learnscope.run_files import checkpoints_to_xarray
from learnscope.train import evaluate, train_group

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def group(make_spec):
    specs = [make_spec(seed=s, steps=60, n_snapshots=5) for s in (0, 1)]
    dataset = data.dataset_to_xarray(specs[0].task, specs[0].task.make_dataset())
    tensors = data.load_tensors(dataset, CPU)
    states = train_group(specs, tensors, dataset.attrs["kind"])
    checkpoints = [checkpoints_to_xarray(s, st) for s, st in zip(specs, states)]
    return specs, dataset, tensors, checkpoints


def test_group_measurements_equal_per_snapshot_reference(group):
    specs, dataset, tensors, checkpoints = group
    cfg = FeaturesConfig(agop_samples=128)
    measured = measure_group(specs, cfg, dataset, checkpoints, CPU)
    x = tensors["x_train"][:128]
    for spec, m, ck in zip(specs, measured, checkpoints):
        w0 = load_model(spec, ck, 0, CPU).layers[0].weight.detach()
        # Batched (ensemble) kernels vs one nn.Module: float32 sums in another order, equal to
        # rounding. Relative tolerances, atol scaled to each quantity's largest entry (correlations:
        # scale 1); the AGOP of the neighbouring snapshot or the other member differs by > 0.4 of it.
        for i in range(ck.sizes["step"]):
            model = load_model(spec, ck, i, CPU)
            g = agop(model, x).double()
            np.testing.assert_allclose(m["agop"][i], g.numpy(), rtol=1e-4, atol=1e-5 * float(g.abs().max()))
            loss, acc = evaluate(model, "binary", tensors["x_test"], tensors["y_test"])
            assert m["test_loss"][i] == pytest.approx(loss, rel=1e-5) and m["test_acc"][i] == acc
            w = model.layers[0].weight.detach()
            sv = singular_values(w - w0).numpy()
            np.testing.assert_allclose(m["sv:layers.0.weight"][i], sv, rtol=1e-5, atol=1e-5 * sv.max(initial=0.0))
            assert m["dw_stable_rank"][i, 0] == pytest.approx(stable_rank(w - w0), rel=1e-5, abs=1e-9)
            np.testing.assert_allclose(m["nfa_corr"][i], nfa.nfa_correlations(w, w0, g).numpy(),
                                       rtol=1e-4, atol=1e-5)


def test_ensemble_agop_equals_agop_of_each_member(group):
    specs, _, tensors, checkpoints = group
    states = [{v.attrs["torch_name"]: torch.from_numpy(v.values[-1].copy()) for v in ck.data_vars.values()}
              for ck in checkpoints]
    model = load_ensemble(specs[0], states, CPU)
    x = tensors["x_train"][:100]
    together = ensemble_agop(model, x, row_chunk=30)  # several chunks, the last one short
    for e, ck in enumerate(checkpoints):
        single = agop(load_model(specs[e], ck, ck.sizes["step"] - 1, CPU), x)
        torch.testing.assert_close(together[e], single, rtol=1e-4, atol=1e-5 * float(single.abs().max()))
    assert all(p.grad is None for p in model.parameters())


def test_a_members_agop_does_not_depend_on_the_ensemble(group):
    """Bit for bit: the same network alone, in a pair, or in blocks of any size."""
    specs, dataset, tensors, checkpoints = group
    states = [{v.attrs["torch_name"]: torch.from_numpy(v.values[i].copy()) for v in ck.data_vars.values()}
              for ck in checkpoints for i in range(ck.sizes["step"])]
    cfg = FeaturesConfig(agop_samples=200)
    whole = batched_measures(specs[0], states, tensors, "binary", cfg, (AGOP_MEASURE,))
    tiny_blocks = batched_measures(specs[0], states, tensors, "binary", cfg, (AGOP_MEASURE,), max_elements=1)
    for key in whole:
        assert np.array_equal(whole[key], tiny_blocks[key]), key
    alone = ensemble_agop(load_ensemble(specs[0], states[:1], CPU), tensors["x_train"][:200], row_chunk=64)
    pair = ensemble_agop(load_ensemble(specs[0], states[:2], CPU), tensors["x_train"][:200], row_chunk=64)
    assert torch.equal(alone[0], pair[0])
