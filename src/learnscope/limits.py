"""Resource limits: params whose jobs would exhaust memory, disk or time are refused at load.

``check_limits`` estimates from the config fields alone (no network is built, no run is
trained) what the params' jobs need, and refuses anything above the bounds in ``compute``
(``runspec.ComputeConfig``) with one line naming the key that drives the estimate and the
bound to raise. The estimates are upper-bound sketches, honest to a small factor:

Per training group (its E runs train as one batched model, ``Params.groups``), with P the
parameters of one network and A its hidden values per example (``MODEL_SIZES``, e.g. an
MLP's P = Σ_l (n_{l-1} + bias) n_l and A = width · depth + c), d = n_inputs,
c = n_outputs, N = n_train + n_test, K = min(n_snapshots, S + 1) snapshots, S steps,
R rows per step (batch_size, or n_train with full_batch), m optimizer moments per parameter
(adam, adamw 2; sgd with momentum 1; else 0), V = evaluations of the train and test sets,
and 4 bytes per float:

- runs: Σ over studies of ``n_runs`` (counted before any run is built) <= ``max_runs``;
- memory of the group's job: 4·[N·(d + c) + E·P·(2 + m + K) + E·A·max(3R, n_train, n_test)]
  (dataset; weights, gradients, moments and the snapshots held until written; the
  activations of a step, kept for backward, or of one evaluation pass over the training or
  the test set) <= ``max_memory_gb``.
  The features job holds the same snapshots and measures them in blocks of fixed size;
- memory of a distillation job (studies whose runs have a tree.nc):
  4·3·(n_fit + n_eval)·d (inputs, labels and sort orders) <= ``max_memory_gb``;
- disk: Σ_groups 4·[E·K·(P + d²) + N·(d + c)] (checkpoints; features, at most a d x d
  matrix per snapshot; the dataset) <= ``max_disk_gb``;
- steps: Σ_groups S <= ``max_steps_total``;
- work: Σ_groups E·P·(6·R·S + 2·N·V) flop (a forward and backward pass cost about 6 flop
  per parameter and example, a forward pass 2) <= ``max_pflop`` x 10^15.

The key named is that of the estimate's largest term's factor furthest above its typical
value (``TYPICAL``): a width of 2e8 names ``parity.widths[i]``, 100 000 seeds name
``parity.seeds``. Each study maps its runs' factors to keys (``param_keys``).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable

from learnscope.errors import ConfigError
from learnscope.models import MODELS
from learnscope.studies import STUDIES

GiB = 2**30
# A typical value of each factor: the one furthest above its typical value is named.
TYPICAL = {"members": 8, "width": 256, "inputs": 64, "examples": 4096, "snapshots": 40, "steps": 10_000,
           "batch": 128, "evals": 200, "model": 2, "distill": 8192}


def _mlp(m, d: int, c: int, w: int) -> tuple[int, int, tuple]:
    b = int(m.bias)  # layers d -> w -> ... -> w -> c, each (n_in + b) x n_out
    return (d + b) * w + (m.depth - 1) * (w + b) * w + (w + b) * c, w * m.depth + c, ("depth", m.depth)


def _embed_mlp(m, d: int, c: int, w: int) -> tuple[int, int, tuple]:
    k = m.embed_dim
    return d // 2 * k + (2 * k + 1) * w + (w + 1) * c, 2 * k + w + c, ("embed_dim", k / 32)


def _transformer(m, d: int, c: int, w: int) -> tuple[int, int, tuple]:
    dm = m.d_model
    params = (d // 2 + 4) * dm + 4 * dm * dm + (2 * dm + 1) * w + dm + c * dm
    return params, 3 * (6 * dm + w + 3 * m.n_heads) + c, ("d_model", dm / 64)


def _gdln(m, d: int, c: int, w: int) -> tuple[int, int, tuple]:
    items, layers = max(d - 2 * m.pathways, 0) * m.pathways, m.shared_layers
    return items * w + layers * w * w + c * w, items + (layers + 1) * w + c, ("shared_layers", layers)


def _mlp_xxt(m, d: int, c: int, w: int) -> tuple[int, int, tuple]:
    return _mlp(m, m.n_features(d), c, w)


def _seq_transformer(m, d: int, c: int, w: int) -> tuple[int, int, tuple]:
    vocab, positions, hidden = d // m.seq_len, m.seq_len + 1, 4 * w  # 4: seq_transformer.MLP_RATIO
    layer = 4 * w * w + 2 * hidden * w + hidden + 5 * w + 2 * m.n_heads * int(m.identity)  # a, b per head
    params = (vocab + positions + 1) * w + m.depth * layer + 2 * w + c * w
    return params, positions * m.depth * (8 * w + hidden + 2 * m.n_heads * positions) + c, ("depth", m.depth)


# Model name -> (n_params, hidden values per example, (its size key, a value ~2 when typical)).
MODEL_SIZES: dict[str, Callable] = {"mlp": _mlp, "embed_mlp": _embed_mlp, "transformer": _transformer,
                                    "gdln": _gdln, "mlp_xxt": _mlp_xxt, "seq_transformer": _seq_transformer}


@dataclasses.dataclass
class Estimate:
    """A resource of one job or group: its terms, each (amount, factor names), and the
    factors' (dotted key, value) of the group it belongs to."""

    what: str
    terms: list[tuple[float, tuple[str, ...]]]
    factors: dict[str, tuple[str, float]]

    @property
    def total(self) -> float:
        return sum(amount for amount, _ in self.terms)

    def driver(self) -> str:
        """The dotted key of the largest term's factor furthest above its typical value."""
        _, names = max(self.terms)
        named = [n for n in names if self.factors[n][0]]  # a factor no key sets (digits' inputs) is not named
        return self.factors[max(named, key=lambda n: self.factors[n][1] / TYPICAL[n])][0]


