"""The layout of features.nc: one run's measurements (``extract.measure_group``) as an xarray
Dataset with named dims, coordinates and a ``long_name`` on every variable."""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.features import nfa
from learnscope.features.gdln import gdln_variables
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
    if "agop" in m:
        variables |= {
            "agop": (("step", "in_a", "in_b"), m["agop"],
                     {"long_name": "input AGOP (1/n) sum_i J_i^T J_i of the network"}),
            "nfm": (("step", "in_a", "in_b"), m["nfm"], {"long_name": "first-layer W1^T W1"}),
            "dnfm": (("step", "in_a", "in_b"), m["dnfm"],
                     {"long_name": "first-layer (W1 - W1_0)^T (W1 - W1_0)"}),
            "nfa_corr": (("step", "weight_form", "agop_power", "metric"), m["nfa_corr"],
                         {"long_name": "Neural Feature Ansatz correlation corr(F(W_t), G(AGOP_t))", **acc_units}),
            "nfa_corr_init": (("step", "agop_power", "metric"), m["nfa_corr_init"],
                              {"long_name": "init baseline corr(W0^T W0, G(AGOP_t))", **acc_units}),
        }
        coords |= {"weight_form": ("weight_form", np.array(nfa.WEIGHT_FORMS, dtype=object)),
                   "agop_power": ("agop_power", np.array(nfa.AGOP_POWERS, dtype=object)),
                   "metric": ("metric", np.array(nfa.METRICS, dtype=object))}
        attrs["main_convention"] = ",".join(nfa.MAIN_CONVENTION)
    if "fourier" in m:
        variables["fourier"] = (("step", "monomial"), m["fourier"],
                                {"long_name": "Fourier coefficient mean_test f(x) chi_S(x) of the network"})
        coords["monomial"] = ("monomial", np.array(["x" + "x".join(map(str, s)) for s in m["_sets"]], dtype=object),
                              {"long_name": "the set S of chi_S(x) = prod_(i in S) x_i"})
    if "margin" in m:
        variables["margin"] = ("step", m["margin"], {"long_name": "training margin min_i (f_i[y_i] - max_c!=y_i f_i[c])"})
        if "normalised_margin" in m:
            variables["normalised_margin"] = ("step", m["normalised_margin"], {
                "long_name": "training margin / sum_j |theta_j|^nu (L_2,nu-normalised)", **acc_units})
        g = m["_group"]
        coords["irrep"] = ("irrep", np.array([r.name for r in g.irreps], dtype=object),
                           {"long_name": f"real irreducible representation of {g.name}"})
        attrs["group"] = g.name
        for key in [k for k in m if k.startswith("irrep_energy_")]:
            part = key.removeprefix("irrep_energy_")
            variables[key] = (("step", m[f"_dim_{part}"], "irrep"), m[key], {
                "long_name": f"squared norm of each unit's {part} (a function on {g.name}) per irrep component"})
    if "mode_strength" in m:
        extra_variables, extra_coords = gdln_variables(m)
        variables |= extra_variables
        coords |= extra_coords
    ds = xr.Dataset(variables, coords=coords, attrs=attrs)
    for k, name in zip(matrices, layer_names):
        ds[f"{name}_dw_sv"] = (("step", f"{name}_sv"), m[f"sv:{k}"],
                               {"long_name": f"singular values of W_t - W_0 of {k}"})
    return ds
