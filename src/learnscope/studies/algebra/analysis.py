"""Study ``algebra``: margin maximisation, Fourier and irrep features, grokking (Morwani,
Edelman, Oncescu, Zhao, Kakade, ICLR 2024; Nanda et al. 2023; Chughtai et al. 2023; Power
et al. 2022).

Per experiment (``AlgebraStudyConfig``: margin, contrast, irreps, parity, grokking) and seed:

- group tables: each unit's energy per irrep at every snapshot (the parts of a unit that
  share its units dimension are added: u, v and w of a neuron), its best-irrep fraction
  (energy in its best irrep ÷ its total), and which units are *active* (norm at least
  ``active_fraction`` of the largest); per snapshot the median best-irrep fraction over
  active units and the *coverage*: the fraction of nontrivial irreps that are some active
  unit's best. For C_p the irreps are the frequencies. ``chance_best_frac`` is the median
  best-irrep fraction of random Gaussian units of the same shape (Monte Carlo, seeded).
- the training margin normalised by Σ_j ‖θ_j‖^ν, and for modular addition the maximum
  γ* (``features.algebra.max_margin_modular_addition``);
- train and test accuracy curves, and the first evaluation step at which each reaches
  ``accuracy_threshold``; their ratio is the grokking delay;
- sparse parity: the fraction of first-layer weight mass Σ_j W1[j, i]² on the k relevant bits.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.studies.algebra.config import AlgebraStudyConfig
from learnscope.features.algebra import irrep_energies
from learnscope.studies.algebra.margin import max_margin_modular_addition
from learnscope.groups import FiniteGroup

CHANCE_SAMPLES = 2000
CLEAN_FRACTION = 0.9  # a unit is single-irrep ("clean") when its best irrep holds this much of its energy
CHANCE_NETWORKS = 200


def first_step(steps: np.ndarray, values: np.ndarray, level: float) -> float:
    """The first step where ``values >= level`` (NaN if never)."""
    hit = np.flatnonzero(np.asarray(values) >= level)
    return float(steps[hit[0]]) if hit.size else np.nan


def unit_energies(features: xr.Dataset) -> tuple[str, np.ndarray]:
    """The first units dimension of a features file and its energies (snapshot, unit, irrep),
    summed over the parts that share that dimension (u, v, w of a neuron)."""
    parts = [v for k, v in features.data_vars.items() if k.startswith("irrep_energy_")]
    dim = parts[0].dims[1]
    return dim, sum(v.values for v in parts if v.dims[1] == dim)


def best_fractions(energy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit of (..., unit, irrep) energies: best irrep index, its energy fraction and
    the unit's norm (sqrt of its total energy)."""
    total = energy.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(total > 0, energy.max(-1) / total, np.nan)
    return energy.argmax(-1), frac, np.sqrt(total)


def active_units(norms: np.ndarray, fraction: float) -> np.ndarray:
    """Units whose norm is at least ``fraction`` of the largest of their network (last axis)."""
    return norms >= fraction * np.nanmax(norms, axis=-1, keepdims=True)


def coverage(best: np.ndarray, active: np.ndarray, n_irreps: int) -> float:
    """Fraction of the nontrivial irreps (index ≥ 1) that are the best irrep of some active unit."""
    used = set(best[active].tolist()) - {0}
    return len(used) / (n_irreps - 1)


def clean_coverage(best: np.ndarray, frac: np.ndarray, active: np.ndarray, n_irreps: int) -> float:
    """Fraction of the nontrivial irreps that are the best irrep of some active, clean unit
    (best-irrep energy fraction ≥ ``CLEAN_FRACTION``): random units almost never are."""
    return coverage(best, active & (np.nan_to_num(frac) >= CLEAN_FRACTION), n_irreps)


def chance_coverages(group: FiniteGroup, n_parts: int, n_units: int, seed: int = 0) -> tuple[float, float]:
    """Mean ``coverage`` and ``clean_coverage`` of ``CHANCE_NETWORKS`` random networks of
    ``n_units`` units, each made of ``n_parts`` i.i.d. Gaussian functions on the group."""
    rng = np.random.default_rng(seed)
    n = len(group.irreps)
    energy = irrep_energies(rng.standard_normal((CHANCE_NETWORKS, n_units, n_parts, group.order)), group).sum(2)
    best, frac, _ = best_fractions(energy)
    active = np.ones_like(best, dtype=bool)
    return (float(np.mean([coverage(b, a, n) for b, a in zip(best, active)])),
            float(np.mean([clean_coverage(b, f, a, n) for b, f, a in zip(best, frac, active)])))


