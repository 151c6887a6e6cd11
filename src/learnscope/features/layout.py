"""The layout of features.nc: one run's measurements (``extract.measure_group``) as an xarray
Dataset with named dims, coordinates and a ``long_name`` on every variable; each measure
adds its own (``Measure.variables``)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.features import MEASURES
from learnscope.run_files import weight_var
from learnscope.runspec import RunSpec


def features_to_xarray(spec: RunSpec, m: dict, checkpoints: xr.Dataset) -> xr.Dataset:
    matrices = m["_matrices"]
    layer_names = [weight_var(k)[0] for k in matrices]
    acc_units = {"units": "1"}
    variables = {
        "train_loss": ("step", m["train_loss"], {"long_name": "training loss", **acc_units}),
        "test_loss": ("step", m["test_loss"], {"long_name": "test loss", **acc_units}),
        "train_acc": ("step", m["train_acc"], {"long_name": "training accuracy", **acc_units}),
        "test_acc": ("step", m["test_acc"], {"long_name": "test accuracy", **acc_units}),
        "coord_mass": (("step", "input"), m["coord_mass"],
                       {"long_name": "first-layer weight mass per input coordinate sum_j W1[j,i]^2"}),
        "dw_stable_rank": (("step", "layer"), m["dw_stable_rank"],
                           {"long_name": "stable rank |W_t - W_0|_F^2 / |W_t - W_0|_2^2", **acc_units}),
    }
    coords = {"step": ("step", checkpoints["step"].values, {"long_name": "optimizer step"}),
              "layer": ("layer", np.array(layer_names, dtype=object))}
    attrs = {"run": spec.name, "measures": ",".join(m["_measures"])}
    for name in m["_measures"]:
        extra_variables, extra_coords, extra_attrs = MEASURES[name].variables(spec, m)
        variables |= extra_variables
        coords |= extra_coords
        attrs |= extra_attrs
    ds = xr.Dataset(variables, coords=coords, attrs=attrs)
    for k, name in zip(matrices, layer_names):
        ds[f"{name}_dw_sv"] = (("step", f"{name}_sv"), m[f"sv:{k}"],
                               {"long_name": f"singular values of W_t - W_0 of {k}"})
    return ds
