"""A study's main curves as small CSV tables, declared as DVC plots in dvc.yaml.

Each study names one or two curves of its summary.nc (``Study.plots``); the study stage
writes each to ``results/studies/<study>/plots/<name>.csv`` with fixed columns: the x axis,
then the ``median``, ``low`` and ``high`` over the seeds (or another dimension) of the
configuration the curve picks, then any reference curves (e.g. the theory). Fixed columns
let dvc.yaml declare every plot once, so ``dvc plots diff`` (or ``learnscope plots``)
compares two commits or experiments whatever their params.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import xarray as xr

from learnscope.studies.arrays import nanmedian


@dataclasses.dataclass(frozen=True)
class Curve:
    """One main curve of a study.

    Attributes:
        variable: the summary variable drawn.
        x: its dimension along the curve.
        at: the other dimensions fixed, by position (``-1``: the last, e.g. the widest) or by
            label (a string, e.g. a model's name; absent from the summary: an empty table).
        over: the dimension summarised by median, low (min) and high (max).
        x_values: a summary variable giving the x axis (after ``at``); default: ``x``'s coordinate.
        references: column name -> a summary variable along ``x`` drawn beside (e.g. theory;
            fixed by ``at`` too, and its median taken over ``over`` where it has that dimension).
        x_label, y_label, title: what the plot shows.
    """

    variable: str
    x: str
    x_label: str
    y_label: str
    title: str
    at: tuple[tuple[str, int | str], ...] = ()
    over: str = "seed"
    x_values: str | None = None
    references: tuple[tuple[str, str], ...] = ()

    def columns(self) -> list[str]:
        return [self.x_values or self.x, "median", "low", "high", *(name for name, _ in self.references)]


def _pick(da: xr.DataArray, at: dict[str, int | str]) -> xr.DataArray:
    da = da.isel({dim: pos for dim, pos in at.items() if dim in da.dims and isinstance(pos, int)})
    return da.sel({dim: label for dim, label in at.items() if dim in da.dims and isinstance(label, str)})


def _has_labels(summary: xr.Dataset, at: dict[str, int | str]) -> bool:
    return all(label in summary[dim].values for dim, label in at.items() if isinstance(label, str))


def curve_table(summary: xr.Dataset, curve: Curve) -> str:
    """The curve as CSV text (canonical: same summary, same bytes). Rows whose x is missing
    (NaN or negative padding) or whose median is NaN (no seed reached it) are left out; an
    absent variable or label (that part of the study not run) gives the header alone."""
    header = ",".join(curve.columns()) + "\n"
    at = dict(curve.at)
    if curve.variable not in summary or not _has_labels(summary, at):
        return header
    y = _pick(summary[curve.variable], at)
    extra = [d for d in y.dims if d not in (curve.x, curve.over)]
    if extra:
        raise ValueError(f"plot of {curve.variable}: dimensions {extra} are neither x, over nor fixed by at")
    if curve.over not in y.dims:
        y = y.expand_dims(curve.over)
    values = y.transpose(curve.over, curve.x).values.astype(np.float64)
    x = (_pick(summary[curve.x_values], at) if curve.x_values else summary[curve.x]).values.astype(np.float64)
    # NaN where no seed got there (that row is left out below); fmin/fmax skip NaN quietly
    stats = [nanmedian(values, 0), np.fmin.reduce(values, 0), np.fmax.reduce(values, 0)]
    refs = [_reference(_pick(summary[var], at), curve.over) for _, var in curve.references]
    keep = np.isfinite(x) & (x >= 0) & np.isfinite(stats[0])
    out = io.StringIO()
    out.write(header)
    for i in np.flatnonzero(keep):
        out.write(",".join(_fmt(v[i]) for v in (x, *stats, *refs)) + "\n")
    return out.getvalue()


def _reference(da: xr.DataArray, over: str) -> np.ndarray:
    return nanmedian(da.transpose(over, ...).values, 0) if over in da.dims else da.values.astype(np.float64)


def _fmt(value: float) -> str:
    """Seven significant digits, integers without a point; NaN as an empty cell."""
    if not np.isfinite(value):
        return ""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.7g}"


def dvc_plots() -> list[dict]:
    """The ``plots`` section dvc.yaml must hold: every study's curves (tests check they agree)."""
    from learnscope import store
    from learnscope.studies import STUDIES

    return [{store.study_path(study, f"plots/{name}"): {
                "x": curve.columns()[0], "y": curve.columns()[1:], "x_label": curve.x_label,
                "y_label": curve.y_label, "title": curve.title}}
            for study in STUDIES for name, curve in STUDIES[study].plots.items()]
