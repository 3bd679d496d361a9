"""ReRoPE for every position scheme and RoPE's inference-time rescalings (position interpolation,
NTK-aware scaling, YaRN), each against formulas written here:

* with w ≥ T nothing is clipped, so ReRoPE and Leaky ReRoPE equal full attention for every relative
  scheme (the absolute sinusoidal encoding is refused);
* XPOS under ReRoPE keeps its ζ scaling at the clipped relative position r: pair t of q_i·k_j is
  Re(q̃_t conj(k̃_t) e^{i r θ_t}) ζ_t^{r/γ};
* the distance biases under ReRoPE are the biases at the clipped distances;
* the rescaled frequencies match their definitions and leave a model unchanged at T ≤ N."""
import math

import numpy as np
import pytest

from scratch import Tensor, gradcheck
from scratch.models.transformer import POSITIONS, TransformerConfig, TransformerLM
from scratch.models.transformer import positions as pos

TINY = dict(vocab_size=13, dim=16, layers=2, heads=2, ffn_dim=20, train_len=8)
GAMMA = 512.0


def _model(position, **options):
    return TransformerLM(TransformerConfig(position=position, **{**TINY, **options}),
                         rng=np.random.default_rng(4), dtype=np.float64)


def _theta(dim, base=10000.0):
    return np.array([base ** (-2 * t / dim) for t in range(dim // 2)])


def _zeta(dim):
    return np.array([(2 * t / dim + 0.4) / 1.4 for t in range(dim // 2)])


def _clipped(delta, window, leaky_k):
    if delta < window:
        return float(delta)
    return float(window) if leaky_k is None else window + (delta - window) / leaky_k


@pytest.mark.parametrize("position", [p for p in POSITIONS if p != "sinusoidal"])
@pytest.mark.parametrize("leaky_k", [None, 3.0])
@pytest.mark.parametrize("options", [{}, {"log_n": True}])
def test_rerope_with_a_window_of_at_least_the_length_is_full_attention(position, leaky_k, options):
    """For every relative scheme: ReRoPE / Leaky ReRoPE with w = T and w > T equal full attention, and
    a w < T changes the logits of every scheme that has positions (NoPE has none to clip)."""
    model = _model(position, **options)
    ids = np.random.default_rng(0).integers(0, 13, (2, 21))
    full = model(ids).data
    for window in (21, 40):
        np.testing.assert_allclose(model(ids, rerope=window, leaky_k=leaky_k).data, full, rtol=1e-10, atol=1e-12)
    clipped = model(ids, rerope=5, leaky_k=leaky_k).data
    if position == "nope":
        np.testing.assert_array_equal(clipped, full)
    else:
        np.testing.assert_allclose(clipped[:, :5], full[:, :5], rtol=1e-10, atol=1e-12)
        assert np.abs(clipped[:, 5:] - full[:, 5:]).max() > 1e-6


def test_rerope_refuses_the_absolute_encoding():
    with pytest.raises(ValueError, match="sinusoidal encoding is absolute"):
        _model("sinusoidal")(np.zeros((1, 6), int), rerope=3)


@pytest.mark.parametrize("leaky_k", [None, 4.0])
def test_xpos_rerope_scores_keep_the_zeta_scaling(leaky_k):
    """Pair t of the logit at clipped relative position r is Re(q̃_t conj(k̃_t) e^{i r θ_t}) ζ_t^{r/γ} / √D."""
    rng = np.random.default_rng(7)
    q, k = rng.standard_normal((2, 1, 2, 23, 8)) * 3
    window = 6
    scores = pos.rerope_scores(q, k, window, leaky_k, xpos_scale_base=GAMMA).data
    theta, zeta = _theta(8), _zeta(8)
    qz, kz = q[..., 0::2] + 1j * q[..., 1::2], k[..., 0::2] + 1j * k[..., 1::2]
    for i in range(23):
        for j in range(i + 1):
            r = _clipped(i - j, window, leaky_k)
            pairs = (qz[..., i, :] * kz[..., j, :].conj() * np.exp(1j * r * theta)).real * zeta ** (r / GAMMA)
            np.testing.assert_allclose(scores[..., i, j], pairs.sum(-1) / math.sqrt(8), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("leaky_k", [None, 4.0])
def test_xpos_rerope_single_query_form_equals_the_two_matrix_form(leaky_k):
    rng = np.random.default_rng(8)
    q, k = rng.standard_normal((2, 1, 1, 20, 8))
    scores = pos.rerope_scores(q, k, 6, leaky_k, xpos_scale_base=GAMMA).data[0, 0]
    for i in (2, 11, 19):
        single = pos.rerope_query_scores(q[0, 0, i], k[0, 0, :i + 1], i, 6, leaky_k, xpos_scale_base=GAMMA)
        np.testing.assert_allclose(single, scores[i, :i + 1], rtol=1e-10, atol=1e-12)


def test_xpos_rerope_scores_gradcheck():
    rng = np.random.default_rng(9)
    q, k = (Tensor(rng.standard_normal((1, 2, 9, 4)), requires_grad=True) for _ in range(2))
    for leaky_k in (None, 2.0):
        assert gradcheck(lambda q, k: pos.rerope_scores(q, k, 3, leaky_k, xpos_scale_base=64.0), [q, k])


@pytest.mark.parametrize("leaky_k", [None, 2.5])
def test_clipped_distances_and_the_biases_at_them(leaky_k):
    distances = pos.clipped_distances(15, 4, leaky_k)
    np.testing.assert_array_equal(distances, [_clipped(d, 4, leaky_k) for d in range(15)])
    slopes = np.array([2.0 ** (-8 * h / 3) for h in (1, 2, 3)])
    np.testing.assert_allclose(pos.alibi_bias(3, 15, distances=distances), -slopes[:, None] * distances, rtol=1e-15)
    sandwich = [0.5 * sum(math.cos(d * w) for w in _theta(6)) for d in distances]
    np.testing.assert_allclose(pos.sandwich_bias(2, 15, 6, 0.5, distances=distances), [sandwich] * 2, rtol=1e-13)
    a, b = np.array([0.3, -0.2]), np.array([0.1, 0.7])
    r1 = np.log1p(np.exp(a))
    power = [[-r1[h] * d ** (2 / (1 + math.exp(-b[h]))) for d in distances] for h in range(2)]
    log = [[-r1[h] * math.log(1 + math.log1p(math.exp(b[h])) * d) for d in distances] for h in range(2)]
    np.testing.assert_allclose(pos.kerple_bias(a, b, 15, "power", distances=distances).data, power, rtol=1e-13)
    np.testing.assert_allclose(pos.kerple_bias(a, b, 15, "log", distances=distances).data, log, rtol=1e-13)


def test_kerple_bias_at_clipped_distances_gradcheck():
    rng = np.random.default_rng(10)
    a, b = (Tensor(rng.standard_normal(2), requires_grad=True) for _ in range(2))
    distances = pos.clipped_distances(9, 3, 2.0)
    for form in ("power", "log"):
        assert gradcheck(lambda a, b: pos.kerple_bias(a, b, 9, form, distances=distances), [a, b])


@pytest.mark.parametrize("call, match", [
    (lambda: pos.alibi_bias(2, 4, distances=np.arange(3)), "distances"),
    (lambda: pos.alibi_bias(2, 3, distances=np.array([0.0, -1.0, 2.0])), "distances"),
    (lambda: pos.sandwich_bias(2, 3, 4, distances=np.array([0.0, np.nan, 2.0])), "distances"),
    (lambda: pos.clipped_distances(0, 3), "length"), (lambda: pos.clipped_distances(4, True), "window"),
    (lambda: pos.clipped_distances(4, 2, 0.5), "leaky_k"),
    (lambda: pos.scaled_frequencies(8, "linear", 2.0, 16), "method"),
    (lambda: pos.scaled_frequencies(8, "pi", 0.5, 16), "factor"),
    (lambda: pos.scaled_frequencies(8, "pi", np.inf, 16), "factor"),
    (lambda: pos.scaled_frequencies(8, "yarn", 2.0, True), "train_len"),
    (lambda: pos.yarn_logit_factor(True), "factor"),
])
def test_bad_arguments_name_themselves(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_scaled_frequencies_match_their_definitions():
    dim, factor, train_len = 16, 4.0, 64
    theta = _theta(dim)
    np.testing.assert_allclose(pos.scaled_frequencies(dim, "pi", factor, train_len), theta / factor, rtol=1e-15)
    ntk = pos.scaled_frequencies(dim, "ntk", factor, train_len)
    np.testing.assert_allclose(ntk, _theta(dim, 10000.0 * factor ** (dim / (dim - 2))), rtol=1e-13)
    assert ntk[0] == 1.0 and ntk[-1] == pytest.approx(theta[-1] / factor, rel=1e-12)
    yarn = pos.scaled_frequencies(dim, "yarn", factor, train_len)
    for t in range(dim // 2):
        turns = train_len / (2 * math.pi / theta[t])
        ramp = min(1.0, max(0.0, (turns - 1) / 31))
        assert yarn[t] == pytest.approx((1 - ramp) * theta[t] / factor + ramp * theta[t], rel=1e-13)
    assert 0 < (yarn[0] - theta[0] / factor) / (theta[0] - theta[0] / factor) < 1  # pair 0 is on the ramp
    for method in pos.ROPE_SCALINGS:
        np.testing.assert_allclose(pos.scaled_frequencies(dim, method, 1.0, train_len), theta, rtol=1e-13)
    assert pos.yarn_logit_factor(4.0) == pytest.approx((0.1 * math.log(4.0) + 1) ** 2)


@pytest.mark.parametrize("position", ["rope", "xpos"])
@pytest.mark.parametrize("method", ["pi", "ntk", "yarn"])
def test_rope_scaling_in_the_model(position, method):
    """At T ≤ N the model is unchanged; at T = 3N the logits equal attention computed here with RoPE at
    the rescaled frequencies (and YaRN's (0.1 ln s + 1)² on the logits)."""
    model = _model(position, layers=1)
    ids = np.random.default_rng(1).integers(0, 13, (2, 24))
    np.testing.assert_allclose(model(ids[:, :8], rope_scaling=method).data, model(ids[:, :8]).data, rtol=1e-12)
    logits = model(ids, rope_scaling=method).data
    assert np.abs(logits - model(ids).data).max() > 1e-6
    np.testing.assert_allclose(logits, _one_layer_logits(model, ids, method), rtol=1e-9, atol=1e-11)


def _one_layer_logits(model, ids, method):
    """A pre-norm one-layer RMSNorm/GELU model written with NumPy, RoPE at the rescaled frequencies."""
    from scipy.special import erf
    config, block = model.config, model.blocks[0]
    heads, dim = config.heads, config.dim
    head_dim, seq_len = dim // heads, ids.shape[1]
    factor = seq_len / config.train_len
    theta = pos.scaled_frequencies(head_dim, method, factor, config.train_len)

    def rms(x, norm):
        return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + norm.eps) * norm.weight.data

    def rotate(x):
        z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * np.arange(seq_len)[:, None] * theta)
        out = np.empty_like(x)
        out[..., 0::2], out[..., 1::2] = z.real, z.imag
        return out
    embedding = model.embedding.weight.data
    x = embedding[ids] * math.sqrt(dim)
    qkv = rms(x, block.norm1) @ block.attention.qkv.weight.data.T
    q, k, v = (qkv[..., i * dim:(i + 1) * dim].reshape(*ids.shape, heads, head_dim).transpose(0, 2, 1, 3)
               for i in range(3))
    q, k = rotate(q), rotate(k)
    if model.config.position == "xpos":
        zeta = np.repeat(_zeta(head_dim), 2)
        power = (np.arange(seq_len) - seq_len // 2)[:, None] / GAMMA
        q, k = q * zeta ** power, k * zeta ** -power
    scores = q @ k.swapaxes(-1, -2) / math.sqrt(head_dim)
    if method == "yarn":
        scores = scores * (0.1 * math.log(factor) + 1) ** 2
    scores = np.where(np.tril(np.ones((seq_len, seq_len), bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    o = (weights / weights.sum(-1, keepdims=True)) @ v
    x = x + o.transpose(0, 2, 1, 3).reshape(*ids.shape, dim) @ block.attention.out.weight.data.T
    h = rms(x, block.norm2) @ block.up.weight.data.T
    x = x + (0.5 * h * (1 + erf(h / math.sqrt(2)))) @ block.down.weight.data.T
    return rms(x, model.final_norm) @ embedding.T
