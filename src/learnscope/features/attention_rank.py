"""Per-head rank of the attention products' change since init (measure ``attention_rank``).

Boix-Adsera, Littwin, Abbe, Bengio, Susskind, "Transformers learn through gradual rank
increase" (NeurIPS 2023): trained from small init, the change Δ = M_t − M_0 of each head's
products grows in rank one step at a time. Per transformer layer l (features.nc dim ``block``:
its dim ``layer`` indexes the weight matrices of the generic measures) and head h of a
``learnscope.models.seq_transformer`` network, with its W_Q[h], W_K[h], W_V[h] (d, d_head)
and W_O[h] (d_head, d), the products are the d×d maps

    M_QK = W_Q[h] W_K[h]ᵀ      (logits z_i M_QK z_jᵀ)
    M_VO = W_V[h] W_O[h]       (output A z M_VO)

The paper writes W_K W_Qᵀ and W_V W_Oᵀ for its row-vector weights; W_K W_Qᵀ is our M_QKᵀ,
so singular values and stable ranks are the same. Of each Δ we report the singular values
(float64) and the stable rank ‖Δ‖²_F / ‖Δ‖²₂ = Σ σ_i² / σ_1², defined as 0 for Δ = 0 (step 0),
and the identity scalars a, b of each head (NaN for a network without them).
"""

from __future__ import annotations

import numpy as np
import torch

from learnscope.features.measure import Measure
from learnscope.features.spectra import batched_singular_values, stable_ranks_from_singular_values
from learnscope.models import MODELS

PRODUCTS = ("QK", "VO")  # the product axis: M_QK = W_Q W_Kᵀ, M_VO = W_V W_O


def _depth(state: dict[str, torch.Tensor]) -> int:
    """Number of layers ``layers.{l}.W_Q`` in a single network's state dict."""
    return sum(1 for name in state if name.startswith("layers.") and name.endswith(".W_Q"))


def _stacked(state: dict[str, torch.Tensor], leaf: str) -> torch.Tensor:
    """``layers.{l}.{leaf}`` of every layer stacked on a leading layer axis, float64."""
    return torch.stack([state[f"layers.{l}.{leaf}"].detach().double() for l in range(_depth(state))])


def head_products(state: dict[str, torch.Tensor]) -> torch.Tensor:
    """M_QK = W_Q[h] W_K[h]ᵀ and M_VO = W_V[h] W_O[h] of every layer and head of one network.

    Args:
        state: a single network's state dict (``layers.{l}.W_Q`` (H, d, d_head), ...).

    Returns:
        (L, H, 2, d, d) float64; product axis in the order of ``PRODUCTS``.
    """
    W_Q, W_K, W_V = _stacked(state, "W_Q"), _stacked(state, "W_K"), _stacked(state, "W_V")  # (L, H, d, d_head)
    W_O = _stacked(state, "W_O")  # (L, H, d_head, d)
    return torch.stack([W_Q @ W_K.mT, W_V @ W_O], dim=2)


def _identity(states: list[dict[str, torch.Tensor]], leaf: str, shape: tuple[int, ...]) -> np.ndarray:
    """(S, L, H) identity scalar ``leaf`` (a or b) per snapshot; NaN when the network has none."""
    if f"layers.0.{leaf}" not in states[0]:
        return np.full(shape, np.nan)
    return torch.stack([_stacked(s, leaf) for s in states]).numpy()


def rank_measures(states: list[dict[str, torch.Tensor]]) -> dict[str, np.ndarray]:
    """Singular values and stable rank of Δ = M_t − M_0 per head and product, and a, b.

    Args:
        states: one run's snapshots, step 0 first (the init Δ is measured against).

    Returns:
        ``attn_sv`` (S, L, H, 2, d) descending, ``attn_stable_rank`` (S, L, H, 2) (0 where
        Δ = 0), ``identity_a`` and ``identity_b`` (S, L, H) (NaN without identity scalars);
        float64.
    """
    products = torch.stack([head_products(s) for s in states])  # (S, L, H, 2, d, d)
    sv = batched_singular_values(products - products[0])  # (S, L, H, 2, d)
    shape = tuple(products.shape[:3])
    return {"attn_sv": sv.numpy(), "attn_stable_rank": stable_ranks_from_singular_values(sv).numpy(),
            "identity_a": _identity(states, "a", shape), "identity_b": _identity(states, "b", shape)}


class AttentionRankMeasure(Measure):
    """Measure ``attention_rank``: this module's docstring, for seq_transformer runs."""

    name = "attention_rank"
    schema = {"attn_stable_rank": ("step", "block", "head", "product"),
              "attn_sv": ("step", "block", "head", "product", "sv"),
              "identity_a": ("step", "block", "head"), "identity_b": ("step", "block", "head")}

    def applies(self, spec) -> bool:
        """seq_transformer runs (by registered name: the other runs' jobs never import it)."""
        return MODELS.name_of(spec.model) == "seq_transformer"

    def per_run(self, spec, states, rows):
        return rank_measures(states)

    def variables(self, spec, m):
        dims = self.schema
        long = {"attn_stable_rank": "stable rank |D|_F^2 / |D|_2^2 of D = M_t - M_0 (0 where D = 0)",
                "attn_sv": "singular values of D = M_t - M_0, descending",
                "identity_a": "identity scalar a of the head (a * XX^T added to the logits)",
                "identity_b": "identity scalar b of the head (b * attn @ X added to the output)"}
        variables = {k: (dims[k], m[k], {"long_name": long[k]}) for k in dims}
        coords = {"product": ("product", np.array(["W_Q W_K^T", "W_V W_O"], dtype=object),
                              {"long_name": "the head's d x d product M"})}
        return variables, coords, {}


ATTENTION_RANK_MEASURE = AttentionRankMeasure()
