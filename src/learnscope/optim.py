"""SGD and Adam over stacked ensemble parameters, with one learning rate per member.

Ensemble parameters have the member axis first (E, ...). ``lr`` is an (E,) tensor, so a
learning-rate grid trains as one batched model. The update of member e uses only its own
slice and its own lr, so a member's numbers are the same in any ensemble (the arithmetic
is elementwise). Formulas follow torch.optim (coupled L2 weight decay, Adam's bias
correction, epsilon outside the square root).
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer


def _per_member(value: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return value.to(p.device, p.dtype).view(-1, *([1] * (p.dim() - 1)))  # (E, 1, ..., 1)


class MemberSGD(Optimizer):
    """SGD with momentum: buf = momentum * buf + g; p -= lr_e * buf (g includes weight decay)."""

    def __init__(self, params, lr: torch.Tensor, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.add(p, alpha=group["weight_decay"]) if group["weight_decay"] else p.grad
                if group["momentum"]:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    state["momentum_buffer"] = buf = g.clone() if buf is None else buf.mul_(group["momentum"]).add_(g)
                    g = buf
                p.addcmul_(_per_member(group["lr"], p), g, value=-1.0)  # in place: no (E, ...) temporary


class MemberAdam(Optimizer):
    """Adam (Kingma & Ba 2015, as torch.optim.Adam) with a per-member learning rate;
    ``decoupled=True`` is AdamW (as torch.optim.AdamW: p *= 1 - lr * weight_decay first)."""

    def __init__(self, params, lr: torch.Tensor, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled: bool = False):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "decoupled": decoupled})

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"] and group["decoupled"]:
                    p.mul_(1 - _per_member(group["lr"], p) * group["weight_decay"])
                elif group["weight_decay"]:
                    g = g.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = float(state["step"])
                state["exp_avg"].lerp_(g, 1 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                denom = (state["exp_avg_sq"] / (1 - beta2**t)).sqrt_().add_(group["eps"])
                step_size = _per_member(group["lr"], p) / (1 - beta1**t)
                p.addcdiv_(step_size * state["exp_avg"], denom, value=-1.0)
