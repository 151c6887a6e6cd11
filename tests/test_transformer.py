"""``learnscope.models.transformer``: the one-layer transformer of grokking studies and its ensemble.

Compare-to-reference: the last-position, table-gathered forward against a direct
implementation that runs causal attention over all three positions; the ensemble contract is
in test_pair_models.py; initialisation from the generator only;
config checks; the functions on the group that ``group_functions`` hands to Fourier analyses;
and a smoke test that the network learns modular addition.
"""

from __future__ import annotations

import math

import pytest
import torch
from test_pair_models import pairs
from torch import nn

from learnscope import config
from learnscope.errors import ConfigError
from learnscope.models.transformer import Transformer, TransformerConfig

N, D_MODEL, N_HEADS, WIDTH, N_OUT = 7, 8, 2, 9, 5  # tokens, d_model, heads, d_mlp, outputs

pytestmark = pytest.mark.usefixtures("one_thread")



def _config(**fields) -> TransformerConfig:
    return TransformerConfig(**{"d_model": D_MODEL, "n_heads": N_HEADS, **fields})


def _build(seed: int = 0, n_out: int = N_OUT, **fields) -> Transformer:
    return _config(**fields).build(2 * N, n_out, WIDTH, torch.Generator().manual_seed(seed))





def _reference(model: Transformer, x: torch.Tensor, act) -> torch.Tensor:
    """Nanda et al.'s forward as written: causal attention and the MLP at all three positions of
    (a, b, "="), then the logits at the last one. (B, 2n) -> (B, n_outputs)."""
    n = model.n
    a, b = x[:, :n].argmax(-1), x[:, n:].argmax(-1)
    seq = torch.stack([a, b, torch.full_like(a, n)], 1)  # (B, 3)
    r = model.W_E[seq] + model.W_pos  # (B, 3, d_model)
    q, k, v = (torch.einsum("bpd,hdk->bhpk", r, w) for w in (model.W_Q, model.W_K, model.W_V))
    scores = q @ k.mT / math.sqrt(q.shape[-1])  # (B, H, 3 queries, 3 keys)
    causal = torch.ones(3, 3, dtype=torch.bool).tril()
    z = scores.masked_fill(~causal, -math.inf).softmax(-1) @ v  # (B, H, 3, d_head)
    r = r + torch.einsum("bhpk,hkd->bpd", z, model.W_O)
    r = r + act(r @ model.W_in.T + model.b_in) @ model.W_out.T + model.b_out
    return (r @ model.W_U.T)[:, -1]


def test_config_build_and_defaults():
    cfg = config.build(TransformerConfig, {"d_model": 64, "n_heads": 8, "activation": "gelu"}, "params.yaml: m")
    assert cfg == TransformerConfig(d_model=64, n_heads=8, activation="gelu")
    assert TransformerConfig() == TransformerConfig(d_model=128, n_heads=4, activation="relu", init_scale=1.0)
    assert cfg.neuron_degree is None and cfg.lr_scale(512) == 1.0


@pytest.mark.parametrize("data, key", [({"d_model": 0}, "d_model"), ({"n_heads": 0}, "n_heads"),
                                       ({"d_model": 10, "n_heads": 4}, "n_heads"), ({"init_scale": 0.0}, "init_scale")])
def test_check_rejects_impossible_values(data, key):
    with pytest.raises(ConfigError, match=rf"params\.yaml: m\.{key} "):
        config.build(TransformerConfig, data, "params.yaml: m")


def test_odd_n_inputs_raises():
    with pytest.raises(ValueError, match="odd"):
        TransformerConfig().build(2 * N + 1, N_OUT, WIDTH, torch.Generator())


def test_state_dict_names_and_shapes():
    names = {k: tuple(v.shape) for k, v in _build().state_dict().items()}
    d_head = D_MODEL // N_HEADS
    assert names == {"W_E": (N + 1, D_MODEL), "W_pos": (3, D_MODEL), "W_Q": (N_HEADS, D_MODEL, d_head),
                     "W_K": (N_HEADS, D_MODEL, d_head), "W_V": (N_HEADS, D_MODEL, d_head),
                     "W_O": (N_HEADS, d_head, D_MODEL), "W_in": (WIDTH, D_MODEL), "b_in": (WIDTH,),
                     "W_out": (D_MODEL, WIDTH), "b_out": (D_MODEL,), "W_U": (N_OUT, D_MODEL)}


def test_init_distributions():
    """Weights ~ N(0, 1/fan_in) with fan_in = d_model, but d_mlp for W_out; biases zero."""
    d_model, d_mlp = 256, 400
    state = TransformerConfig(d_model=d_model).build(2 * 300, 300, d_mlp, torch.Generator().manual_seed(0)).state_dict()
    for name, value in state.items():
        if name.startswith("b_"):
            assert not value.any()
            continue
        std = (d_mlp if name == "W_out" else d_model) ** -0.5
        # Four standard errors of the sample std and mean (W_pos has only 3 · 256 draws).
        assert float(value.std()) == pytest.approx(std, rel=4 / math.sqrt(2 * value.numel())), name
        assert abs(float(value.mean())) < 4 * std / math.sqrt(value.numel()), name


@pytest.mark.parametrize("activation, fn", [("relu", torch.relu), ("gelu", nn.functional.gelu)])
def test_last_position_forward_equals_full_causal_attention(activation, fn):
    model, x = _build(activation=activation, init_scale=2.0), pairs(60)
    with torch.no_grad():  # nonzero biases, so that they are checked too
        for p in (model.b_in, model.b_out):
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    # Other kernels (einsum, all three positions) for the same float32 sums: equal to rounding;
    # relative 1e-5, atol scaled to the logits (|logit| ~ 70 here: an absolute 1e-5 is ~1 ulp).
    expected = _reference(model, x, fn)
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5 * float(expected.detach().abs().max()))


def test_group_functions():
    state = _build().state_dict()
    functions = _config().group_functions(state)
    dim, embed = functions["embed"]
    assert dim == "d_model" and embed.shape == (D_MODEL, N) and embed.dtype == "float64"
    assert (embed == state["W_E"][:N].double().numpy().T).all()  # the "=" token is left out
    dim, unembed = functions["unembed"]
    assert dim == "d_model_out" and unembed.shape == (D_MODEL, N_OUT) and unembed.dtype == "float64"
    assert (unembed == state["W_U"].double().numpy().T).all()


def test_learns_modular_addition():
    """Full-batch AdamW on all 49 pairs of a + b mod 7 reaches training accuracy 1."""
    p = 7
    a, b = torch.cartesian_prod(torch.arange(p), torch.arange(p)).T
    x = torch.cat([nn.functional.one_hot(a, p), nn.functional.one_hot(b, p)], -1).float()
    y = (a + b) % p
    model = TransformerConfig(d_model=32, n_heads=4).build(2 * p, p, 64, torch.Generator().manual_seed(0))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(300):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    assert (model(x).argmax(-1) == y).float().mean().item() == 1.0
