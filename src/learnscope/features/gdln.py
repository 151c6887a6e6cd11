"""Per-snapshot measurements of a gated deep linear network (measure ``gdln``).

At every snapshot of a ``gdln`` model on a ``routing`` task: the singular values of every
layer (each pathway's input and output layer, each shared layer), and the strength of each
mode of the task's input–output correlation in every pathway pair's end-to-end map,
a_ji,α = u_αᵀ W_out[j] W_shared ⋯ W_in[i] v_α (``learnscope.features.modes.task_modes``):
the quantities the neural race reduction predicts (Saxe, Sodhani & Lewallen, ICML 2022).
"""

from __future__ import annotations

import numpy as np
import torch

from learnscope.features.modes import task_modes
from learnscope.features.measure import Measure
from learnscope.runspec import RunSpec


def gdln_measures(spec: RunSpec, states: list[dict[str, torch.Tensor]]) -> dict:
    """Layer singular values and pair mode strengths of one run's snapshots.

    Returns:
        ``sv_in`` (S, M, r_in), ``sv_shared`` (S, L, width), ``sv_out`` (S, M, r_out),
        ``mode_strength`` (S, M_out, M_in, r) float64, and ``_modes`` (the task's modes).
    """
    task, model = spec.task, spec.model
    modes = task_modes(task.item_inputs(), task.item_targets())
    svs = [model.layer_singular_values(state) for state in states]
    maps = torch.stack([model.pathway_maps(state) for state in states])  # (S, M_out, M_in, N, P)
    u, v = torch.from_numpy(modes.U), torch.from_numpy(modes.V)
    strength = torch.einsum("sjinp,na,pa->sjia", maps, u, v)
    return {"sv_in": np.stack([s["W_in"] for s in svs]), "sv_shared": np.stack([s["W_shared"] for s in svs]),
            "sv_out": np.stack([s["W_out"] for s in svs]), "mode_strength": strength.numpy(), "_modes": modes}


def gdln_variables(m: dict) -> tuple[dict, dict]:
    """The ``gdln`` variables and coordinates of features.nc."""
    modes = m["_modes"]
    variables = {
        "mode_strength": (("step", "pathway_out", "pathway_in", "mode"), m["mode_strength"], {
            "long_name": "mode strength u_a^T W_out[j] W_shared W_in[i] v_a of each pathway pair's map"}),
        "sv_in": (("step", "pathway", "in_sv"), m["sv_in"],
                  {"long_name": "singular values of each input pathway's layer W_in[i]"}),
        "sv_shared": (("step", "shared_layer", "shared_sv"), m["sv_shared"],
                      {"long_name": "singular values of each shared layer"}),
        "sv_out": (("step", "pathway", "out_sv"), m["sv_out"],
                   {"long_name": "singular values of each output pathway's layer W_out[j]"}),
    }
    coords = {"mode_sv": ("mode", modes.s, {"long_name": "singular value of the mode in (1/P) sum_p y_p x_p^T"}),
              "mode_input_variance": ("mode", modes.d, {"long_name": "input variance v_a^T Sigma_x v_a of the mode"})}
    return variables, coords


class GdlnMeasure(Measure):
    """Measure ``gdln``: every layer's singular values and each pathway pair's strength in
    each mode of the task (this module's docstring)."""

    name = "gdln"
    schema = {"mode_strength": ("step", "pathway_out", "pathway_in", "mode"),
              "sv_shared": ("step", "shared_layer", "shared_sv")}

    def per_run(self, spec, states, rows):
        return gdln_measures(spec, states)

    def variables(self, spec, m):
        return (*gdln_variables(m), {})


GDLN_MEASURE = GdlnMeasure()
