"""The distill study's sources job: every run's final network probed and distilled
(``learnscope.distill.probing``), one probes file per run (``store.probes_path``).

A probes file holds, on dim ``tree``: the true tree, CART fitted to the network's labels with
as many leaves as the widest beam's distilled tree (the same fit inputs, depth ≤ r), the
constant tree of the network's majority label (chance), and the distilled tree of every beam
width ``k``; each tree's exact recovery of the true tree (the same function of ±1 inputs), its
agreement with the network (fidelity) and with the true tree on the validation inputs; on dim
``cart_leaves`` the same for CART at every size 2..2^r (fidelity vs size); on dim ``and``: every probed AND with its probe score,
its depth, the widths that probed it and whether it is a node of the true tree.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch
import xarray as xr
from sklearn.tree import DecisionTreeClassifier

from learnscope import store
from learnscope.config import to_json
from learnscope.distill import ands, probing, trees
from learnscope.features.extract import load_model
from learnscope.representations import hidden_layers
from learnscope.runspec import RunSpec
from learnscope.studies.distill.config import DistillStudyConfig
from learnscope.tasks.boolean import uniform_hypercube

log = logging.getLogger(__name__)
CLASSES = np.array([-1.0, 1.0])
TREE_LONG_NAMES = {
    "children_left": "left child (x <= 0), -1 at a leaf", "children_right": "right child, -1 at a leaf",
    "feature": "variable the node splits on, -2 at a leaf", "threshold": "x[feature] <= threshold goes left",
    "impurity": "Gini impurity of the network's labels on the fit inputs (true tree: its own labels)",
    "n_node_samples": "fit inputs reaching the node", "value": "fractions of those labelled -1, +1"}


def probe_inputs(cfg: DistillStudyConfig) -> tuple[np.ndarray, np.ndarray]:
    """The fit and validation inputs (n_fit, d), (n_val, d), from ``cfg.seed`` only."""
    generator = torch.Generator().manual_seed(cfg.seed)
    return (uniform_hypercube(cfg.n_fit, cfg.n_bits, generator).numpy(),
            uniform_hypercube(cfg.n_val, cfg.n_bits, generator).numpy())


def node_ands(tree: trees.TreeArrays, max_depth: int) -> np.ndarray:
    """(n_nodes, max_depth) the AND of literals on the path to each node (sorted codes, −1 pads)."""
    out = np.full((tree.n_nodes, max_depth), -1, dtype=np.int64)
    stack = [(0, [])]
    while stack:
        node, codes = stack.pop()
        out[node, : len(codes)] = sorted(codes)
        if not tree.is_leaf[node]:
            var = int(tree.feature[node])
            stack += [(int(tree.children_left[node]), codes + [2 * var + 1]),
                      (int(tree.children_right[node]), codes + [2 * var])]
    return out


def cart_sizes(depth: int) -> list[int]:
    """The leaf counts of the CART baselines of a depth-r tree: 2, 3, ..., 2^r."""
    return list(range(2, 2 ** depth + 1))


def constant_tree(labels: np.ndarray) -> trees.TreeArrays:
    """The root alone, labelled by the majority of ``labels`` (a tie: −1)."""
    return trees.from_counts([-1], [-1], [-2], [[(labels < 0).sum(), (labels > 0).sum()]])


def net_labels(model: torch.nn.Module, x: np.ndarray, layers: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The network's ±1 labels (n,) and its hidden ``layers`` (all if empty) concatenated (n, Σ widths)."""
    with torch.no_grad():
        xt = torch.from_numpy(x)
        hidden = hidden_layers(model, xt)
        if any(layer >= len(hidden) for layer in layers):
            raise ValueError(f"distill.layers = {list(layers)}: the network has {len(hidden)} hidden layers")
        hidden = torch.cat([hidden[i] for i in layers] if layers else hidden, dim=1)
        out = model(xt)[:, 0]
    return torch.where(out >= 0, 1.0, -1.0).numpy(), hidden.numpy()


def probe_run(cfg: DistillStudyConfig, spec: RunSpec, model: torch.nn.Module, x_fit: np.ndarray,
              x_val: np.ndarray) -> dict:
    """Everything a probes file holds for one trained network (module docstring)."""
    r = spec.task.depth
    labels_fit, z_fit = net_labels(model, x_fit, cfg.layers)
    labels_val, z_val = net_labels(model, x_val, cfg.layers)
    distiller = probing.ProbingDistiller(r, cfg.ks, cfg.ridge).fit(x_fit, labels_fit, z_fit, x_val, z_val)
    probed = distiller.probed_
    true = spec.task.tree(x_fit)
    true_val = trees.predict(true, x_val)
    distilled = [distiller.trees_[k] for k in cfg.ks]
    carts = {leaves: trees.from_sklearn(DecisionTreeClassifier(max_depth=r, max_leaf_nodes=leaves, random_state=0)
                                        .fit(x_fit, labels_fit), None, "binary")
             for leaves in cart_sizes(r)}
    every = [true, carts[min(max(2, int(distilled[-1].is_leaf.sum())), 2 ** r)], constant_tree(labels_fit), *distilled]
    true_keys = ands.and_keys(node_ands(true, r), cfg.n_bits)
    predicted = np.stack([trees.predict(tree, x_val) for tree in every])  # (tree, n_val)
    cart_predicted = np.stack([trees.predict(tree, x_val) for tree in carts.values()])  # (size, n_val)
    return {
        "trees": every,
        "exact": np.array([ands.same_function(tree, true) for tree in every], dtype=np.int8),
        "fidelity": (predicted == labels_val).mean(axis=1),
        "agreement": (predicted == true_val).mean(axis=1),
        "cart_fidelity": (cart_predicted == labels_val).mean(axis=1),
        "cart_agreement": (cart_predicted == true_val).mean(axis=1),
        "cart_exact": np.array([ands.same_function(tree, true) for tree in carts.values()], dtype=np.int8),
        "n_probes": np.array([distiller.n_probes_[k] for k in cfg.ks], dtype=np.int64),
        "probed": probed,
        "and_true": np.isin(probed.keys, true_keys).astype(np.int8),
        "net_val_acc": float((labels_val == spec.task.target(torch.from_numpy(x_val)).numpy()).mean()),
        "n_units": distiller.n_units_,
    }