def _factors(study: str, cfg, coords: tuple, specs: list) -> dict[str, tuple[str, float]]:
    """Factor name -> (absolute dotted key, value) for the group of ``specs`` (a study's ``param_keys``)."""
    spec, keys = specs[0], cfg.param_keys(coords)
    task, train = spec.task, spec.train
    name = MODELS.name_of(spec.model)
    size_key, size = MODEL_SIZES[name](spec.model, task.n_inputs, task.n_outputs, spec.width)[2]
    steps_key = keys.get("steps", f"{keys['train']}.steps")
    # evaluations every eval_every steps grow with the steps: fewer come from fewer steps
    evals = keys.get("evals", f"{keys['train']}.eval_log_points" if train.eval_log_points else steps_key)
    examples = keys.get("examples", f"{keys['task']}.{task.examples_key}")
    rel = {"members": (keys["members"], len(specs)), "width": (keys["width"], spec.width),
           "inputs": (keys.get("inputs", f"{keys['task']}.{task.size_key}" if task.size_key else ""),
                      task.n_inputs + task.n_outputs),
           "examples": (examples, task.n_train + task.n_test),
           "snapshots": (f"{keys['train']}.n_snapshots", min(train.n_snapshots, train.steps + 1)),
           "steps": (steps_key, train.steps), "evals": (evals, _evaluations(train)),
           "batch": (examples if train.full_batch else f"{keys['train']}.batch_size", _rows(train, task)),
           "model": (f"{keys['model']}.{size_key}", size)}
    return {n: (f"{study}.{k}" if k else "", v) for n, (k, v) in rel.items()}


