"""The features stage: measurements at every checkpoint snapshot of one run.

Per snapshot: train/test loss and accuracy; the input AGOP of the network (averaged over
the first ``features.agop_samples`` training inputs); the first layer's Neural Feature
Matrix W1ᵀW1 and (W1−W0)ᵀ(W1−W0); the Neural Feature Ansatz correlations in every named
convention (``nfa.WEIGHT_FORMS x nfa.AGOP_POWERS x nfa.METRICS``) and the init baseline
corr(W0ᵀW0, AGOP_t); per weight matrix the singular values and stable rank of W_t − W_0;
the first layer's weight mass per input coordinate.

Which optional measurements a run gets is its study's choice (``Study.measures``):
``agop`` (the AGOP, W1ᵀW1, (W1−W0)ᵀ(W1−W0) and the NFA correlations: d x d per snapshot),
``fourier`` (the Fourier coefficient of the network for each monomial of the target,
on the test set; ``features.fourier``) and ``group`` (for group-composition tasks: the
training margin, normalised by Σ_j ‖θ_j‖^ν where the model's neurons are homogeneous, and
every part of the network that is a function on the group split into irrep energies per
unit; ``features.algebra``) and ``gdln`` (gated deep linear networks: every layer's singular
values and each pathway pair's strength in each mode of the task; ``features.gdln``).
``group`` applies to runs of a group task only and is skipped for the others of the study. The file's ``measures`` attr lists what was measured.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import xarray as xr

from learnscope import data, metrics, store
from learnscope.config import to_json
from learnscope.features import algebra, nfa
from learnscope.features.gdln import gdln_measures
from learnscope.features.layout import features_to_xarray
from learnscope.features.agop import ensemble_agop
from learnscope.features.fourier import fourier_coefficients
from learnscope.features.spectra import (batched_singular_values, coordinate_mass,
                                         stable_ranks_from_singular_values)
from learnscope.params import FeaturesConfig
from learnscope.runspec import RunSpec
from learnscope.train import setup_compute

log = logging.getLogger(__name__)


def snapshot_state(checkpoints: xr.Dataset, index: int) -> dict[str, torch.Tensor]:
    """The state dict of snapshot ``index`` (position along ``step``), keyed by torch names."""
    return {var.attrs["torch_name"]: torch.from_numpy(var.values[index].copy())
            for var in checkpoints.data_vars.values()}


def load_model(spec: RunSpec, checkpoints: xr.Dataset, index: int, device: torch.device) -> torch.nn.Module:
    """The run's network with the weights of snapshot ``index`` (no code is loaded from the file)."""
    model = spec.model.build(spec.task.n_inputs, spec.task.n_outputs, spec.width, torch.Generator())
    model.load_state_dict(snapshot_state(checkpoints, index))
    return model.to(device).eval()


def load_ensemble(spec: RunSpec, states: list[dict[str, torch.Tensor]], device: torch.device):
    """One batched model whose members carry ``states`` (e.g. every snapshot of every run)."""
    model = spec.model.build_ensemble(spec.task.n_inputs, spec.task.n_outputs, spec.width,
                                      [torch.Generator() for _ in states])
    model.load_state_dict({name: torch.stack([s[single] for s in states])
                           for name, single in model.member_names().items()})
    return model.to(device).eval()


