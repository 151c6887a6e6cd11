"""Bad params are refused before any job, with one line naming the dotted key.

Each case edits the text of the repo's params.yaml (so that duplicate keys, bad bytes and
YAML syntax can be written), writes it alone into a fresh folder and loads it as the
pipeline does: one ``ConfigError`` of one line that starts with the file's path and names
the key (or the line, for a fault of the file itself), and nothing else in the folder
afterwards. A few run ``python -m learnscope check`` as ``make run`` does. The resource
limits (``learnscope.limits``) accept the default params, and refuse them once a bound in
``compute`` is lowered below their estimate: the estimate is what is checked.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
import torch
import yaml

from learnscope import limits
from learnscope.errors import ConfigError
from learnscope.params import load_params, read_yaml

DEFAULT = Path(__file__).resolve().parents[2] / "params.yaml"
TEXT = DEFAULT.read_text()


def sub(old: str, new: str) -> Callable[[str], str]:
    """An edit replacing the first ``old`` of the default text by ``new``."""
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


def line_of(fragment: str) -> int:
    """The 1-based line of the default text where ``fragment`` first starts."""
    return TEXT[:TEXT.index(fragment)].count("\n") + 1


def bad_byte(text: str) -> bytes:
    return text.encode().replace(b"activation: relu", b"activation: rel\xff", 1)


def billion_laughs(text: str) -> str:
    lines = ["lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return text + "\n".join(lines) + "\n"


def without_gdln(text: str) -> str:
    return text[:text.index("\ngdln:")] + "\n"


MODEL = "  model:\n    name: mlp\n    depth: 1\n    activation: relu\n    init_scale: 1.0\n"
HUGE = 2**80  # 1208925819614629174706176
END = TEXT.count("\n")  # the last line of the default text; an appended line is END + 1

CASES = [
    # a list or a mapping where a registry name belongs
    pytest.param(sub("family: sparse_parity", "family: [sparse_parity]"), "parity.tasks.sparse_parity.family",
                 id="family-list"),
    pytest.param(sub(MODEL, MODEL.replace("name: mlp", "name: {mlp: 1}")), "parity.model.name", id="name-mapping"),
    pytest.param(sub("family: multi_index", "family: stairs"), "parity.tasks.staircase.family", id="unknown-family"),
    pytest.param(sub(MODEL, MODEL.replace("name: mlp", "name: cnn")), "parity.model.name", id="unknown-model"),
    # the file itself
    pytest.param(bad_byte, f"line {line_of('activation: relu')}, column 20", id="non-utf8"),
    pytest.param(sub("  threads: 1", "\tthreads: 1"), f"line {line_of('  threads: 1')}", id="tab"),
    pytest.param(sub("widths: [64, 256]", "widths: [64, 256"), f"line {line_of('widths: [64, 256]') + 1}",
                 id="yaml-syntax"),
    pytest.param(lambda t: "", "is empty", id="empty-file"),
    pytest.param(lambda t: "- parity\n- leap\n", "must be a mapping of sections", id="yaml-list"),
    pytest.param(billion_laughs, f"line {END + 2}, column 12: YAML aliases (*a0) are not supported", id="alias-bomb"),
    pytest.param(sub("threshold: 0.1", "threshold: 0.1\x07"), f"line {line_of('threshold: 0.1')}",
                 id="control-character"),
    pytest.param(lambda t: t + "deep: " + "[" * 5000 + "]" * 5000 + "\n", f"line {END + 1}, column 38: values are "
                 "nested more than 32 deep", id="deep-nesting"),
    pytest.param(lambda t: t + "#" * (1 << 20) + "\n", "larger than 1 MiB", id="huge-file"),
    pytest.param(sub("lr: 1.0e-2", "? [lr, rate]\n    : 1.0e-2"), f"line {line_of('lr: 1.0e-2')}",
                 id="unhashable-key"),
    # a key given twice
    pytest.param(sub("lr: 1.0e-2\n", "lr: 1.0e-2\n    lr: 1.0e-3\n"),
                 f"parity.train.lr is given twice (lines {line_of('lr: 1.0e-2')} and {line_of('lr: 1.0e-2') + 1})",
                 id="duplicate-key"),
    pytest.param(sub("  seed: 0\n", "  seed: 0\n  seed: 1\n"), "trees.seed is given twice", id="duplicate-leaf"),
    pytest.param(sub("features:\n", "features:\n  agop_samples: 1024\nfeatures:\n"), "features is given twice",
                 id="duplicate-section"),
    pytest.param(sub("p: 23}", "p: 23, p: 29}"), "algebra.margin.task.p is given twice", id="duplicate-flow-key"),
    # floats: finite only
    pytest.param(sub("lr: 1.0e-2", "lr: .inf"), "parity.train.lr", id="lr-inf"),
    pytest.param(sub("weight_decay: 1.0e-4", "weight_decay: .inf"), "algebra.contrast.train.weight_decay",
                 id="weight-decay-inf"),
    pytest.param(sub("threshold: 0.1", "threshold: .nan"), "leap.threshold", id="threshold-nan"),
    pytest.param(sub("init_scales: [0.66", "init_scales: [.nan"), "gdln.init_scales[0]", id="nan-in-a-list"),
    pytest.param(sub("init_scale: 1.0\n", "init_scale: 1.0e+999\n"), "parity.model.init_scale", id="float-overflow"),
    pytest.param(sub("c: [0.5, 1.0]", "c: [0.5, -.inf]"), "leap.c[1]", id="c-minus-inf"),
    # impossible values
    pytest.param(sub("lr: 8.0e-2,", "lr: 8.0e-2, momentum: -1.0,"), "gdln.train.momentum", id="momentum-negative"),
    pytest.param(sub("optimizer: adam\n    lr: 1.0e-2", "optimizer: sgd\n    momentum: 1.5\n    lr: 1.0e-2"),
                 "parity.train.momentum", id="momentum-1.5"),
    pytest.param(sub("k: 3", "k: 21"), "parity.tasks.sparse_parity.k", id="k-above-n_bits"),
    pytest.param(sub("widths: [64, 256]", "widths: [64, 0]"), "parity.widths[1]", id="width-0"),
    pytest.param(sub("steps: 3000", "steps: -5"), "parity.train.steps", id="negative-steps"),
    pytest.param(sub("n_snapshots: 101", "n_snapshots: 1"), "gdln.train.n_snapshots", id="n_snapshots-1"),
    pytest.param(sub("threads: 1", "threads: 0"), "compute.threads", id="threads-0"),
    pytest.param(sub("max_depth: 4", "max_depth: 1000000"), "trees.max_depth", id="max-depth-1e6"),
    pytest.param(sub("group: \"symmetric:4\"", "group: \"symmetric:9\""), "algebra.irreps.task.group",
                 id="group-too-large"),
    pytest.param(sub("group: \"symmetric:4\"", "group: \"cyclic:99999999999\""), "algebra.irreps.task.group",
                 id="group-table-too-large"),
    pytest.param(sub("p: 23}", "p: 100000}"), "algebra.margin.task.p", id="modulus-too-large"),
    pytest.param(sub("pathways: 7, offsets", "pathways: 100000, offsets"), "gdln.task.pathways",
                 id="pathways-too-many"),
    # seeds
    pytest.param(sub("seeds: [0, 1, 2, 3, 4]", f"seeds: [{HUGE}]"), "parity.seeds[0]", id="seed-2**80"),
    pytest.param(sub("seeds: [0, 1, 2, 3, 4]", "seeds: [0, 4294967296]"), "parity.seeds[1]", id="seed-2**32"),
    pytest.param(sub("  seeds: [0, 1, 2]\n  dims", "  seeds: [-1, 1, 2]\n  dims"), "leap.seeds[0]",
                 id="seed-negative"),
    pytest.param(sub("  seed: 0\n", "  seed: 4294967296\n"), "trees.seed", id="trees-seed"),
    pytest.param(sub("k: 3\n", "k: 3\n      data_seed: -3\n"), "parity.tasks.sparse_parity.data_seed",
                 id="data-seed"),
    # wrong types
    pytest.param(sub("steps: 3000", "steps: \"3000\""), "parity.train.steps", id="string-for-int"),
    pytest.param(sub("threads: 1", "threads: true"), "compute.threads", id="bool-for-int"),
    pytest.param(sub("batch_size: 64", "batch_size: 64.0"), "parity.train.batch_size", id="float-for-int"),
    pytest.param(sub("lr: 1.0e-2", "lr: 1e-2"), "parity.train.lr", id="float-without-dot"),
    pytest.param(sub("bias: false}", "bias: nope}"), "algebra.margin.model.bias", id="string-for-bool"),
    pytest.param(sub("n_test: 2000", f"n_test: {HUGE}"), "parity.tasks.sparse_parity.n_test", id="int-over-64-bits"),
    pytest.param(lambda t: re.sub(r"\ntrees:\n(  .*\n)+", "\ntrees: [4, 8192, 4096, 0]\n", t),
                 "trees must be a mapping of keys, got a list", id="list-for-mapping"),
    pytest.param(sub("widths: [64, 256]", "widths: {w: 64}"), "parity.widths", id="mapping-for-list"),
    pytest.param(sub(MODEL, "  model:\n"), "parity.model", id="null-for-a-section"),
    pytest.param(lambda t: without_gdln(t) + "gdln: 3\n", "gdln", id="study-section-scalar"),
    pytest.param(sub("    sparse_parity:\n", "    1:\n"), "parity.tasks.1", id="int-task-name"),
    # unknown keys at every level
    pytest.param(sub("parity:\n", "paritty:\n"), "paritty", id="unknown-section"),
    pytest.param(sub("widths:", "widthz:"), "parity.widthz", id="unknown-study-key"),
    pytest.param(sub("k: 3", "kk: 3"), "parity.tasks.sparse_parity.kk", id="unknown-task-key"),
    pytest.param(sub("p: 23}", "p: 23, q: 1}"), "algebra.margin.task.q", id="unknown-flow-key"),
    pytest.param(sub("budget_power: 1.0", "budget_pwr: 1.0"), "leap.targets.leap1.budget_pwr",
                 id="unknown-target-key"),
    pytest.param(sub("threads: 1", "threads: 1\n  max_memroy_gb: 1.0"), "compute.max_memroy_gb",
                 id="unknown-compute-key"),
    pytest.param(sub("threads: 1", "threads: 1\n  max_memory_gb: 0.0"), "compute.max_memory_gb",
                 id="bound-zero"),
    # resources beyond the bounds of compute
    pytest.param(sub("widths: [64, 256]", "widths: [64, 256, 200000000]"), "parity.widths[2]", id="width-2e8"),
    pytest.param(sub("n_bits: 20", "n_bits: 50000000"), "parity.tasks.sparse_parity.n_bits", id="n_bits-5e7"),
    pytest.param(sub("n_train: 2000", "n_train: 10000000000"), "parity.tasks.sparse_parity.n_train",
                 id="n_train-1e10"),
    pytest.param(sub("steps: 3000", "steps: 1000000000000"), "parity.train.steps", id="steps-1e12"),
    pytest.param(sub("seeds: [0, 1, 2, 3, 4]", f"seeds: [{', '.join(map(str, range(100_000)))}]"),
                 "parity.seeds", id="seeds-100000"),
    pytest.param(sub("batch_size: 64", "batch_size: 100000000"), "parity.train.batch_size", id="batch-1e8"),
    pytest.param(sub(MODEL, MODEL.replace("depth: 1", "depth: 100000")), "parity.model.depth", id="depth-1e5"),
    pytest.param(sub("embed_dim: 64", "embed_dim: 10000000"), "algebra.grokking.model.embed_dim", id="embed-dim"),
    pytest.param(sub("shared_layers: 1", "shared_layers: 100000"), "gdln.model.shared_layers", id="gdln-layers"),
    pytest.param(sub("dims: [32, 64, 128, 256]", "dims: [32, 64, 128, 3000000]"), "leap.dims[3]", id="leap-d"),
    pytest.param(sub("budget: 10.0", "budget: 1.0e+9"), "leap.targets.leap3.budget", id="leap-budget-steps"),
    pytest.param(sub("budget: 10.0", "budget: 1.0e+300"), "leap.targets.leap3.budget", id="leap-budget-overflow"),
    pytest.param(sub("n_fit: 8192", "n_fit: 10000000000"), "trees.n_fit", id="trees-n_fit"),
    pytest.param(sub("p: 23}", "p: 2047}"), "algebra.margin.task.p", id="table-memory"),
]
CLI = {"duplicate-key", "non-utf8", "family-list", "width-2e8", "alias-bomb", "tab"}


def _write(tmp_path: Path, edit) -> Path:
    path = tmp_path / "params.yaml"
    text = edit(TEXT)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


@pytest.mark.parametrize("edit, expected", CASES)
def test_bad_params_are_refused_in_one_line_naming_the_key(tmp_path, request, edit, expected):
    path = _write(tmp_path, edit)
    with pytest.raises(ConfigError) as info:
        load_params(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    assert expected in message, message
    assert [p.name for p in tmp_path.iterdir()] == ["params.yaml"]
    if request.node.callspec.id in CLI:
        _check_cli(tmp_path, path, expected)


def _check_cli(tmp_path: Path, path: Path, expected: str) -> None:
    result = subprocess.run([sys.executable, "-m", "learnscope", "check", str(path)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"{path}: ") and expected in lines[0]
    assert result.stdout == "" and [p.name for p in tmp_path.iterdir()] == ["params.yaml"]


def test_the_cases_cover_enough_faults():
    assert len(CASES) >= 45 and CLI <= {case.id for case in CASES}


@pytest.mark.skipif(torch.cuda.is_available(), reason="the machine has CUDA: device cuda is fine here")
def test_device_cuda_without_cuda_is_refused_at_load(tmp_path):
    path = _write(tmp_path, sub("device: auto", "device: cuda"))
    with pytest.raises(ConfigError, match=r"compute\.device = 'cuda' .*use auto .* or cpu"):
        load_params(path)


def test_the_strict_reader_reads_the_default_as_safe_load_does():
    assert read_yaml(DEFAULT) == yaml.safe_load(TEXT)


def test_bounds_are_no_part_of_a_runs_identity(tmp_path):
    """Raising a bound changes no run's JSON, so it reruns no job."""
    path = _write(tmp_path, sub("threads: 1", "threads: 1\n  max_memory_gb: 64.0\n  max_runs: 20000"))
    raised, default = load_params(path), load_params(DEFAULT)
    assert raised.compute.max_memory_gb == 64.0 and raised.compute.max_runs == 20000
    assert [s.to_json() for s in raised.runs.values()] == [s.to_json() for s in default.runs.values()]
    assert "max_memory_gb" not in next(iter(default.runs.values())).to_json()


