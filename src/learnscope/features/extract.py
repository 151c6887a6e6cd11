"""The features stage: measurements at every checkpoint snapshot of one run.

Per snapshot: train/test loss and accuracy; the input AGOP of the network (averaged over
the first ``features.agop_samples`` training inputs); the first layer's Neural Feature
Matrix W1ᵀW1 and (W1−W0)ᵀ(W1−W0); the Neural Feature Ansatz correlations in every named
convention (``nfa.WEIGHT_FORMS x nfa.AGOP_POWERS x nfa.METRICS``) and the init baseline
corr(W0ᵀW0, AGOP_t); per weight matrix the singular values and stable rank of W_t − W_0;
the first layer's weight mass per input coordinate.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import xarray as xr

from learnscope import data, store
from learnscope.config import to_json
from learnscope.features import nfa
from learnscope.features.agop import agop
from learnscope.features.spectra import coordinate_mass, singular_values, stable_rank
from learnscope.params import FeaturesConfig, RunSpec
from learnscope.train import evaluate, setup_compute, weight_var

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


def measure_run(spec: RunSpec, cfg: FeaturesConfig, dataset: xr.Dataset, checkpoints: xr.Dataset,
                device: torch.device) -> dict[str, np.ndarray]:
    """Every measurement at every snapshot, stacked along the first axis (step)."""
    kind, tensors = dataset.attrs["kind"], data.load_tensors(dataset, device)
    x_agop = tensors["x_train"][: cfg.agop_samples]
    init = {k: v.double() for k, v in snapshot_state(checkpoints, 0).items()}
    matrices = [k for k, v in init.items() if v.ndim == 2]
    rows: dict[str, list] = {}
    for index in range(checkpoints.sizes["step"]):
        model = load_model(spec, checkpoints, index, device)
        weights = {k: v.detach().double().cpu() for k, v in model.state_dict().items()}
        w1, w1_0 = weights[matrices[0]], init[matrices[0]]
        g = agop(model, x_agop).double().cpu()
        tr = evaluate(model, kind, tensors["x_train"], tensors["y_train"])
        te = evaluate(model, kind, tensors["x_test"], tensors["y_test"])
        row = {"train_loss": tr[0], "train_acc": tr[1], "test_loss": te[0], "test_acc": te[1],
               "agop": g, "nfm": nfa.neural_feature_matrix(w1),
               "dnfm": nfa.neural_feature_matrix(w1 - w1_0),
               "nfa_corr": nfa.nfa_correlations(w1, w1_0, g),
               "nfa_corr_init": nfa.nfa_init_baseline(w1_0, g),
               "coord_mass": coordinate_mass(w1),
               "dw_stable_rank": [stable_rank(weights[k] - init[k]) for k in matrices]}
        for k in matrices:
            row[f"sv:{k}"] = singular_values(weights[k] - init[k])
        for key, value in row.items():
            rows.setdefault(key, []).append(np.asarray(value, dtype=np.float64))
    log.info("%s: measured %d snapshots", spec.name, checkpoints.sizes["step"])
    return {key: np.stack(values) for key, values in rows.items()} | {"_matrices": matrices}


def features_to_xarray(spec: RunSpec, m: dict, checkpoints: xr.Dataset) -> xr.Dataset:
    matrices = m["_matrices"]
    layer_names = [weight_var(k)[0] for k in matrices]
    acc_units = {"units": "1"}
    ds = xr.Dataset(
        {
            "train_loss": ("step", m["train_loss"], {"long_name": "training loss", **acc_units}),
            "test_loss": ("step", m["test_loss"], {"long_name": "test loss", **acc_units}),
            "train_acc": ("step", m["train_acc"], {"long_name": "training accuracy", **acc_units}),
            "test_acc": ("step", m["test_acc"], {"long_name": "test accuracy", **acc_units}),
            "agop": (("step", "in_a", "in_b"), m["agop"],
                     {"long_name": "input AGOP (1/n) sum_i J_i^T J_i of the network"}),
            "nfm": (("step", "in_a", "in_b"), m["nfm"], {"long_name": "first-layer W1^T W1"}),
            "dnfm": (("step", "in_a", "in_b"), m["dnfm"],
                     {"long_name": "first-layer (W1 - W1_0)^T (W1 - W1_0)"}),
            "nfa_corr": (("step", "weight_form", "agop_power", "metric"), m["nfa_corr"],
                         {"long_name": "Neural Feature Ansatz correlation corr(F(W_t), G(AGOP_t))", **acc_units}),
            "nfa_corr_init": (("step", "agop_power", "metric"), m["nfa_corr_init"],
                              {"long_name": "init baseline corr(W0^T W0, G(AGOP_t))", **acc_units}),
            "coord_mass": (("step", "input"), m["coord_mass"],
                           {"long_name": "first-layer weight mass per input coordinate sum_j W1[j,i]^2"}),
            "dw_stable_rank": (("step", "layer"), m["dw_stable_rank"],
                               {"long_name": "stable rank |W_t - W_0|_F^2 / |W_t - W_0|_2^2", **acc_units}),
        },
        coords={
            "step": ("step", checkpoints["step"].values, {"long_name": "optimizer step"}),
            "weight_form": ("weight_form", np.array(nfa.WEIGHT_FORMS, dtype=object)),
            "agop_power": ("agop_power", np.array(nfa.AGOP_POWERS, dtype=object)),
            "metric": ("metric", np.array(nfa.METRICS, dtype=object)),
            "layer": ("layer", np.array(layer_names, dtype=object)),
        },
        attrs={"run": spec.name, "main_convention": ",".join(nfa.MAIN_CONVENTION)},
    )
    for k, name in zip(matrices, layer_names):
        ds[f"{name}_dw_sv"] = (("step", f"{name}_sv"), m[f"sv:{k}"],
                               {"long_name": f"singular values of W_t - W_0 of {k}"})
    return ds


def features_run(spec: RunSpec, cfg: FeaturesConfig, dataset_path: str, checkpoints_path: str,
                 features_path: str, inputs: list[str]) -> None:
    """The features stage for one run."""
    device = setup_compute(spec.compute)
    dataset = store.read(dataset_path, "dataset")
    checkpoints = store.read(checkpoints_path, "checkpoints")
    measurements = measure_run(spec, cfg, dataset, checkpoints, device)
    store.write(features_to_xarray(spec, measurements, checkpoints), features_path, "features",
                to_json({"run": spec, "features": cfg}), inputs)
