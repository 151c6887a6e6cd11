"""``learnscope.models.embed``: the embedding MLP of grokking studies and its ensemble.

Compare-to-reference: the gathered pre-activations against the naive one-hot product of
[embed[a]; embed[b]]. Initialisation from the generator only; config checks; the functions
on the group that ``group_functions`` hands to Fourier analyses. The ensemble contract is in
test_pair_models.py.
"""

from __future__ import annotations

import pytest
import torch
from test_pair_models import pairs
from torch import nn

from learnscope import config
from learnscope.errors import ConfigError
from learnscope.models import MODELS
from learnscope.models.base import ModelConfig
from learnscope.models.embed import EmbedMLP, EmbedMLPConfig

N, K, WIDTH, N_OUT = 7, 4, 9, 5  # tokens, embed_dim, hidden width, outputs



def _build(seed: int = 0, n_out: int = N_OUT, **fields) -> EmbedMLP:
    return EmbedMLPConfig(embed_dim=K, **fields).build(2 * N, n_out, WIDTH, torch.Generator().manual_seed(seed))





def test_registry_and_config_build():
    assert MODELS["embed_mlp"] is EmbedMLPConfig
    cfg = config.build(ModelConfig, {"name": "embed_mlp", "embed_dim": 8, "activation": "gelu"}, "params.yaml: m")
    assert cfg == EmbedMLPConfig(embed_dim=8, activation="gelu")
    assert cfg.neuron_degree is None and cfg.lr_scale(256) == 1.0


@pytest.mark.parametrize("key, value", [("embed_dim", 0), ("init_scale", 0.0)])
def test_check_rejects_impossible_values(key, value):
    with pytest.raises(ConfigError, match=rf"params\.yaml: m\.{key} "):
        config.build(EmbedMLPConfig, {key: value}, "params.yaml: m")


def test_odd_n_inputs_raises():
    with pytest.raises(ValueError, match="odd"):
        EmbedMLPConfig().build(2 * N + 1, N_OUT, WIDTH, torch.Generator())


def test_state_dict_names_and_shapes():
    names = {k: tuple(v.shape) for k, v in _build().state_dict().items()}
    assert names == {"embed": (N, K), "hidden.weight": (WIDTH, 2 * K), "hidden.bias": (WIDTH,),
                     "out.weight": (N_OUT, WIDTH), "out.bias": (N_OUT,)}


def test_init_distributions():
    model = EmbedMLPConfig(embed_dim=64).build(2 * 300, 10, 200, torch.Generator().manual_seed(0))
    embed = model.embed.detach()  # N(0, 1): 19 200 draws
    assert abs(float(embed.mean())) < 0.03 and float(embed.std()) == pytest.approx(1.0, rel=0.03)
    for layer in (model.hidden, model.out):
        bound = 1 / layer.in_features ** 0.5
        assert all(p.abs().max() <= bound for p in (layer.weight, layer.bias))
        assert layer.weight.abs().max() > 0.9 * bound


@pytest.mark.parametrize("activation, fn", [("relu", torch.relu), ("gelu", nn.functional.gelu),
                                            ("tanh", torch.tanh), ("quadratic", torch.square)])
def test_gathered_forward_equals_the_one_hot_product(activation, fn):
    model, x = _build(activation=activation), pairs(40)
    e = torch.cat([x[:, :N] @ model.embed, x[:, N:] @ model.embed], -1)  # (B, 2K): [embed[a]; embed[b]]
    expected = fn(e @ model.hidden.weight.T + model.hidden.bias) @ model.out.weight.T + model.out.bias
    # Gathered rows vs one-hot products (other kernels, the same float32 sums): equal to rounding.
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5 * float(expected.detach().abs().max()))


def test_known_answer():
    """n = 2, k = 1, width 1, quadratic: out = w2 (w1a embed[a] + w1b embed[b] + b1)² + b2."""
    model = EmbedMLPConfig(embed_dim=1, activation="quadratic").build(4, 1, 1, torch.Generator())
    with torch.no_grad():
        model.embed.copy_(torch.tensor([[1.0], [2.0]]))
        model.hidden.weight.copy_(torch.tensor([[1.0, 10.0]]))
        model.hidden.bias.fill_(0.5)
        model.out.weight.fill_(2.0)
        model.out.bias.fill_(-1.0)
    # (a, b) = (1, 0): pre = 2 + 10 + 0.5 = 12.5 -> 156.25 -> 2 * 156.25 - 1
    assert model(torch.tensor([[0.0, 1.0, 1.0, 0.0]])).item() == 311.5


def test_group_functions():
    model = _build()
    state = model.state_dict()
    functions = EmbedMLPConfig(embed_dim=K).group_functions(state)
    dim, embed = functions["embed"]
    assert dim == "embed_dim" and embed.shape == (K, N) and embed.dtype == "float64"
    for j in range(K):  # row j: embedding coordinate j as a function of the token
        assert (embed[j] == state["embed"][:, j].double().numpy()).all()
    dim, unembed = functions["unembed"]
    assert dim == "hidden" and unembed.shape == (WIDTH, N_OUT) and unembed.dtype == "float64"
    assert (unembed == state["out.weight"].double().numpy().T).all()
