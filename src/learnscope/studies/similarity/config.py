"""The ``similarity`` section of params.yaml: which other studies' runs to compare, on which
probe inputs, at which snapshots and ridge strengths. It trains nothing of its own."""

from __future__ import annotations

import dataclasses

from learnscope.config import check_seeds
from learnscope.errors import ConfigError, require
from learnscope.runspec import ComputeConfig, RunSpec


@dataclasses.dataclass(frozen=True, kw_only=True)
class SimilarityConfig:
    """Distances between the trained networks of other studies (GULP, CKA, CCA, Procrustes).

    Attributes:
        sources: study section -> the task names (a run's ``task_name``: the parity study's
            tasks, the algebra study's experiments) whose runs are compared, every width and
            seed of them. The runs must be plain MLPs or embedding MLPs
            (``representations.READABLE_MODELS``) on a task with a probe set.
        n_probe: probe inputs per input space (a composition table with at most this many
            pairs is probed on every pair).
        snapshots: checkpoints read per run (``representations.snapshot_positions``: the
            final one, every one of the second half of training, the rest spread evenly).
        lams: the GULP ridge strengths λ; must include 0 (the CCA identity) and ``lam``.
        lam: the λ of the headline claims (nearest runs, the CKA rank correlation, convergence).
        n_targets: random linear targets of the probe inputs for the ridge-gap claim.
        seed: the seed of the probe sets and the targets, in [0, 2**32 - 1].
    """

    coords = ()  # no runs of its own
    n_runs = 0

    sources: dict[str, tuple[str, ...]]
    n_probe: int = 600
    snapshots: int = 10
    lams: tuple[float, ...] = (0.0, 1.0e-2, 1.0e-1, 1.0, 1.0e1)
    lam: float = 1.0
    n_targets: int = 64
    seed: int = 0

    def check(self, path: str) -> None:
        require(len(self.sources) >= 1, f"{path}.sources", "must name at least one study whose runs to compare")
        for study, tasks in self.sources.items():
            require(len(tasks) >= 1, f"{path}.sources.{study}", "must list at least one task name")
            require(len(set(tasks)) == len(tasks), f"{path}.sources.{study}", "has repeated task names")
        require(self.n_probe >= 8, f"{path}.n_probe", f"= {self.n_probe} must be >= 8")
        require(self.snapshots >= 2, f"{path}.snapshots", f"= {self.snapshots} must be >= 2 (the final one and more)")
        require(len(set(self.lams)) == len(self.lams), f"{path}.lams", "has repeated values")
        require(list(self.lams) == sorted(self.lams), f"{path}.lams", f"= {list(self.lams)} must be ascending")
        for i, lam in enumerate(self.lams):
            require(lam >= 0, f"{path}.lams[{i}]", f"= {lam} must be >= 0")
        require(0.0 in self.lams, f"{path}.lams", "must include 0.0 (the CCA identity is checked at λ = 0)")
        require(self.lam in self.lams, f"{path}.lam", f"= {self.lam} must be one of lams {list(self.lams)}")
        require(self.n_targets >= 1, f"{path}.n_targets", f"= {self.n_targets} must be >= 1")
        check_seeds((self.seed,), f"{path}.seed")

    def runs(self, study: str, compute: ComputeConfig) -> dict[tuple, RunSpec]:
        return {}

    def source_runs(self, studies: dict, compute: ComputeConfig, path: str = "similarity") -> dict[str, RunSpec]:
        """The compared runs by name, from the other sections (``studies``: name -> config).

        Raises:
            ConfigError: a source section that is absent, a task name it does not have, or a
                run whose model or task cannot be probed (naming the key).
        """
        from learnscope.representations import READABLE_MODELS, input_space
        from learnscope.studies import STUDIES

        out: dict[str, RunSpec] = {}
        for study, tasks in self.sources.items():
            key = f"{path}.sources.{study}"
            if study not in studies or study == path:
                raise ConfigError(f"{key} names no study section of these params; present: "
                                  f"{', '.join(s for s in studies if s != path)}")
            specs = list(STUDIES[study].runs(study, studies[study], compute).values())
            known = sorted({spec.task_name for spec in specs})
            for task in tasks:
                chosen = [spec for spec in specs if spec.task_name == task]
                require(bool(chosen), key, f"lists {task!r}, which is not a task of {study} (its tasks: "
                        f"{', '.join(known)})")
                for spec in chosen:
                    require(type(spec.model) in READABLE_MODELS, key,
                            f"lists {task!r}, whose model {type(spec.model).__name__} has no readable hidden "
                            "layers (mlp and embed_mlp do)")
                    require(input_space(spec.task) is not None, key,
                            f"lists {task!r}, whose task {type(spec.task).__name__} has no probe set")
                    out[spec.name] = spec
        return out