def test_the_default_params_pass_well_within_the_limits():
    params = load_params(DEFAULT)
    found, compute = limits.estimate(params), params.compute
    assert max(e.total for e in found["memory"] + found["distill_memory"]) < compute.max_memory_gb * limits.GiB / 10
    assert sum(e.total for e in found["disk"]) < compute.max_disk_gb * limits.GiB / 10
    assert sum(e.total for e in found["steps"]) < compute.max_steps_total / 10
    assert sum(e.total for e in found["flop"]) < compute.max_pflop * 1e15 / 10
    assert len(params.runs) == sum(cfg.n_runs for cfg in params.studies.values()) < compute.max_runs / 10


def _bound_below_estimate(tmp_path, key: str, value: str) -> str:
    path = _write(tmp_path, sub("threads: 1", f"threads: 1\n  {key}: {value}"))
    with pytest.raises(ConfigError) as info:
        load_params(path)
    assert f"compute.{key} = " in str(info.value)
    return str(info.value)


def test_lowering_a_bound_below_the_default_estimate_refuses_the_default(tmp_path):
    found = limits.estimate(load_params(DEFAULT))
    largest = max(e.total for e in found["memory"]) / limits.GiB
    message = _bound_below_estimate(tmp_path, "max_memory_gb", f"{largest * 0.99:.6f}")
    assert f"needs ~{largest:.3g} GiB of memory" in message
    steps = sum(e.total for e in found["steps"])
    assert f"needs ~{steps:,.0f} steps" in _bound_below_estimate(tmp_path, "max_steps_total", str(int(steps) - 1))
    assert "leap.targets.leap3.budget" in _bound_below_estimate(tmp_path, "max_steps_total", str(int(steps) - 1))
    _bound_below_estimate(tmp_path, "max_disk_gb", f"{sum(e.total for e in found['disk']) / limits.GiB * 0.99:.6f}")
    _bound_below_estimate(tmp_path, "max_pflop", f"{sum(e.total for e in found['flop']) / 1e15 * 0.99:.9f}")
    runs = len(load_params(DEFAULT).runs)
    assert f"the params imply {runs} runs" in _bound_below_estimate(tmp_path, "max_runs", str(runs - 1))


