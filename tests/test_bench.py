"""The benchmark suite on tiny sizes: every headline key is a finite number, the JSON writes,
and the per-sample reference AGOP agrees with the vectorised ``agop``. No timing is asserted."""

from __future__ import annotations

import json
import math

import torch

from learnscope import bench
from learnscope.features.agop import agop

TINY = bench.BenchSizes(n_runs=2, d=8, width=16, batch_size=8, steps=20, n_train=64, n_test=32, gemm_n=64,
                        agop_d=6, agop_width=16, agop_n=40, agop_n_loop=10, repeats=1, snapshot_repeats=1)


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
    torch.testing.assert_close(bench.agop_loop(model, x), expected, rtol=1e-5, atol=1e-6)


def test_flop_formula():
    s = bench.BenchSizes(n_runs=1, d=2, width=3, batch_size=5, steps=1)
    assert bench.mlp_train_flops(s) == 3 * 2 * 5 * (2 * 3 + 3)
