"""The distill study's table (summary.nc): per run (depth r, tree, seed) and beam width k,
whether the distilled tree is the true tree's function, the probes it took, its size and its
agreement with the network (fidelity) and with the true tree; CART's (at the distilled size and
at every size 2..2^r) and the constant tree's beside it; one example run's probed
ANDs and trees for the figures.

Recovery rates are means over trees and seeds. The chance level of recovery is the constant
tree's (a distiller that reads nothing from the network)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope import store
from learnscope.distill import trees
from learnscope.runspec import ComputeConfig
from learnscope.studies.base import LoadedRuns
from learnscope.studies.distill.config import DistillStudyConfig


def load(study: str, cfg: DistillStudyConfig, inputs: list[str]) -> LoadedRuns:
    """Each run's curves and probes files, by (depth, tree, seed)."""
    specs = cfg.runs(study, ComputeConfig())
    return {coords: {"curves": store.read(store.run_path(spec.name, "curves.nc"), "curves", expect={"run": spec.name}),
                     "probes": store.read(store.probes_path(study, spec.name), "probes", expect={"run": spec.name})}
            for coords, spec in specs.items()}


def example_coords(cfg: DistillStudyConfig) -> tuple:
    """The run the figures show: the deepest trees' first tree and seed."""
    return (max(cfg.depths), cfg.trees[0], cfg.seeds[0])


def summarise(study: str, cfg: DistillStudyConfig, runs: LoadedRuns) -> xr.Dataset:
    shape = (len(cfg.depths), len(cfg.trees), len(cfg.seeds))
    ks = [f"probing_k{k}" for k in cfg.ks]
    exact, n_probes, fidelity, agreement, leaves = (np.zeros(shape + (len(cfg.ks),)) for _ in range(5))
    sizes = list(range(2, 2 ** max(cfg.depths) + 1))
    by_size = {name: np.full(shape + (len(sizes),), np.nan) for name in ("fidelity", "agreement", "exact")}
    cart_exact, cart_fidelity, constant_exact, net_test_acc, net_val_acc, n_units, cart_leaves = (
        np.zeros(shape) for _ in range(7))
    for (depth, tree, seed), files in runs.items():
        at = (cfg.depths.index(depth), cfg.trees.index(tree), cfg.seeds.index(seed))
        probes, curves = files["probes"], files["curves"]
        exact[at] = probes["exact"].sel(tree=ks).values
        fidelity[at] = probes["fidelity"].sel(tree=ks).values
        agreement[at] = probes["agreement"].sel(tree=ks).values
        leaves[at] = (probes["n_nodes"].sel(tree=ks).values + 1) // 2
        for name, values in by_size.items():
            values[at][: probes.sizes["cart_leaves"]] = probes[f"cart_{name}"].values
        n_probes[at] = probes["n_probes"].values
        cart_exact[at] = float(probes["exact"].sel(tree="cart"))
        cart_fidelity[at] = float(probes["fidelity"].sel(tree="cart"))
        constant_exact[at] = float(probes["exact"].sel(tree="constant"))
        net_test_acc[at] = float(curves["test_acc"].values[-1])
        net_val_acc[at], n_units[at] = probes.attrs["net_val_acc"], probes.attrs["n_units"]
        cart_leaves[at] = (int(probes["n_nodes"].sel(tree="cart")) + 1) // 2
    run, per_k = ("depth", "tree", "seed"), ("depth", "tree", "seed", "k")
    data = {
        "exact": (per_k, exact.astype(np.int8), {"long_name": "1 where the distilled tree computes the true tree"}),
        "n_probes": (per_k, n_probes.astype(np.int64), {"long_name": "distinct ANDs probed, the root included"}),
        "fidelity": (per_k, fidelity, {"long_name": "distilled tree's agreement with the network (validation)"}),
        "agreement": (per_k, agreement, {
            "long_name": "fraction of validation inputs where the distilled tree equals the true tree"}),
        "leaves": (per_k, leaves.astype(np.int64), {"long_name": "leaves of the distilled tree"}),
        "cart_size_fidelity": ((*run, "cart_leaves"), by_size["fidelity"], {
            "long_name": "CART with this many leaves (depth <= r): agreement with the network; NaN past 2^r"}),
        "cart_size_agreement": ((*run, "cart_leaves"), by_size["agreement"], {
            "long_name": "CART with this many leaves: agreement with the true tree; NaN past 2^r"}),
        "cart_size_exact": ((*run, "cart_leaves"), by_size["exact"], {
            "long_name": "CART with this many leaves: 1 where it computes the true tree; NaN past 2^r"}),
        "cart_exact": (run, cart_exact.astype(np.int8), {"long_name": "1 where CART (same size) is the true tree"}),
        "cart_fidelity": (run, cart_fidelity, {"long_name": "CART's agreement with the network (validation)"}),
        "cart_n_leaves": (run, cart_leaves.astype(np.int64), {"long_name": "leaves of the CART tree"}),
        "constant_exact": (run, constant_exact.astype(np.int8), {
            "long_name": "1 where the constant majority tree is the true tree (chance)"}),
        "net_test_acc": (run, net_test_acc, {"long_name": "network's final test accuracy on the true labels"}),
        "net_val_acc": (run, net_val_acc, {"long_name": "network's accuracy on the probes' validation inputs"}),
        "n_units": (run, n_units.astype(np.int64), {"long_name": "non-constant hidden units probed"}),
        "recovery": (("depth", "k"), exact.mean(axis=(1, 2)), {"long_name": "exact recovery rate (trees, seeds)"}),
        "cart_recovery": (("depth",), cart_exact.mean(axis=(1, 2)), {"long_name": "CART's exact recovery rate"}),
        "chance_recovery": (("depth",), constant_exact.mean(axis=(1, 2)), {
            "long_name": "the constant tree's exact recovery rate"}),
        "probes_median": (("depth", "k"), np.median(n_probes.reshape(len(cfg.depths), -1, len(cfg.ks)), axis=1), {
            "long_name": "median probes over trees and seeds"}),
        "n_all_ands": (("depth",), np.array([int(runs[(d, cfg.trees[0], cfg.seeds[0])]["probes"].attrs["n_all_ands"])
                                             for d in cfg.depths], dtype=np.int64), {
            "long_name": "every AND of at most r literals of d bits"}),
    }
    data |= _example(runs[example_coords(cfg)]["probes"], cfg)
    attrs = {"study": study, "n_bits": cfg.n_bits, "k_paper": cfg.k_paper, "k_max": max(cfg.ks),
             "example_run": runs[example_coords(cfg)]["probes"].attrs["run"],
             "example_depth": example_coords(cfg)[0]}
    return xr.Dataset(data, coords={"depth": list(cfg.depths), "tree": list(cfg.trees), "seed": list(cfg.seeds),
                                    "k": list(cfg.ks), "class": [-1.0, 1.0], "cart_leaves": sizes}, attrs=attrs)