def _evaluations(train) -> int:
    if train.eval_log_points:
        return min(train.steps + 1, train.eval_log_points + 1)
    return min(train.steps + 1, train.steps // train.eval_every + 2)


def _rows(train, task) -> int:
    return task.n_train if train.full_batch else train.batch_size


def _group_estimates(study: str, cfg, specs: list, coords: tuple) -> dict[str, Estimate]:
    """Memory (bytes), disk (bytes), steps and flop of one training group (module docstring)."""
    spec = specs[0]
    task, train, e = spec.task, spec.train, len(specs)
    d, c, n = task.n_inputs, task.n_outputs, task.n_train + task.n_test
    p, a, _ = MODEL_SIZES[MODELS.name_of(spec.model)](spec.model, d, c, spec.width)
    k, s, r = min(train.n_snapshots, train.steps + 1), train.steps, _rows(train, task)
    moments = 2 if train.optimizer in ("adam", "adamw") else int(train.momentum > 0)
    factors = _factors(study, cfg, coords, specs)
    group = f"training group {spec.group}"
    net = ("members", "width", "inputs", "model")
    return {
        "memory": Estimate(group, [(4 * n * (d + c), ("examples", "inputs")),
                                   (4 * e * p * (2 + moments + k), (*net, "snapshots")),
                                   (4 * e * a * max(3 * r, task.n_train, task.n_test), (*net, "batch", "examples"))],
                          factors),
        "disk": Estimate(group, [(4 * e * k * (p + d * d), (*net, "snapshots")),
                                 (4 * n * (d + c), ("examples", "inputs"))], factors),
        "steps": Estimate(group, [(s, ("steps",))], factors),
        "flop": Estimate(group, [(6 * e * p * r * s, (*net, "batch", "steps")),
                                 (2 * e * p * n * _evaluations(train), (*net, "examples", "evals"))], factors),
    }


def _value_at(root: Any, key: str) -> Any:
    """The value at a dotted key such as ``parity.tasks.sparse_parity.n_bits`` or ``parity.widths[1]``."""
    for part in re.findall(r"\[\d+\]|[^.\[\]]+", key):
        root = root[int(part[1:-1])] if part.startswith("[") else (
            root[part] if isinstance(root, dict) else getattr(root, part))
    return root


def _refuse(params, key: str, message: str) -> None:
    value = _value_at(params, key)
    shown = f"lists {len(value)} values" if isinstance(value, (tuple, list, dict)) else f"= {value!r}"
    raise ConfigError(f"{key} {shown}: {message}")


def _over(params, estimate: Estimate, needs: str, bound: str) -> None:
    _refuse(params, estimate.driver(), f"{needs}, above compute.{bound} = {getattr(params.compute, bound)}; "
            f"lower it or raise compute.{bound}")


def _gib(amount: float) -> str:
    return f"{amount / GiB:,.0f} GiB" if amount >= 1000 * GiB else f"{amount / GiB:.3g} GiB"


def _check_runs(params) -> None:
    counts = {study: cfg.n_runs for study, cfg in params.studies.items()}
    if sum(counts.values()) <= params.compute.max_runs:
        return
    study = max(counts, key=counts.get)
    cfg = params.studies[study]
    lists = {f.name: len(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)
             if isinstance(getattr(cfg, f.name), (tuple, dict))}
    _refuse(params, f"{study}.{max(lists, key=lists.get)}",
            f"the params imply {sum(counts.values()):,} runs ({study}: {counts[study]:,}), above "
            f"compute.max_runs = {params.compute.max_runs}; lower it or raise compute.max_runs")


def group_estimates(params) -> dict[str, dict[str, Estimate]]:
    """Each training group's estimates by resource (``memory``, ``disk``, ``steps``, ``flop``,
    and ``distill_memory`` where its runs are distilled), by group name."""
    out: dict[str, dict[str, Estimate]] = {}
    for study, cfg in params.studies.items():
        groups: dict[str, list] = {}
        for coords, spec in STUDIES[study].runs(study, cfg, params.compute).items():
            groups.setdefault(spec.group, []).append((coords, spec))
        for name, members in groups.items():
            specs = [spec for _, spec in members]
            found = _group_estimates(study, cfg, specs, members[0][0])
            if "tree.nc" in STUDIES[study].run_artefacts:
                found["distill_memory"] = distill_memory(params, specs[0], found["memory"])
            out[name] = found
    return out


def estimate(params) -> dict[str, list[Estimate]]:
    """Every training group's estimates, by resource (``memory``, ``disk``, ``steps``, ``flop``),
    and each distillation job's memory (``distill_memory``)."""
    out: dict[str, list[Estimate]] = {"memory": [], "disk": [], "steps": [], "flop": [], "distill_memory": []}
    for found in group_estimates(params).values():
        for resource, est in found.items():
            out[resource].append(est)
    return out


def distill_memory(params, spec, group: Estimate) -> Estimate:
    n_fit, n_eval = params.trees.n_fit, params.trees.n_eval
    key = "trees.n_fit" if n_fit >= n_eval else "trees.n_eval"
    factors = {"distill": (key, n_fit + n_eval), "inputs": group.factors["inputs"]}
    return Estimate(f"distilling a run of {spec.group}", [(12 * (n_fit + n_eval) * spec.task.n_inputs,
                                                           ("distill", "inputs"))], factors)


def check_limits(params) -> None:
    """Refuse params whose estimated resources exceed the bounds of ``params.compute``.

    Raises:
        ConfigError: one line naming the driving key, the estimate and the bound to raise.
    """
    compute = params.compute
    _check_runs(params)
    found = estimate(params)
    for est in found["memory"] + found["distill_memory"]:
        if est.total > compute.max_memory_gb * GiB:
            _over(params, est, f"{est.what} needs ~{_gib(est.total)} of memory", "max_memory_gb")
    totals = [("disk", "all results", compute.max_disk_gb * GiB, "max_disk_gb", lambda x: f"{_gib(x)} of disk"),
              ("steps", "all training", compute.max_steps_total, "max_steps_total", lambda x: f"{x:,.0f} steps"),
              ("flop", "all training", compute.max_pflop * 1e15, "max_pflop", lambda x: f"{x / 1e15:.3g} PFLOP")]
    for resource, whole, limit, bound, show in totals:
        total = sum(est.total for est in found[resource])
        if total > limit:
            worst = max(found[resource], key=lambda est: est.total)
            _over(params, worst, f"{whole} needs ~{show(total)} ({worst.what}: {show(worst.total)})", bound)
