"""When a member of a training group diverges, and what ``train.on_divergence`` does then.

The rule (r = ``TrainConfig.max_loss_ratio``): member e diverges at step t when

- its training loss at t (the minibatch loss the optimizer steps on, penalty included) or
  its evaluation loss at t (whole training set, whole test set) is NaN/inf or exceeds
  r x (L0_e + 1), where L0_e is its training loss on the whole training set at step 0:
  the first row of its curves, so a resumed run uses the same threshold. The + 1 keeps
  the threshold meaningful when L0_e is near 0 (a zero-initialised output layer);
- or its gradients at t (``finite_gradients``), or its weights at a snapshot step t, hold
  a NaN/inf.

The default r = 1.0e4 is far above what healthy runs reach and far below where float32
overflows: over the 125 runs of the default params.yaml (every step's minibatch loss, every
evaluation) the largest loss / (L0 + 1) is 3.7 (leap3 at d = 256: online SGD on minibatches
of 8; the grokking runs' test loss reaches 3.2), while Adam at lr 1.0e3 on a sparse parity
passes 1.0e4 after one step and then stays finite (about 1e10) for good.

``fail`` raises DivergenceError naming each run, the step, the value and the rule. ``stop``
freezes the member: its weights go back to its last snapshot *before* t (never one taken
at or after t, so never exploded weights), its snapshots from t on repeat that one, its
learning rate, gradients and optimizer moments are zeroed, and the other members go on
bit for bit as if trained alone. A member diverging at step 0 has no earlier snapshot and
fails under either setting.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from learnscope.errors import DivergenceError
from learnscope.resume import GroupState
from learnscope.run_files import CURVE_COLUMNS
from learnscope.runspec import RunSpec

log = logging.getLogger(__name__)


def finite_gradients(model: torch.nn.Module) -> torch.Tensor:
    """(E,) bool: the sum of member e's gradients is finite (members lead every parameter).

    A sum is NaN/inf exactly when a gradient is, or when the gradients are so large that
    their float32 sum overflows (> 3e38: diverged too); one pass over the gradients, ~10x
    cheaper than ``isfinite().all()`` on the CPU, and this runs every step.
    """
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return torch.stack([g.flatten(1).sum(1) for g in grads]).sum(0).isfinite()


def finite_weights(model: torch.nn.Module) -> torch.Tensor:
    """(E,) bool: every parameter of member e is finite."""
    return torch.stack([p.isfinite().flatten(1).all(1) for p in model.parameters()]).all(0)


class DivergenceGuard:
    """Applies the rule to the members of a group (``specs``) as ``train.train_group`` steps;
    records stopped members in ``state.diverged``."""

    def __init__(self, specs: list[RunSpec], state: GroupState, device: torch.device):
        self.specs, self.state, self.device = specs, state, device
        self.cfg = specs[0].train
        self._limits: torch.Tensor | None = None

    def limits(self) -> torch.Tensor | None:
        """(E,) float64 r x (L0 + 1); None until step 0 has been evaluated."""
        if self._limits is None and self.state.curves:
            step, values = self.state.curves[0]  # (E, 4): every run evaluates step 0 first
            assert step == 0, "eval_steps start at 0"
            l0 = values[:, CURVE_COLUMNS.index("train_loss")]
            self._limits = torch.from_numpy(self.cfg.max_loss_ratio * (l0 + 1.0)).to(self.device)
        return self._limits

    def check(self, step: int, losses: dict[str, torch.Tensor],
              finite: dict[str, torch.Tensor] | None = None) -> list[int]:
        """Members newly diverging at ``step``: a loss in ``losses`` (name -> (E,)) breaks the
        rule, or a ``finite`` flag (name -> (E,) bool) is False. One host sync.

        Raises:
            DivergenceError: with ``fail``, or with ``stop`` for a member with no snapshot
                before ``step``; the message names each run, the step, the value and the rule.
        """
        limits, finite = self.limits(), finite or {}
        losses = {what: values.to(self.device, torch.float64) for what, values in losses.items()}
        bad = torch.zeros(len(self.specs), dtype=torch.bool, device=self.device)
        for values in losses.values():
            bad |= ~values.isfinite()
            if limits is not None:
                bad |= values > limits
        for ok in finite.values():
            bad |= ~ok.to(self.device)
        new = [e for e in bad.nonzero().flatten().tolist() if e not in self.state.diverged]
        if not new:
            return []
        reasons = {e: self._reason(e, step, losses, finite) for e in new}
        stuck = [e for e in new if not any(s < step for s, _ in self.state.snapshots)]
        if self.cfg.on_divergence == "fail" or stuck:
            named = new if self.cfg.on_divergence == "fail" else stuck
            raise DivergenceError("; ".join(f"run {self.specs[e].name}: {reasons[e]}" for e in named)
                                  + "; lower train.lr or the init scale")
        for e in new:
            log.warning("run %s: %s; it stops there with its last snapshot before (train.on_divergence: stop)",
                        self.specs[e].name, reasons[e])
            self.state.diverged[e] = step
        return new

    def _reason(self, e: int, step: int, losses: dict, finite: dict) -> str:
        limits = self.limits()
        for what, values in losses.items():
            value = float(values[e])
            if not np.isfinite(value):
                return f"{what} is {value} at step {step} (not finite)"
            if limits is not None and value > float(limits[e]):
                l0 = float(limits[e]) / self.cfg.max_loss_ratio - 1.0
                return (f"{what} is {value:.4g} at step {step}, above train.max_loss_ratio x (step-0 "
                        f"training loss + 1) = {self.cfg.max_loss_ratio:g} x ({l0:.4g} + 1)")
        what = next(name for name, ok in finite.items() if not bool(ok[e]))
        return f"{what} are not finite at step {step}"

    @torch.no_grad()
    def freeze(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, new: list[int]) -> None:
        """Hold every stopped member still (zero lr and gradients); rewind the ``new`` ones."""
        members = sorted(self.state.diverged)
        optimizer.param_groups[0]["lr"][members] = 0.0
        for p in model.parameters():
            if p.grad is not None:
                p.grad[members] = 0.0
        for e in new:
            self._rewind(model, optimizer, e)

    def _rewind(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, e: int) -> None:
        """Member e's weights and its snapshots from its divergence on become its last
        snapshot before it; its optimizer moments become 0 (they may hold inf)."""
        at = self.state.diverged[e]
        kept = [weights for step, weights in self.state.snapshots if step < at][-1]
        for name, value in model.state_dict().items():
            value[e] = kept[name][e].to(value.device)
        for step, weights in self.state.snapshots:
            if step >= at:
                for name in weights:
                    weights[name][e] = kept[name][e]
        for moments in optimizer.state.values():
            for name, value in moments.items():
                if name != "step" and torch.is_tensor(value) and value.dim() > 0:
                    value[e] = 0.0