def test_a_bound_just_above_the_estimate_passes(tmp_path):
    found = limits.estimate(load_params(DEFAULT))
    steps, runs = int(sum(e.total for e in found["steps"])), len(load_params(DEFAULT).runs)
    path = _write(tmp_path, sub("threads: 1", f"threads: 1\n  max_steps_total: {steps}\n  max_runs: {runs}"))
    assert len(load_params(path).runs) == runs


def test_the_parameter_counts_are_exact():
    """The estimate's P of every registered model equals torch's count of the network it builds."""
    from learnscope.models import MODELS
    from learnscope.models.embed import EmbedMLPConfig
    from learnscope.models.gdln import GatedDLNConfig
    from learnscope.models.mlp import MLPConfig
    from learnscope.models.mlp_xxt import MLPXXTConfig
    from learnscope.models.seq_transformer import SeqTransformerConfig
    from learnscope.models.transformer import TransformerConfig
    nets = {"mlp": [(MLPConfig(depth=3), 20, 1, 64), (MLPConfig(bias=False, activation="quadratic"), 46, 23, 128)],
            "embed_mlp": [(EmbedMLPConfig(embed_dim=16), 46, 23, 32)],
            "transformer": [(TransformerConfig(d_model=32, n_heads=4), 46, 23, 64)],
            "gdln": [(GatedDLNConfig(pathways=7, shared_layers=2), 4 + 2 * 7, 7 * 7, 64)],
            "mlp_xxt": [(MLPXXTConfig(seq_len=3), 3 * 12, 1, 32),
                        (MLPXXTConfig(seq_len=4, equalities_only=True), 4 * 5, 1, 16)],
            "seq_transformer": [(SeqTransformerConfig(seq_len=3), 3 * 12, 1, 32),
                                (SeqTransformerConfig(seq_len=2, depth=3, n_heads=4, identity=True), 2 * 9, 9, 16)]}
    assert set(nets) == set(limits.MODEL_SIZES) == set(MODELS)
    for name, cases in nets.items():
        for cfg, d, c, w in cases:
            net = cfg.build(d, c, w, torch.Generator().manual_seed(0))
            assert limits.MODEL_SIZES[name](cfg, d, c, w)[0] == sum(p.numel() for p in net.parameters()), name