def chance_best_fraction(group: FiniteGroup, n_parts: int, seed: int = 0) -> float:
    """Median best-irrep fraction of units made of ``n_parts`` i.i.d. Gaussian functions on
    the group (the chance level of single-irrep units)."""
    rng = np.random.default_rng(seed)
    energy = irrep_energies(rng.standard_normal((CHANCE_SAMPLES, n_parts, group.order)), group).sum(1)
    return float(np.median(best_fractions(energy)[1]))


def _table_views(cfg: AlgebraStudyConfig, role: str, curves: xr.Dataset, features: xr.Dataset) -> dict:
    dim, energy = unit_energies(features)
    best, frac, norms = best_fractions(energy)  # (snapshot, unit)
    active = active_units(norms, cfg.active_fraction)
    n_irreps = energy.shape[-1]
    med = np.array([np.nanmedian(f[a]) for f, a in zip(frac, active)])
    cov = np.array([coverage(b, a, n_irreps) for b, a in zip(best, active)])
    clean = np.array([clean_coverage(b, f, a, n_irreps) for b, f, a in zip(best, frac, active)])
    threshold = cfg.accuracy_threshold
    steps = curves["step"].values
    view = {"energy": energy[-1] / np.maximum(energy[-1].sum(-1, keepdims=True), np.finfo(float).tiny),
            "unit_norm": norms[-1], "active": active[-1], "best_frac_median": med, "coverage": cov, "clean_coverage": clean,
            "train_reach_step": first_step(steps, curves["train_acc"].values, threshold),
            "test_reach_step": first_step(steps, curves["test_acc"].values, threshold),
            "margin": features["margin"].values, "_dim": dim}
    if "normalised_margin" in features:
        view["normalised_margin"] = features["normalised_margin"].values
    if role == "grokking":  # the embedding's energy per irrep, summed over its units
        view["total_energy"] = energy.sum(1) / energy.sum((1, 2))[:, None]
    return view


def _table_variables(cfg: AlgebraStudyConfig, role: str, exp, curves: list, features: list) -> tuple[dict, dict, dict]:
    """(variables, coords, attrs) of one group-table experiment: units' irrep energies, best
    fractions, coverages and their chance levels, margins and accuracy-reach steps."""
    r = role
    variables, coords, attrs = {}, {}, {}
    views = [_table_views(cfg, role, c, f) for c, f in zip(curves, features)]
    g = exp.task.finite_group
    unit, irrep = f"{r}_unit", f"{r}_irrep"
    coords[irrep] = (irrep, np.array([x.name for x in g.irreps], dtype=object))
    attrs[f"{r}_group"] = g.name
    attrs[f"{r}_unit_dim"] = views[0]["_dim"]
    n_parts = sum(1 for k, v in features[0].data_vars.items()
                  if k.startswith("irrep_energy_") and v.dims[1] == views[0]["_dim"])
    n_active = int(np.median([v["active"].sum() for v in views]))
    chance = chance_coverages(g, n_parts, n_active)
    variables |= {
        f"{r}_energy_frac": (("seed", unit, irrep), np.stack([v["energy"] for v in views]),
                             {"long_name": "each unit's energy fraction per irrep at the last snapshot"}),
        f"{r}_unit_norm": (("seed", unit), np.stack([v["unit_norm"] for v in views]),
                           {"long_name": "each unit's norm at the last snapshot"}),
        f"{r}_active": (("seed", unit), np.stack([v["active"] for v in views]).astype(np.int8),
                        {"long_name": "1 if the unit's norm >= active_fraction x the largest"}),
        f"{r}_best_frac": (("seed", f"{r}_snapshot"), np.stack([v["best_frac_median"] for v in views]),
                           {"long_name": "median over active units of the best irrep's energy fraction"}),
        f"{r}_coverage": (("seed", f"{r}_snapshot"), np.stack([v["coverage"] for v in views]),
                          {"long_name": "fraction of nontrivial irreps that are some active unit's best"}),
        f"{r}_clean_coverage": (("seed", f"{r}_snapshot"), np.stack([v["clean_coverage"] for v in views]), {
            "long_name": f"fraction of nontrivial irreps that are the best of some active unit holding >= "
                         f"{CLEAN_FRACTION} of its energy in it"}),
        f"{r}_chance_coverage": ((), chance[0], {"long_name": "coverage of random networks with as many "
                                                              "active units (median over seeds)"}),
        f"{r}_chance_clean_coverage": ((), chance[1], {"long_name": "clean coverage of random networks with "
                                                                    "as many active units"}),
        f"{r}_chance_best_frac": ((), chance_best_fraction(g, n_parts),
                                  {"long_name": f"median best-irrep fraction of random units ({n_parts} "
                                                "Gaussian functions on the group)"}),
        f"{r}_margin": (("seed", f"{r}_snapshot"), np.stack([v["margin"] for v in views]),
                        {"long_name": "training margin min_i (f[y_i] - max_c!=y_i f[c])"}),
        f"{r}_train_reach_step": ("seed", np.array([v["train_reach_step"] for v in views]),
                                  {"long_name": "first evaluation step with train accuracy >= threshold"}),
        f"{r}_test_reach_step": ("seed", np.array([v["test_reach_step"] for v in views]),
                                 {"long_name": "first evaluation step with test accuracy >= threshold"}),
    }
    if "normalised_margin" in views[0]:
        variables[f"{r}_normalised_margin"] = (
            ("seed", f"{r}_snapshot"), np.stack([v["normalised_margin"] for v in views]),
            {"long_name": "training margin / sum_j |theta_j|^nu"})
    if hasattr(exp.task, "p") and exp.task.p % 2 == 1:
        variables[f"{r}_max_margin"] = ((), max_margin_modular_addition(exp.task.p),
                                        {"long_name": "theoretical maximum L_2,3-normalised margin"})
    if "total_energy" in views[0]:
        variables[f"{r}_embed_irrep_frac"] = (
            ("seed", f"{r}_snapshot", irrep), np.stack([v["total_energy"] for v in views]),
            {"long_name": "fraction of the units' total energy in each irrep (frequency)"})
    return variables, coords, attrs


