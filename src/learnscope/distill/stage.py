"""The distill stage: trees of depth 1..max_depth for one trained network.

The network (its last snapshot) labels inputs; CART and the AGOP-guided CART imitate it.
Tasks that can sample draw fresh inputs (``trees.n_fit`` to fit, ``trees.n_eval`` to
evaluate) from a generator seeded by ``trees.seed`` only, so every run of a task is
judged on the same inputs; fixed datasets (e.g. digits) fit on their training inputs and
evaluate on their test inputs. The AGOP is the one measured at that snapshot.

A run stopped by ``train.on_divergence: stop`` is distilled at its last snapshot before
it diverged (its checkpoints' later snapshots repeat it; its features there are NaN): a
real network, so its tree, fidelity and pictures exist like any run's; tree.nc's
``diverged_at_step`` attr (-1 for a run that did not diverge) and ``distilled_step`` mark it.
"""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import xarray as xr  # noqa: E402

from learnscope import data, store  # noqa: E402
from learnscope.config import to_json  # noqa: E402
from learnscope.distill import trees  # noqa: E402
from learnscope.distill.run import VARIANTS, distill_network, tree_from_dataset  # noqa: E402
from learnscope.features.extract import load_model  # noqa: E402
from learnscope.distill.config import DistillConfig  # noqa: E402
from learnscope.errors import MeasureError  # noqa: E402
from learnscope.features.failures import is_numerical  # noqa: E402
from learnscope.run_files import kept_snapshots  # noqa: E402
from learnscope.runspec import RunSpec  # noqa: E402
from learnscope.train import seed_for, setup_compute  # noqa: E402

log = logging.getLogger(__name__)


def distill_inputs(spec: RunSpec, cfg: DistillConfig, dataset: xr.Dataset) -> dict[str, torch.Tensor]:
    """x_fit, x_eval and the true labels y_eval: fresh samples where the task can draw them."""
    try:
        g = torch.Generator().manual_seed(seed_for(cfg.seed, "distill"))
        x_fit, _ = spec.task.sample(cfg.n_fit, g)
        x_eval, y_eval = spec.task.sample(cfg.n_eval, g)
    except NotImplementedError:
        tensors = data.load_tensors(dataset, torch.device("cpu"))
        x_fit, x_eval, y_eval = tensors["x_train"], tensors["x_test"], tensors["y_test"]
    return {"x_fit": x_fit, "x_eval": x_eval, "y_eval": y_eval}


def distill_run_dataset(spec: RunSpec, cfg: DistillConfig, dataset: xr.Dataset,
                        checkpoints: xr.Dataset, features: xr.Dataset) -> xr.Dataset:
    """Trees of the network at the run's last snapshot and its AGOP there. A run stopped by
    ``train.on_divergence: stop`` is distilled at its last snapshot before it diverged (the
    weights it stopped with), with a warning naming it; the ``distilled_step`` and
    ``diverged_at_step`` (-1: never) attrs say which. A numerical failure raises
    MeasureError naming the run and the step."""
    index = int(np.flatnonzero(kept_snapshots(checkpoints))[-1])
    step, diverged_at = int(checkpoints["step"].values[index]), int(checkpoints.attrs.get("diverged_at_step", -1))
    if diverged_at >= 0:
        log.warning("run %s diverged at step %d (train.on_divergence: stop); distilling its snapshot at step %d",
                    spec.name, diverged_at, step)
    try:
        ds = _distill_snapshot(spec, cfg, dataset, checkpoints, index, features["agop"].sel(step=step).values)
    except Exception as e:  # noqa: BLE001: only numerical failures are renamed
        if not is_numerical(e):
            raise
        raise MeasureError(f"run {spec.name} at step {step}: distillation failed: {type(e).__name__}: {e}") from e
    ds.attrs.update(run=spec.name, distilled_step=step, diverged_at_step=diverged_at)
    return ds


def _distill_snapshot(spec: RunSpec, cfg: DistillConfig, dataset: xr.Dataset, checkpoints: xr.Dataset,
                      index: int, agop: np.ndarray) -> xr.Dataset:
    device = setup_compute(spec.compute)
    model = load_model(spec, checkpoints, index, device)
    x = distill_inputs(spec, cfg, dataset)
    with torch.no_grad():
        out_fit = model(x["x_fit"].to(device)).cpu().numpy()
        out_eval = model(x["x_eval"].to(device)).cpu().numpy()
    ds = distill_network(x["x_fit"].numpy(), out_fit, x["x_eval"].numpy(), out_eval, x["y_eval"].numpy(),
                         agop, dataset.attrs["kind"], cfg.max_depth, feature_names=list(dataset["feature_name"].values))
    ds["support"] = ("input", dataset["support"].values.astype(np.int8),
                     {"long_name": "1 where the true target depends on the coordinate", "units": "1"})
    return ds


def render(ds: xr.Dataset, text_path: str, png_path: str) -> None:
    """Text and picture of both variants' deepest trees."""
    depth = int(ds["depth"].values[-1])
    names = [str(n) for n in ds["input_name"].values]
    blocks, fig = [], plt.figure(figsize=(7 * len(VARIANTS), 4.5))
    for i, variant in enumerate(VARIANTS):
        tree = tree_from_dataset(ds, variant, depth)
        fid = float(ds["fidelity"].sel(variant=variant, depth=depth))
        title = f"{variant} tree, depth {depth}: fidelity {fid:.3f}"
        blocks.append(f"# {ds.attrs['run']}: {title}\n{trees.render_text(tree, names)}")
        ax = fig.add_subplot(1, len(VARIANTS), i + 1)
        trees.plot_tree(tree, ax, names)
        ax.set_title(title)
    store.write_text("\n".join(blocks), text_path)
    store.save_figure(fig, png_path)


def distill_group_run(specs: list[RunSpec], cfg: DistillConfig, dataset_path: str, checkpoints_paths: list[str],
                      features_paths: list[str], out_dirs: list[str], inputs: list[str]) -> None:
    """The distill stage for a group of runs: tree.nc, tree.txt and tree.png in each run's folder."""
    dataset = store.read(dataset_path, "dataset", expect={"params_json": specs[0].task})
    for spec, ck_path, feat_path, out_dir in zip(specs, checkpoints_paths, features_paths, out_dirs):
        ds = distill_run_dataset(spec, cfg, dataset,
                                 store.read(ck_path, "checkpoints", expect={"run": spec.name, "params_json": spec}),
                                 store.read(feat_path, "features", expect={"run": spec.name, "params_json.run": spec}))
        own = store.own_inputs(store.own_inputs(inputs, ck_path, checkpoints_paths), feat_path, features_paths)
        store.write(ds, f"{out_dir}/tree.nc", "tree", to_json({"run": spec, "distill": cfg}), own)
        render(ds, f"{out_dir}/tree.txt", f"{out_dir}/tree.png")
