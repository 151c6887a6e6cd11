"""The ``features`` section of params.yaml: what the features stage measures at every snapshot."""

from __future__ import annotations

import dataclasses

from learnscope.errors import require


@dataclasses.dataclass(frozen=True, kw_only=True)
class FeaturesConfig:
    """Per-snapshot measurements.

    Attributes:
        agop_samples: the AGOP averages over the first ``agop_samples`` training inputs
            (all of them if fewer).
    """

    agop_samples: int = 2048

    def check(self, path: str) -> None:
        require(self.agop_samples >= 1, f"{path}.agop_samples", "must be >= 1")
