"""The ``nfa`` section of params.yaml: MLPs on every task x width x seed (as ``parity``), and a
Recursive Feature Machine fitted to every task's dataset."""

from __future__ import annotations

import dataclasses

from learnscope.errors import require
from learnscope.models.mlp import MLPConfig
from learnscope.rfm import RFM
from learnscope.studies.parity.config import ParityConfig


@dataclasses.dataclass(frozen=True, kw_only=True)
class RFMConfig:
    """A Recursive Feature Machine (``learnscope.rfm.RFM``): Laplace-kernel ridge regression
    alternating with M ← its predictor's AGOP (÷ its largest entry when ``normalise``).

    Attributes:
        bandwidth: L of the kernel exp(−‖x − z‖_M / L).
        ridge: the ridge λ of (K + λI) α = y.
        iterations: feature updates (the predictor is fitted iterations + 1 times).
        normalise: divide each new M by its largest entry.
    """

    bandwidth: float = 10.0
    ridge: float = 1.0e-3
    iterations: int = 5
    normalise: bool = True

    def check(self, path: str) -> None:
        require(self.bandwidth > 0, f"{path}.bandwidth", f"= {self.bandwidth} must be > 0")
        require(self.ridge > 0, f"{path}.ridge", f"= {self.ridge} must be > 0")
        require(self.iterations >= 1, f"{path}.iterations", f"= {self.iterations} must be >= 1")

    def build(self) -> RFM:
        return RFM(bandwidth=self.bandwidth, ridge=self.ridge, iterations=self.iterations, normalise=self.normalise)


@dataclasses.dataclass(frozen=True, kw_only=True)
class NfaConfig(ParityConfig):
    """The nfa study: every task x width x seed an MLP (``model``, ``train``), measured at every
    hidden layer (``features.nfa.LayerNfaMeasure``); every task's dataset also fits one RFM.

    Attributes:
        seeds, widths, tasks, model, train: as ``ParityConfig``; the first task is the main
            one (the headline NFA keys), ``model`` must be an ``mlp``.
        rfm: the Recursive Feature Machine fitted to each task (deterministic: no seed).
        demo_task: the task of the RFM reference demo (its test MSE and top coordinates are
            the headline RFM keys).
    """

    rfm: RFMConfig = RFMConfig()
    demo_task: str = "rfm_demo"

    def check(self, path: str) -> None:
        super().check(path)
        require(type(self.model) is MLPConfig, f"{path}.model.name",
                "must be 'mlp': the per-layer ansatz reads the weight matrices of a fully connected network")
        self.rfm.check(f"{path}.rfm")
        require(self.demo_task in self.tasks, f"{path}.demo_task",
                f"= {self.demo_task!r} must be one of tasks: {', '.join(self.tasks)}")
