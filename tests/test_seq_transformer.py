"""``learnscope.models.seq_transformer``: the template tasks' transformer with identity scalars.

Invariance: a = b = 0 leaves the function of the plain network unchanged; permuting the
symbols' one-hot columns together with W_E's rows changes nothing. Known answers: with
W_Q = W_K = 0 a nonzero ``a`` gives attention softmax(a · z zᵀ); with W_V = 0 a nonzero ``b``
adds b · A z to the stream.
Ensemble contract: member e equals the network built alone from generator e, bit for bit.
"""

from __future__ import annotations

import pytest
import torch

from learnscope.errors import ConfigError
from learnscope.models.seq_transformer import SeqTransformerConfig, _attention

V, S, WIDTH, N_OUT, B = 5, 3, 8, 2, 6  # symbols, positions, d_model, outputs, batch

pytestmark = pytest.mark.usefixtures("one_thread")


def _inputs(seed: int = 0, batch: int = B) -> torch.Tensor:
    """(batch, S·V) position-major one-hots of random symbol sequences (repeats likely)."""
    symbols = torch.randint(V, (batch, S), generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.one_hot(symbols, V).float().reshape(batch, S * V)


def _build(seed: int = 0, **fields):
    config = SeqTransformerConfig(**{"seq_len": S, **fields})
    return config.build(S * V, N_OUT, WIDTH, torch.Generator().manual_seed(seed))


def test_identity_scalars_at_zero_leave_the_function_unchanged():
    x = _inputs()
    plain, with_identity = _build(3, depth=2), _build(3, depth=2, identity=True)
    assert set(dict(with_identity.named_parameters())) - set(dict(plain.named_parameters())) == {
        "layers.0.a", "layers.0.b", "layers.1.a", "layers.1.b"}
    assert torch.equal(plain(x), with_identity(x))


def test_nonzero_a_adds_a_times_zzt_to_the_logits():
    """W_Q = W_K = 0: attention is softmax_j(a · z_i · z_j), so the head's output is that
    pattern applied to z W_V W_O."""
    a, E, H = 0.3, 2, 2
    p = {"W_Q": torch.zeros(E, H, WIDTH, WIDTH // H), "W_K": torch.zeros(E, H, WIDTH, WIDTH // H),
         "W_V": torch.randn(E, H, WIDTH, WIDTH // H), "W_O": torch.randn(E, H, WIDTH // H, WIDTH),
         "a": torch.full((E, H), a), "b": torch.zeros(E, H)}
    z = torch.randn(E, B, S + 1, WIDTH)
    pattern = (a * z @ z.transpose(-1, -2)).softmax(-1)  # (E, B, T, T), the same for both heads
    expected = sum(pattern @ z @ p["W_V"][:, h, None] @ p["W_O"][:, h, None] for h in range(H))
    torch.testing.assert_close(_attention(z, p, identity=True), expected, rtol=1e-4, atol=1e-5)


def test_a_of_every_layer_reaches_the_output():
    """The logits' a · z zᵀ includes CLS's row (z is the normed stream), so even the last
    layer's a changes the CLS readout."""
    x = _inputs()
    for layer in (0, 1):
        net = _build(0, depth=2, identity=True)
        before = net(x)
        with torch.no_grad():
            net.layers[layer]["a"].fill_(0.5)
        assert not torch.allclose(net(x), before, rtol=1e-3, atol=1e-4)


def test_nonzero_b_adds_attention_weighted_normed_stream():
    """b = β with W_V = 0: the head adds β · A z, z = LN_attn(h) the layer's normed input."""
    beta = 0.9
    net = _build(1, depth=1, n_heads=2, identity=True)
    with torch.no_grad():
        net.layers[0]["W_V"].zero_()
        net.layers[0]["b"].copy_(torch.tensor([beta, 0.0]))
        for name in ("W_in", "b_in", "W_out", "b_out"):  # no MLP: the stream after attention is read out
            net.layers[0][name].zero_()
    x = _inputs(5, batch=1)
    p, ln = net.layers[0], torch.nn.functional.layer_norm
    emb = x.view(S, V) @ net.W_E
    h = torch.cat([net.W_cls[None], emb]) + net.W_pos
    z = ln(h, (WIDTH,)) * p["ln_attn_gain"] + p["ln_attn_bias"]
    q, k = z @ p["W_Q"][0], z @ p["W_K"][0]
    pattern = (q @ k.T / (WIDTH // 2) ** 0.5).softmax(-1)  # head 0's (a = 0)
    h = h + beta * pattern @ z
    expected = (ln(h[0], (WIDTH,)) * net.ln_out_gain + net.ln_out_bias) @ net.W_U.T
    torch.testing.assert_close(net(x)[0], expected, rtol=1e-4, atol=1e-5)  # two kernels, float32


def test_member_e_of_an_ensemble_is_the_network_built_alone():
    config = SeqTransformerConfig(seq_len=S, depth=2, n_heads=2, identity=True)
    seeds = [4, 7, 9]
    ensemble = config.build_ensemble(S * V, N_OUT, WIDTH, [torch.Generator().manual_seed(s) for s in seeds])
    with torch.no_grad():  # nonzero identity scalars, so that their terms are exercised
        for name, param in ensemble.named_parameters():
            if name.endswith((".a", ".b")):
                param.copy_(torch.randn(param.shape, generator=torch.Generator().manual_seed(11)))
    x = torch.stack([_inputs(s) for s in seeds])  # (E, B, S·V)
    out = ensemble(x)
    assert out.shape == (3, B, N_OUT)
    for e, seed in enumerate(seeds):
        alone = config.build(S * V, N_OUT, WIDTH, torch.Generator().manual_seed(seed))
        alone.load_state_dict(ensemble.member_state(e))
        assert torch.equal(out[e], alone(x[e]))
        single_ensemble = config.build_ensemble(S * V, N_OUT, WIDTH, [torch.Generator()])
        single_ensemble.load_state_dict({k: v[e:e + 1] for k, v in ensemble.state_dict().items()})
        assert torch.equal(single_ensemble(x[e:e + 1])[0], out[e])
    assert ensemble(x[0]).shape == (3, B, N_OUT)  # shared inputs


def test_parameter_names_shapes_and_initialisation():
    net = _build(0, depth=2, n_heads=2, identity=True)
    shapes = {name: tuple(p.shape) for name, p in net.named_parameters()}
    assert shapes["W_E"] == (V, WIDTH) and shapes["W_pos"] == (S + 1, WIDTH) and shapes["W_cls"] == (WIDTH,)
    assert shapes["layers.1.W_Q"] == (2, WIDTH, WIDTH // 2) and shapes["layers.1.W_O"] == (2, WIDTH // 2, WIDTH)
    assert shapes["layers.0.W_in"] == (4 * WIDTH, WIDTH) and shapes["W_U"] == (N_OUT, WIDTH)
    assert shapes["layers.0.a"] == (2,) and torch.equal(net.layers[0]["a"], torch.zeros(2))
    assert torch.equal(net.layers[1]["ln_mlp_gain"], torch.ones(WIDTH))
    again = _build(0, depth=2, n_heads=2, identity=True)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), again.parameters()))
    small = _build(0, depth=2, n_heads=2, identity=True, init_scale=0.01)
    torch.testing.assert_close(small.W_E, net.W_E * 0.01)


def test_gradients_reach_the_identity_scalars():
    net = _build(2, depth=2, identity=True)
    net(_inputs()).square().sum().backward()
    for l in range(2):
        assert net.layers[l]["a"].grad.abs().sum() > 0 and net.layers[l]["b"].grad.abs().sum() > 0


def test_permuting_symbols_with_the_embedding_rows_changes_nothing():
    net, perm = _build(6, identity=True), torch.tensor([3, 0, 4, 1, 2])
    with torch.no_grad():
        for p in net.layers[0]["a"], net.layers[0]["b"]:
            p.fill_(0.5)
    x = _inputs(8)
    permuted = _build(6, identity=True)
    permuted.load_state_dict(net.state_dict())
    with torch.no_grad():
        permuted.W_E.copy_(net.W_E[perm])
    x_perm = x.view(B, S, V)[..., perm].reshape(B, S * V)  # symbol s -> column perm⁻¹[s], W_E row s
    torch.testing.assert_close(permuted(x_perm), net(x), rtol=1e-4, atol=1e-5)  # two summation orders


def test_config_and_shapes_are_checked():
    with pytest.raises(ConfigError, match="model.depth"):
        SeqTransformerConfig(seq_len=S, depth=0).check("model")
    with pytest.raises(ConfigError, match="model.init_scale"):
        SeqTransformerConfig(seq_len=S, init_scale=0.0).check("model")
    config = SeqTransformerConfig(seq_len=S, n_heads=3)
    config.check("model")
    with pytest.raises(ValueError, match="must divide width"):
        config.build(S * V, N_OUT, WIDTH, torch.Generator())
    with pytest.raises(ValueError, match="multiple of seq_len"):
        SeqTransformerConfig(seq_len=4).build(S * V, N_OUT, WIDTH, torch.Generator())


def test_group_of_init_scales_matches_members_built_alone():
    base = SeqTransformerConfig(seq_len=S, identity=True)
    configs = [base, SeqTransformerConfig(seq_len=S, identity=True, init_scale=0.1)]
    gens = [torch.Generator().manual_seed(s) for s in (1, 2)]
    group = base.build_group(configs, S * V, N_OUT, WIDTH, gens)
    x = _inputs(3)
    for e, (c, s) in enumerate(zip(configs, (1, 2))):
        alone = c.build(S * V, N_OUT, WIDTH, torch.Generator().manual_seed(s))
        assert torch.equal(group(x)[e], alone(x))
    with pytest.raises(ValueError, match="only in init_scale"):
        base.build_group([base, SeqTransformerConfig(seq_len=S)], S * V, N_OUT, WIDTH, gens)
