"""``learnscope.models``: the MLP's architecture, its initialisation and its forward pass.

Checks that initialisation depends only on the generator passed in (not on torch's global
seed), that ``init_scale`` scales every parameter linearly within U(±init_scale/√fan_in),
that ``depth`` hidden layers give ``depth + 1`` Linear layers with (n, n_out) outputs, and
the forward pass against a hand-written formula.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from learnscope.models import MODELS

from learnscope.models.embed import EmbedMLPConfig

from learnscope.models.gdln import GatedDLNConfig

from learnscope.models.mlp import MLP, MLPConfig
from learnscope.models.mlp_xxt import MLPXXTConfig
from learnscope.models.seq_transformer import SeqTransformerConfig

from learnscope.models.transformer import TransformerConfig


def _build(seed: int = 0, n_in: int = 5, n_out: int = 3, width: int = 7, **fields) -> MLP:
    return MLPConfig(**fields).build(n_in, n_out, width, torch.Generator().manual_seed(seed))


def _params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_registry():
    assert MODELS == {"mlp": MLPConfig, "embed_mlp": EmbedMLPConfig, "transformer": TransformerConfig,
                      "gdln": GatedDLNConfig, "mlp_xxt": MLPXXTConfig, "seq_transformer": SeqTransformerConfig}


def test_same_generator_seed_same_weights_whatever_the_global_seed():
    torch.manual_seed(1)
    a = _params(_build(seed=3))
    torch.manual_seed(2)
    torch.rand(10)
    b = _params(_build(seed=3))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_different_generator_seeds_give_different_weights():
    a, b = _params(_build(seed=0)), _params(_build(seed=1))
    assert all(not torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("scale", [0.1, 0.5, 3.0])
def test_init_scale_scales_every_parameter_linearly(scale):
    base, scaled = _params(_build(depth=2)), _params(_build(depth=2, init_scale=scale))
    for name in base:
        torch.testing.assert_close(scaled[name], scale * base[name], rtol=1e-5, atol=0)  # float32 products


def test_init_is_uniform_within_the_fan_in_bound():
    model = _build(n_in=400, width=300, init_scale=0.5)
    for layer in model.layers:
        bound = 0.5 / math.sqrt(layer.in_features)
        for p in layer.parameters():
            assert p.abs().max() <= bound
            if p.numel() >= 300:
                assert p.abs().max() > 0.9 * bound  # the draws fill the interval
    w = model.layers[0].weight.detach()  # 120 000 draws
    assert abs(float(w.mean())) < 0.01 * 0.5 / math.sqrt(400)
    # Uniform on [-b, b] has standard deviation b/√3.
    assert float(w.std()) == pytest.approx(0.5 / math.sqrt(400) / math.sqrt(3), rel=0.02)


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_depth_gives_depth_plus_one_linear_layers(depth):
    model = _build(depth=depth, n_in=5, n_out=3, width=7)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == len(model.layers) == depth + 1
    assert [(m.in_features, m.out_features) for m in linears] == [(5, 7)] + [(7, 7)] * (depth - 1) + [(7, 3)]
    assert model.first_layer is linears[0]
    assert model(torch.randn(11, 5)).shape == (11, 3)


def test_weights_are_out_by_in_and_named_layers_i():
    names = {k: tuple(v.shape) for k, v in _build(depth=1).state_dict().items()}
    assert names == {"layers.0.weight": (7, 5), "layers.0.bias": (7,),
                     "layers.1.weight": (3, 7), "layers.1.bias": (3,)}


def test_no_bias():
    model = _build(bias=False)
    assert all(layer.bias is None for layer in model.layers)
    assert set(model.state_dict()) == {"layers.0.weight", "layers.1.weight"}


@pytest.mark.parametrize("activation, fn", [("relu", torch.relu), ("tanh", torch.tanh),
                                            ("gelu", nn.functional.gelu), ("quadratic", torch.square)])
def test_forward_matches_a_hand_written_formula(activation, fn):
    model = _build(depth=2, activation=activation)
    x = torch.randn(6, 5, generator=torch.Generator().manual_seed(9))
    (w0, b0), (w1, b1), (w2, b2) = [(layer.weight, layer.bias) for layer in model.layers]
    expected = fn(fn(x @ w0.T + b0) @ w1.T + b1) @ w2.T + b2
    # nn.Linear (addmm) vs mm + add: the same float32 sums in another order, equal to rounding.
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5 * float(expected.detach().abs().max()))


def test_quadratic_known_answer():
    model = _build(n_in=2, n_out=1, width=2, depth=1, activation="quadratic")
    with torch.no_grad():
        model.layers[0].weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 1.0]]))
        model.layers[0].bias.zero_()
        model.layers[1].weight.copy_(torch.tensor([[1.0, -0.5]]))
        model.layers[1].bias.fill_(2.0)
    # x = (1, 2): hidden (1, 3) -> squared (1, 9) -> 1 - 4.5 + 2 = -1.5
    assert model(torch.tensor([[1.0, 2.0]])).item() == -1.5
