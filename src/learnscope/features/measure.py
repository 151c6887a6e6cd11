"""The interface of a per-snapshot measure (a study asks for some by name, ``features.MEASURES``).

The features stage (``extract.measure_group``) loads every snapshot of every run of a group
as batched ensembles and, for each measure a run gets:

1. ``batched(model, spec, tensors, outputs, cfg)``: on one ensemble block (members =
   (run, snapshot) networks), arrays with a leading member axis;
2. ``per_run(spec, states, rows)``: one run's measurements at its snapshots, from its
   slice ``rows`` of the batched arrays and its snapshots' weights ``states``;
3. ``variables(spec, m)``: those measurements as features.nc variables, coordinates and attrs.

``schema`` (variable -> dims) is what features.nc must hold when its ``measures`` attr names
the measure; ``learnscope.store`` checks it on every write and read. Measures are pure
functions of tensors: they never read files or set up compute.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch


class Measure:
    """Base class: no batched part, rows passed through, no variables."""

    name: ClassVar[str]
    schema: ClassVar[dict[str, tuple[str, ...]]] = {}

    def applies(self, spec) -> bool:
        """Whether runs like ``spec`` get this measure (e.g. ``group``: group tasks only)."""
        return True

    def batched(self, model, spec, tensors: dict[str, torch.Tensor], outputs: dict[str, torch.Tensor],
                cfg) -> dict[str, torch.Tensor]:
        """Arrays (members, ...) for one ensemble block; ``outputs``: its ``train`` and ``test`` outputs."""
        return {}

    def per_run(self, spec, states: list[dict[str, torch.Tensor]], rows: dict[str, np.ndarray]) -> dict:
        """One run's measurements (snapshot-major arrays); keys starting with ``_`` are not data."""
        return dict(rows)

    def variables(self, spec, m: dict) -> tuple[dict, dict, dict]:
        """(variables, coordinates, attrs) of features.nc from ``per_run``'s output."""
        return {}, {}, {}
