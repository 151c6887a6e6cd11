"""How the studies write numbers into metrics.json: rounded to 4 decimals, null where not finite."""

from __future__ import annotations

import numpy as np


def json_value(value) -> float | None:
    """A metric as JSON: a float rounded to 4 decimals, or None (null) for NaN and inf."""
    value = float(value)
    return None if not np.isfinite(value) else round(value, 4)


def json_list(values) -> list[float | None]:
    """Every element of ``values`` (flattened) as ``json_value``."""
    return [json_value(v) for v in np.asarray(values).ravel()]