def summarise(study: str, cfg: AlgebraStudyConfig, runs: dict[str, dict[str, xr.Dataset]]) -> xr.Dataset:
    """The study's table: one block of variables per experiment, prefixed by its role."""
    seeds = list(cfg.seeds)
    variables, coords = {}, {"seed": ("seed", np.array(seeds, dtype=np.int64))}
    attrs = {"study": study, "active_fraction": cfg.active_fraction, "accuracy_threshold": cfg.accuracy_threshold,
             "experiments": ",".join(cfg.experiments)}
    for role, exp in cfg.experiments.items():
        files = [runs[role, seed] for seed in seeds]
        curves = [f["curves"] for f in files]
        features = [f["features"] for f in files]
        r = role
        coords[f"{r}_snapshot_step"] = (f"{r}_snapshot", features[0]["step"].values, {"long_name": "snapshot step"})
        coords[f"{r}_eval_step"] = (f"{r}_eval", curves[0]["step"].values, {"long_name": "evaluation step"})
        for key in ("train_acc", "test_acc", "train_loss", "test_loss"):
            variables[f"{r}_{key}"] = (("seed", f"{r}_eval"), np.stack([c[key].values for c in curves]),
                                       {"long_name": curves[0][key].attrs.get("long_name", key)})
        attrs[f"{r}_task"] = exp.task.describe()
        attrs[f"{r}_train_fraction"] = getattr(exp.task, "train_fraction", 1.0)
        if role == "parity":
            support = exp.task.support_mask().astype(bool)
            mass = np.stack([f["coord_mass"].values for f in features])  # (seed, snapshot, input)
            variables["parity_support_frac"] = (("seed", "parity_snapshot"), mass[..., support].sum(-1) / mass.sum(-1),
                                                {"long_name": "fraction of first-layer weight mass on the k relevant bits"})
            variables["parity_support_chance"] = ((), support.mean(), {
                "long_name": "the same fraction for weight spread evenly over the inputs (k / n)"})
            continue
        role_variables, role_coords, role_attrs = _table_variables(cfg, role, exp, curves, features)
        variables |= role_variables
        coords |= role_coords
        attrs |= role_attrs
    return xr.Dataset(variables, coords=coords, attrs=attrs)