def batched_measures(spec: RunSpec, states: list[dict[str, torch.Tensor]], tensors: dict[str, torch.Tensor],
                     kind: str, agop_samples: int | None, fourier_sets: tuple = (), margin: bool = False,
                     max_elements: int = 1 << 26) -> dict[str, np.ndarray]:
    """Train and test (loss, accuracy) (M, 2) of M networks given by ``states``; with
    ``agop_samples`` their AGOP (M, d, d); with ``fourier_sets`` their Fourier coefficients
    on the test inputs (M, len(fourier_sets)); with ``margin`` their training margin (M,)
    and, for homogeneous neurons, Σ_j ‖θ_j‖^ν (M,) as ``norm``.

    The networks form ensembles of as many members as fit ``max_elements`` hidden values
    at once; a member's numbers do not depend on the block it lands in.
    """
    device = tensors["x_train"].device
    rows = max(tensors["x_train"].shape[0], tensors["x_test"].shape[0])
    block = max(1, max_elements // (rows * max(spec.width, spec.task.n_outputs)))
    parts: dict[str, list] = {"agop": [], "train": [], "test": [], "fourier": [], "margin": [], "norm": []}
    degree = spec.model.neuron_degree
    for start in range(0, len(states), block):
        model = load_ensemble(spec, states[start:start + block], device)
        if agop_samples is not None:
            parts["agop"].append(ensemble_agop(model, tensors["x_train"][:agop_samples]).double().cpu())
        with torch.no_grad():
            out_train = model(tensors["x_train"])  # (E, n, c)
            out = model(tensors["x_test"])
        parts["train"].append(metrics.member_loss_and_accuracy(kind, out_train, tensors["y_train"]))
        parts["test"].append(metrics.member_loss_and_accuracy(kind, out, tensors["y_test"]))
        if fourier_sets:
            parts["fourier"].append(fourier_coefficients(out[..., 0], tensors["x_test"], fourier_sets).cpu())
        if margin:
            parts["margin"].append(algebra.margins(out_train, tensors["y_train"]).cpu())
            if degree is not None:
                with torch.no_grad():
                    parts["norm"].append(model.neuron_sq_norms().double().pow(degree / 2).sum(-1).cpu())
    return {"train": np.concatenate(parts["train"]), "test": np.concatenate(parts["test"]),
            **{k: torch.cat(v).numpy() for k in ("agop", "fourier", "margin", "norm") if (v := parts[k])}}


def measure_group(specs: list[RunSpec], cfg: FeaturesConfig, dataset: xr.Dataset,
                  checkpoints: list[xr.Dataset], device: torch.device,
                  measures: tuple[str, ...] = ("agop",)) -> list[dict[str, np.ndarray]]:
    """Every measurement at every snapshot of every run of a group, stacked along step.

    All (run, snapshot) networks are measured as ensembles (``batched_measures``): batched
    passes give every AGOP, loss and accuracy; singular values are one batched SVD per layer.
    ``measures`` picks the optional ones (``agop``, ``fourier``).
    """
    kind, tensors = dataset.attrs["kind"], data.load_tensors(dataset, device)
    n_steps = checkpoints[0].sizes["step"]
    states = [snapshot_state(ck, i) for ck in checkpoints for i in range(n_steps)]  # run-major
    sets = fourier_sets(specs[0]) if "fourier" in measures else ()
    measures = tuple(m for m in measures if m != "group" or hasattr(specs[0].task, "finite_group"))
    group = "group" in measures
    batched = batched_measures(specs[0], states, tensors, kind, cfg.agop_samples if "agop" in measures else None,
                               sets, margin=group)
    tr, te = batched["train"], batched["test"]
    matrices = [k for k, v in states[0].items() if v.ndim == 2]
    svs = {}
    for k in matrices:
        w = torch.stack([s[k] for s in states]).double().view(len(checkpoints), n_steps, *states[0][k].shape)
        svs[k] = batched_singular_values(w - w[:, :1]).view(len(states), -1)  # W_t - W_0 per run
    out = []
    for r in range(len(checkpoints)):
        rows = slice(r * n_steps, (r + 1) * n_steps)
        m = {"train_loss": tr[rows, 0], "train_acc": tr[rows, 1], "test_loss": te[rows, 0],
             "test_acc": te[rows, 1], "coord_mass": _input_mass(states[rows], matrices, specs[r].task.n_inputs),
             "dw_stable_rank": _stable_ranks(svs, matrices, rows, n_steps), "_matrices": matrices,
             "_measures": tuple(measures), "_sets": sets}
        m |= {f"sv:{k}": svs[k][rows].numpy() for k in matrices}
        if "agop" in measures:
            agops = torch.from_numpy(batched["agop"][rows])
            m |= {"agop": agops.numpy()} | _first_layer_measures([s[matrices[0]] for s in states[rows]], agops)
        if sets:
            m["fourier"] = batched["fourier"][rows]
        if group:
            m |= _group_measures(specs[r], states[rows], batched, rows)
        if "gdln" in measures:
            m |= gdln_measures(specs[r], states[rows])
        out.append(_mask_after_divergence(m, checkpoints[r]))
    log.info("%s: measured %d runs x %d snapshots", specs[0].name, len(checkpoints), n_steps)
    return out


def _stable_ranks(svs: dict, matrices: list[str], rows: slice, n_steps: int) -> np.ndarray:
    """(snapshot, layer) stable rank of W_t − W_0 of each weight matrix (no columns if none)."""
    if not matrices:
        return np.zeros((n_steps, 0))
    return torch.stack([stable_ranks_from_singular_values(svs[k][rows]) for k in matrices], dim=1).numpy()


def _input_mass(states: list[dict[str, torch.Tensor]], matrices: list[str], n_inputs: int) -> np.ndarray:
    """(snapshot, n_inputs) first-layer weight mass per input coordinate; NaN for a model
    whose first matrix does not act on the inputs (an embedding table, or stacked
    per-pathway layers)."""
    first = matrices[0] if matrices else ""
    if not first.endswith("weight") or states[0][first].shape[1] != n_inputs:
        return np.full((len(states), n_inputs), np.nan)
    return np.stack([coordinate_mass(s[first].double()).numpy() for s in states])


def _mask_after_divergence(m: dict, checkpoints: xr.Dataset) -> dict:
    """NaN from the step a stopped run diverged at (``train.on_divergence: stop``): its
    snapshots there only repeat the weights it was frozen at."""
    at = int(checkpoints.attrs.get("diverged_at_step", -1))
    if at < 0:
        return m
    late = checkpoints["step"].values >= at
    return {k: v if k.startswith("_") else np.where(late.reshape((-1,) + (1,) * (np.ndim(v) - 1)), np.nan, v)
            for k, v in m.items()}


def _group_measures(spec: RunSpec, states: list[dict[str, torch.Tensor]], batched: dict, rows: slice) -> dict:
    """Margins and per-unit irrep energies of one run's snapshots (``features.algebra``)."""
    g = spec.task.finite_group
    m = {"margin": batched["margin"][rows], "_group": g}
    if "norm" in batched:
        m["normalised_margin"] = batched["margin"][rows] / batched["norm"][rows]
    per_state = [spec.model.group_functions(state) for state in states]
    for part, (dim, _) in per_state[0].items():
        m[f"irrep_energy_{part}"] = np.stack([algebra.irrep_energies(f[part][1], g) for f in per_state])
        m[f"_dim_{part}"] = dim
    return m


def fourier_sets(spec: RunSpec) -> tuple[tuple[int, ...], ...]:
    """The monomials whose Fourier coefficients are tracked: the target's own."""
    sets = getattr(spec.task, "monomials", None)
    if not sets:
        raise ValueError(f"run {spec.name}: the fourier measurement needs a task with monomials "
                         f"(multi_index), not {type(spec.task).__name__}")
    return tuple(tuple(s) for s in sets)


def _first_layer_measures(w1s: list[torch.Tensor], agops: torch.Tensor) -> dict[str, np.ndarray]:
    """NFA quantities of one run's first layer at each snapshot; w1s[0] is W_0."""
    w0 = w1s[0].double()
    rows: dict[str, list] = {"nfm": [], "dnfm": [], "nfa_corr": [], "nfa_corr_init": []}
    for w, g in zip(w1s, agops):
        w = w.double()
        rows["nfm"].append(nfa.neural_feature_matrix(w))
        rows["dnfm"].append(nfa.neural_feature_matrix(w - w0))
        rows["nfa_corr"].append(nfa.nfa_correlations(w, w0, g))
        rows["nfa_corr_init"].append(nfa.nfa_init_baseline(w0, g))
    return {k: torch.stack(v).numpy() for k, v in rows.items()}


def features_group_run(specs: list[RunSpec], cfg: FeaturesConfig, dataset_path: str,
                       checkpoints_paths: list[str], features_paths: list[str], inputs: list[str],
                       measures: tuple[str, ...] = ("agop",)) -> None:
    """The features stage for a group of runs (one run is a group of one)."""
    device = setup_compute(specs[0].compute)
    dataset = store.read(dataset_path, "dataset")
    checkpoints = [store.read(path, "checkpoints") for path in checkpoints_paths]
    measured = measure_group(specs, cfg, dataset, checkpoints, device, measures)
    for spec, m, ck, own, path in zip(specs, measured, checkpoints, checkpoints_paths, features_paths):
        store.write(features_to_xarray(spec, m, ck), path, "features",
                    to_json({"run": spec, "features": cfg, "measures": list(measures)}),
                    store.own_inputs(inputs, own, checkpoints_paths))
