"""The benchmark suite on tiny sizes: every headline key is a finite number, the JSON writes,
and the per-sample reference AGOP agrees with the vectorised ``agop``. No timing is asserted."""

from __future__ import annotations

import json
import math

import numpy as np
import torch

from learnscope import bench
from learnscope.bench_layer_agop import LayerAgopBenchSizes, member_loop, networks
from learnscope.bench_probing import ProbingBenchSizes
from learnscope.bench_rfm import RfmBenchSizes, autograd_agop, fitted
from learnscope.bench_similarity import SimilarityBenchSizes, pairwise_loop, representations
from learnscope.features.agop import agop, ensemble_layer_agops
from learnscope.similarity import distance_matrices

TINY = bench.BenchSizes(n_runs=2, d=8, width=16, batch_size=8, steps=20, n_train=64, n_test=32, gemm_n=64,
                        agop_d=6, agop_width=16, agop_n=40, agop_n_loop=10, repeats=1, snapshot_repeats=1,
                        gdln_steps=2, similarity=SimilarityBenchSizes(n_reps=3, n_samples=20, n_features=4, n_lams=2),
                        probing=ProbingBenchSizes(n_bits=6, n_units=8, n_fit=40, n_val=40, n_probes=12, n_loop=3),
                        rfm=RfmBenchSizes(n=60, d=6, n_loop=5),
                        layer_agop=LayerAgopBenchSizes(members=3, d=5, width=8, outputs=2, n=30, n_loop=2))


def test_run_benchmarks_json_has_every_key(tmp_path, monkeypatch):
    result = bench.run_benchmarks(TINY)
    out = tmp_path / "bench.json"
    monkeypatch.setenv("BENCH_OUT", str(out))
    monkeypatch.setattr(bench, "run_benchmarks", lambda: result)
    bench.main()
    written = json.loads(out.read_text())
    for key in bench.TARGETS:
        value = written[key]
        assert isinstance(value, float) and math.isfinite(value), (key, value)
    detail = written["detail"]
    assert {"torch", "threads", "cpu_count", "platform", "times_s", "gflops"} <= detail.keys()
    assert math.isfinite(detail["gflops"]["gemm"]) and detail["gflops"]["gemm"] > 0
    assert all(math.isfinite(t) and t > 0 for t in detail["times_s"].values())


def test_agop_loop_matches_vectorised_agop():
    model, x = bench.agop_model_and_inputs(TINY)
    expected = agop(model, x, chunk_size=16)  # 40 samples: three chunks
    # Per-sample autograd vs batched Jacobians: the same float32 sums in another order, equal to
    # rounding; relative 1e-5 with atol scaled to the AGOP (entries up to ~6e-3 here).
    torch.testing.assert_close(bench.agop_loop(model, x), expected, rtol=1e-5,
                               atol=1e-5 * float(expected.abs().max()))


def test_flop_formula():
    s = bench.BenchSizes(n_runs=1, d=2, width=3, batch_size=5, steps=1)
    assert bench.mlp_train_flops(s) == 3 * 2 * 5 * (2 * 3 + 3)


def test_gdln_pair_loop_trains_the_same_networks_as_the_ensemble():
    """The baseline is a fair reference: the notebook's per-pair loop reaches the weights
    ``train_group`` reaches from the same inits."""
    from learnscope import data
    from learnscope.bench_gdln import GdlnBenchSizes, gdln_specs, pair_loop_baseline
    from learnscope.train import train_group

    specs = gdln_specs(GdlnBenchSizes(n_runs=2, pathways=4, width=8, steps=30), bench.COMPUTE)
    task = specs[0].task
    tensors = data.load_tensors(data.dataset_to_xarray(task, task.make_dataset()), torch.device("cpu"))
    states = train_group(specs, tensors, "vector")
    for net, state in zip(pair_loop_baseline(specs), states):
        final = state.snapshots[-1][1]  # (step, weights) of the last snapshot
        for name, value in net.state_dict().items():
            # Training carries float32 rounding differences (loop vs bmm) along: relative 1e-4.
            torch.testing.assert_close(value, final[name], rtol=1e-4, atol=1e-4 * float(final[name].abs().max()))


def test_similarity_baseline_computes_the_same_matrices():
    """The pairwise loop and the batched matrices agree, so the ratio compares equal work."""
    sizes = SimilarityBenchSizes(n_reps=4, n_samples=30, n_features=5, n_lams=3)
    reps, lams = representations(sizes), np.geomspace(1e-3, 10.0, sizes.n_lams)
    loop, batched = pairwise_loop(reps, lams), distance_matrices(reps, lams)
    for name in loop:
        np.testing.assert_allclose(loop[name], batched[name], rtol=1e-10, atol=1e-12)


def test_rfm_autograd_baseline_matches_the_closed_form_agop():
    rfm = fitted(RfmBenchSizes(n=60, d=6))
    points = rfm.x_train_[:10]  # training inputs: the i = j term is 0 in both (autograd: distance floored)
    expected = rfm.agop(points)  # float64 on both sides; the tolerance leaves room for other summation orders
    np.testing.assert_allclose(autograd_agop(rfm, points), expected, rtol=1e-6, atol=1e-9 * np.abs(expected).max())


def test_layer_agop_baseline_matches_the_batched_layer_agops():
    members, ensemble, x = networks(LayerAgopBenchSizes(members=3, d=5, width=8, outputs=2, n=30))
    batched = ensemble_layer_agops(ensemble, x)
    for e, layers in enumerate(member_loop(members, x)):
        for layer, expected in enumerate(layers):  # float32 on both sides, different kernels
            torch.testing.assert_close(batched[layer][e], expected, rtol=1e-4, atol=1e-6)