def probes_dataset(cfg: DistillStudyConfig, spec: RunSpec, result: dict) -> xr.Dataset:
    """The probes file of one run (module docstring) from ``probe_run``'s result."""
    packed = trees.pack(result["trees"])
    names = ["true", "cart", "constant", *[f"probing_k{k}" for k in cfg.ks]]
    probed = result["probed"]
    tree_dims = {"value": ("tree", "node", "class")}
    data = {f"tree_{name}": (tree_dims.get(name, ("tree", "node")), array, {"long_name": TREE_LONG_NAMES[name]})
            for name, array in packed.items() if name != "n_nodes"}
    data |= {
        "n_nodes": (("tree",), packed["n_nodes"], {"long_name": "nodes of the tree; node arrays are padded with -1"}),
        "exact": (("tree",), result["exact"], {"long_name": "1 where the tree computes the true tree's function"}),
        "fidelity": (("tree",), result["fidelity"], {
            "long_name": "agreement with the network's labels on the validation inputs", "units": "1"}),
        "agreement": (("tree",), result["agreement"], {
            "long_name": "fraction of the validation inputs where the tree equals the true tree", "units": "1"}),
        "cart_fidelity": (("cart_leaves",), result["cart_fidelity"], {
            "long_name": "CART with this many leaves: agreement with the network (validation)", "units": "1"}),
        "cart_agreement": (("cart_leaves",), result["cart_agreement"], {
            "long_name": "CART with this many leaves: agreement with the true tree (validation)", "units": "1"}),
        "cart_exact": (("cart_leaves",), result["cart_exact"], {
            "long_name": "CART with this many leaves: 1 where it computes the true tree's function"}),
        "n_probes": (("k",), result["n_probes"], {"long_name": "distinct ANDs probed, the root included"}),
        "and_codes": (("and", "literal"), probed.codes, {
            "long_name": "sorted literal codes of the AND: 2i = x_i, 2i+1 = not x_i, -1 pads"}),
        "and_depth": (("and",), probed.depth, {"long_name": "literals in the AND"}),
        "and_score": (("and",), probed.score, {
            "long_name": "probe score: validation MSE / variance (1 - R^2; lower = represented)"}),
        "and_in_beam": (("and", "k"), probed.in_beam.astype(np.int8), {"long_name": "1 where width k probed it"}),
        "and_true": (("and",), result["and_true"], {"long_name": "1 where the AND is a node of the true tree"}),
        "and_n_pos": (("and",), probed.n_pos, {"long_name": "fit inputs where it holds, network label +1"}),
        "and_n_neg": (("and",), probed.n_neg, {"long_name": "fit inputs where it holds, network label -1"}),
    }
    return xr.Dataset(data, coords={"tree": names, "k": list(cfg.ks), "class": CLASSES,
                                    "cart_leaves": cart_sizes(spec.task.depth)},
                      attrs={"run": spec.name, "kind": "binary", "depth": spec.task.depth, "tree_seed": spec.task.data_seed,
                             "seed": spec.seed, "n_bits": cfg.n_bits, "n_units": result["n_units"],
                             "net_val_acc": result["net_val_acc"], "n_all_ands": ands.n_ands(cfg.n_bits, spec.task.depth)})


def write_probes(cfg: DistillStudyConfig, specs: list[RunSpec], checkpoints: list[str],
                 out_paths: list[str], inputs: list[str]) -> None:
    """Probe each run's final network (``checkpoints[i]`` is ``specs[i]``'s) into ``out_paths[i]``."""
    x_fit, x_val = probe_inputs(cfg)
    for spec, path, out in zip(specs, checkpoints, out_paths, strict=True):
        start = time.perf_counter()
        ckpt = store.read(path, "checkpoints", expect={"run": spec.name})
        model = load_model(spec, ckpt, ckpt.sizes["step"] - 1, torch.device("cpu"))
        result = probe_run(cfg, spec, model, x_fit, x_val)
        made_with = {"run": spec, **{key: getattr(cfg, key) for key in ("ks", "n_fit", "n_val", "ridge", "seed", "layers")}}
        store.write(probes_dataset(cfg, spec, result), out, "probes", to_json(made_with),
                    store.own_inputs(inputs, path, checkpoints))
        log.info("%s: net val acc %.4f, %d units, probes %s, exact %s (%.1f s)", spec.name, result["net_val_acc"],
                 result["n_units"], result["n_probes"].tolist(), result["exact"].tolist(),
                 time.perf_counter() - start)