def _example(probes: xr.Dataset, cfg: DistillStudyConfig) -> dict:
    """The example run's ANDs probed at the widest beam and its true and distilled trees."""
    widest = probes["and_in_beam"].sel(k=max(cfg.ks)).values.astype(bool)
    data = {f"example_and_{name}": (("example_and",), probes[f"and_{name}"].values[widest],
                                    probes[f"and_{name}"].attrs) for name in ("score", "depth", "true")}
    data["example_and_codes"] = (("example_and", "literal"), probes["and_codes"].values[widest],
                                 probes["and_codes"].attrs)
    packed = {name: probes[f"tree_{name}"].sel(tree=["true", f"probing_k{max(cfg.ks)}"]).values
              for name in trees.PACKED}
    packed["n_nodes"] = probes["n_nodes"].sel(tree=["true", f"probing_k{max(cfg.ks)}"]).values
    n = int(packed["n_nodes"].max())
    for name, array in packed.items():
        dims = ("example_tree",) + (("example_node", "class") if name == "value" else
                                    ("example_node",) if name != "n_nodes" else ())
        source = probes[f"tree_{name}" if name != "n_nodes" else name]
        data[f"example_tree_{name}"] = (dims, array[:, :n] if name != "n_nodes" else array,
                                        {"long_name": f"true (0) and distilled (1) tree: {source.attrs['long_name']}"})
    return data


def example_tree(summary: xr.Dataset, which: int) -> trees.TreeArrays:
    """The example's true tree (0) or its distilled tree at the widest beam (1)."""
    arrays = {name: summary[f"example_tree_{name}"].values for name in (*trees.PACKED, "n_nodes")}
    return trees.unpack(arrays, which, summary["class"].values, "binary")
