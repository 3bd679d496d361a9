"""Position encodings: the values of every scheme against its formula (sinusoidal, RoPE, XPOS, ALiBi,
KERPLE, Sandwich, ReRoPE), the attention layer applying each scheme, RoPE relativity and gradcheck,
KERPLE gradcheck, ReRoPE two-matrix == single-pass form."""
import math

import numpy as np
import pytest

from scratch import Tensor, gradcheck
from scratch.models.transformer import positions as pos
from scratch.models.transformer import CausalSelfAttention, TransformerConfig


def _omega(t, dim, base=10000.0):
    """ω_t = base^{−2t/d}, the frequency of pair t."""
    return base ** (-2 * t / dim)


def _rotate_pairs(x, angles):
    """Each pair (x_{2t}, x_{2t+1}) as the complex number x_{2t} + i x_{2t+1}, multiplied by e^{i angle_t}."""
    z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * angles)
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = z.real, z.imag
    return out


def _softplus(x):
    return math.log1p(math.exp(x))


@pytest.mark.parametrize("dim, base", [(8, 10000.0), (6, 10000.0), (10, 100.0)])
def test_frequencies_and_sinusoidal_table(dim, base):
    """ω_t = base^{−2t/d}; P[i, 2t] = sin(i ω_t), P[i, 2t+1] = cos(i ω_t) (Vaswani et al.)."""
    np.testing.assert_allclose(pos.frequencies(dim, base), [_omega(t, dim, base) for t in range(dim // 2)],
                               rtol=1e-15)
    table = pos.sinusoidal_table(40, dim, base)
    expected = np.empty((40, dim))
    for i in range(40):
        for t in range(dim // 2):
            expected[i, 2 * t] = math.sin(i * _omega(t, dim, base))
            expected[i, 2 * t + 1] = math.cos(i * _omega(t, dim, base))
    np.testing.assert_allclose(table, expected, rtol=0, atol=1e-13)
    assert table[0, 0::2].tolist() == [0.0] * (dim // 2) and table[0, 1::2].tolist() == [1.0] * (dim // 2)


@pytest.mark.parametrize("dim, base", [(8, 10000.0), (10, 500.0)])
def test_rope_rotates_pair_t_of_row_i_by_position_times_theta_t(dim, base):
    """RoPE: (x_{2t}, x_{2t+1}) of row i turned by the angle p_i θ_t, θ_t = base^{−2t/D}, counter-clockwise
    (x_{2t} + i x_{2t+1} times e^{i p θ_t}); fractional and negative positions as ReRoPE uses them."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 7, dim))
    positions = np.array([0, 1, 2, 5.5, 100, -3, 4095])
    theta = np.array([_omega(t, dim, base) for t in range(dim // 2)])
    expected = _rotate_pairs(x, positions[:, None] * theta[None, :])
    np.testing.assert_allclose(pos.rope(x, positions, base).data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pos.rope_angles(positions, dim, base), positions[:, None] * theta[None, :],
                               rtol=1e-15)


@pytest.mark.parametrize("seq_len, dim", [(9, 8), (16, 6), (2048, 4)])
def test_xpos_scales(seq_len, dim):
    """Query scale ζ_t^{(i − ⌊T/2⌋)/512} on both entries of pair t, ζ_t = (2t/D + 0.4)/1.4; the key side
    divides by it, so pair t of the logit q_i·k_j is multiplied by ζ_t^{(i − j)/512} whatever the centre."""
    zeta = np.array([(2 * t / dim + 0.4) / 1.4 for t in range(dim // 2)])
    scales = pos.xpos_scales(seq_len, dim)
    expected = np.empty((seq_len, dim))
    for i in range(seq_len):
        for t in range(dim // 2):
            expected[i, 2 * t] = expected[i, 2 * t + 1] = zeta[t] ** ((i - seq_len // 2) / 512)
    np.testing.assert_allclose(scales, expected, rtol=1e-13)
    i, j = seq_len - 1, seq_len // 3
    np.testing.assert_allclose(scales[i, 0::2] / scales[j, 0::2], zeta ** ((i - j) / 512), rtol=1e-13)
    assert zeta[0] == pytest.approx(2 / 7) and np.all(np.diff(zeta) > 0) and zeta[-1] < 1


@pytest.mark.parametrize("heads", [1, 2, 4, 6, 8, 12])
def test_alibi_slopes_and_bias(heads):
    """λ_h = 2^{−8h/H}, h = 1..H (the formula for every H, powers of two or not); β_h(δ) = −λ_h δ."""
    slopes = [2.0 ** (-8 * h / heads) for h in range(1, heads + 1)]
    np.testing.assert_allclose(pos.alibi_slopes(heads), slopes, rtol=1e-15)
    expected = np.array([[-slope * delta for delta in range(9)] for slope in slopes])
    np.testing.assert_allclose(pos.alibi_bias(heads, 9), expected, rtol=1e-15)
    if heads == 8:
        np.testing.assert_allclose(pos.alibi_slopes(8), [1 / 2 ** h for h in range(1, 9)], rtol=1e-15)


def test_kerple_bias_values():
    """Power: −r1 δ^{r2}, r1 = softplus(a), r2 = 2 sigmoid(b); log: −r1 log(1 + r2 δ), r2 = softplus(b)."""
    a = np.array([0.3, -1.2, 2.0, 8.0])
    b = np.array([-0.7, 0.0, 1.5, -4.0])
    power = pos.kerple_bias(a, b, 12, "power").data
    log = pos.kerple_bias(a, b, 12, "log").data
    for h in range(4):
        r1 = _softplus(a[h])
        for delta in range(12):
            r2 = 2 / (1 + math.exp(-b[h]))
            assert power[h, delta] == pytest.approx(-r1 * delta ** r2, rel=1e-12, abs=0)
            r2 = _softplus(b[h])
            assert log[h, delta] == pytest.approx(-r1 * math.log1p(r2 * delta), rel=1e-12, abs=0)
    with pytest.raises(ValueError, match="form"):
        pos.kerple_bias(a, b, 12, "exp")


def test_sandwich_bias_values():
    """β(δ) = λ Σ_{t<d/2} cos(δ ω_t), equal for every head; for d = 128 it falls 64 → 43 (δ = 10)
    → 19 (500) → 10 (1000), the values quoted in the spec (rounded there to integers)."""
    bias = pos.sandwich_bias(3, 20, 8, scale=0.7)
    expected = [0.7 * sum(math.cos(delta * _omega(t, 8)) for t in range(4)) for delta in range(20)]
    assert bias.shape == (3, 20)
    for h in range(3):
        np.testing.assert_allclose(bias[h], expected, rtol=1e-13, atol=1e-14)
    long = pos.sandwich_bias(1, 1001, 128)[0]
    assert long[0] == pytest.approx(64, rel=1e-14)
    for delta, quoted in ((10, 43), (500, 19), (1000, 10)):
        assert long[delta] == pytest.approx(quoted, abs=0.5)


@pytest.mark.parametrize("leaky_k", [None, 4.0])
def test_rerope_scores_use_the_clipped_relative_position(leaky_k):
    """For j ≤ i, δ = i − j: the RoPE logit at relative position r = δ if δ < w, else w (ReRoPE) or
    w + (δ − w)/k (Leaky), i.e. Σ_t Re(q̃_t conj(k̃_t) e^{i r θ_t}) / √D with x̃_t = x_{2t} + i x_{2t+1}."""
    rng = np.random.default_rng(5)
    q, k = rng.standard_normal((2, 1, 2, 20, 8))
    window = 6
    scores = pos.rerope_scores(q, k, window, leaky_k).data
    theta = np.array([_omega(t, 8) for t in range(4)])
    qz, kz = q[..., 0::2] + 1j * q[..., 1::2], k[..., 0::2] + 1j * k[..., 1::2]
    for i in range(20):
        for j in range(i + 1):
            delta = i - j
            r = delta if delta < window else window if leaky_k is None else window + (delta - window) / leaky_k
            expected = (qz[..., i, :] * kz[..., j, :].conj() * np.exp(1j * r * theta)).real.sum(-1) / math.sqrt(8)
            np.testing.assert_allclose(scores[..., i, j], expected, rtol=1e-10, atol=1e-12)


def _scheme_bias(layer, position, heads, head_dim, delta):
    """β_h(δ) of each scheme, written out from the spec: (H,) for one distance δ ≥ 0."""
    if position == "alibi":
        return np.array([-(2.0 ** (-8 * h / heads)) * delta for h in range(1, heads + 1)])
    if position == "sandwich":
        return np.full(heads, layer.sandwich_scale * sum(math.cos(delta * _omega(t, head_dim))
                                                         for t in range(head_dim // 2)))
    if position.startswith("kerple"):
        a, b = layer.kerple_a.data, layer.kerple_b.data
        if position == "kerple_power":
            return np.array([-_softplus(a[h]) * delta ** (2 / (1 + math.exp(-b[h]))) for h in range(heads)])
        return np.array([-_softplus(a[h]) * math.log1p(_softplus(b[h]) * delta) for h in range(heads)])
    return np.zeros(heads)


@pytest.mark.parametrize("position", ["nope", "rope", "xpos", "alibi", "kerple_power", "kerple_log", "sandwich"])
def test_attention_layer_applies_the_scheme(position):
    """The Transformer's attention layer equals softmax attention written out per head, query and key:
    logit σ q_i·k_j with the pairs rotated by (i − j) θ_t (rope, xpos) and scaled by ζ_t^{(i − j)/512}
    (xpos), plus the scheme's distance bias β_h(i − j) (alibi, kerple, sandwich over the head size)."""
    config = TransformerConfig(dim=12, heads=2, position=position, sandwich_scale=0.7)
    heads, head_dim, seq_len = 2, 6, 24
    rng = np.random.default_rng(6)
    layer = CausalSelfAttention(config, position, rng=rng, dtype=np.float64)
    if position.startswith("kerple"):
        layer.kerple_a.data = np.array([0.4, -0.9])
        layer.kerple_b.data = np.array([-0.5, 1.3])
    x = rng.standard_normal((1, seq_len, 12))
    qkv = x[0] @ layer.qkv.weight.data.T
    theta = np.array([_omega(t, head_dim) for t in range(head_dim // 2)])
    zeta = np.array([(2 * t / head_dim + 0.4) / 1.4 for t in range(head_dim // 2)])
    merged = np.zeros((seq_len, 12))
    for h in range(heads):
        q, k, v = (qkv[:, part * 12 + h * head_dim:part * 12 + (h + 1) * head_dim] for part in range(3))
        qz, kz = q[:, 0::2] + 1j * q[:, 1::2], k[:, 0::2] + 1j * k[:, 1::2]
        for i in range(seq_len):
            logits = np.empty(i + 1)
            for j in range(i + 1):
                delta = i - j
                if position in ("rope", "xpos"):
                    pairs = (qz[i] * kz[j].conj() * np.exp(1j * delta * theta)).real
                    if position == "xpos":
                        pairs = pairs * zeta ** (delta / 512)
                    content = pairs.sum()
                else:
                    content = q[i] @ k[j]
                logits[j] = content / math.sqrt(head_dim) + _scheme_bias(layer, position, heads, head_dim, delta)[h]
            p = np.exp(logits - logits.max())
            merged[i, h * head_dim:(h + 1) * head_dim] = (p / p.sum()) @ v[:i + 1]
    expected = merged @ layer.out.weight.data.T
    np.testing.assert_allclose(layer(Tensor(x)).data[0], expected, rtol=1e-10, atol=1e-12)


def test_rope_scores_depend_on_relative_position_only():
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 8))
    shifted = [(pos.rope(q[None], np.array([i])).data @ pos.rope(k[None], np.array([j])).data.T).item()
               for i, j in ((5, 2), (105, 102))]
    assert shifted[0] == pytest.approx(shifted[1], rel=1e-10)


def test_rope_and_kerple_gradcheck():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda x: pos.rope(x, np.arange(5)), [x])
    for form in ("power", "log"):
        a, b = (Tensor(rng.standard_normal(3), requires_grad=True) for _ in range(2))
        assert gradcheck(lambda a, b: pos.kerple_bias(a, b, 7, form), [a, b])


@pytest.mark.parametrize("leaky_k", [None, 4.0])
def test_rerope_two_matrix_form_equals_single_pass(leaky_k):
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal((2, 1, 1, 20, 8))
    scores = pos.rerope_scores(q, k, 6, leaky_k).data[0, 0]
    for i in (3, 12, 19):
        single = pos.rerope_query_scores(q[0, 0, i], k[0, 0, :i + 1], i, 6, leaky_k)
        np.testing.assert_allclose(single, scores[i, :i + 1], rtol=1e-10, atol=1e-12)


def test_rerope_with_a_window_beyond_the_length_is_rope():
    rng = np.random.default_rng(3)
    q, k = rng.standard_normal((2, 1, 1, 10, 8))
    rope = pos.rope(q, np.arange(10)).data @ pos.rope(k, np.arange(10)).data.swapaxes(-1, -2) / np.sqrt(8)
    np.testing.assert_allclose(np.tril(pos.rerope_scores(q, k, 10).data[0, 0]), np.tril(rope[0, 0]), atol=1e-12)


def test_alibi_slopes_and_clipped_log_n():
    np.testing.assert_allclose(pos.alibi_slopes(4), [1 / 4, 1 / 16, 1 / 64, 1 / 256])
    c = pos.clipped_log_n(256, 16)
    assert c[:16].tolist() == [1.0] * 16 and c[255] == pytest.approx(2.0)


@pytest.mark.parametrize("call, error, match", [
    (lambda: pos.frequencies(True), ValueError, "dim"), (lambda: pos.frequencies(7), ValueError, "dim must be even"),
    (lambda: pos.frequencies(0), ValueError, "dim"), (lambda: pos.frequencies(8, base=0), ValueError, "base"),
    (lambda: pos.frequencies(8, base=np.inf), ValueError, "base"),
    (lambda: pos.sinusoidal_table(True, 8), ValueError, "seq_len"),
    (lambda: pos.sinusoidal_table(-1, 8), ValueError, "seq_len"),
    (lambda: pos.rope(np.zeros((3, 4)), np.arange(2)), ValueError, "positions"),
    (lambda: pos.rope(np.zeros((3, 4)), np.arange(3), base=True), ValueError, "base"),
    (lambda: pos.rope_angles(np.zeros((2, 2)), 4), ValueError, "positions"),
    (lambda: pos.xpos_scales(True, 8), ValueError, "seq_len"), (lambda: pos.xpos_scales(4, True), ValueError, "dim"),
    (lambda: pos.xpos_scales(4, 8, scale_base=0), ValueError, "scale_base"),
    (lambda: pos.alibi_slopes(True), ValueError, "heads"), (lambda: pos.alibi_slopes(0), ValueError, "heads"),
    (lambda: pos.alibi_bias(2, True), ValueError, "window"), (lambda: pos.alibi_bias(2, 2.0), ValueError, "window"),
    (lambda: pos.kerple_bias(np.zeros(2), np.zeros(2), True, "log"), ValueError, "window"),
    (lambda: pos.kerple_bias(np.zeros(2), np.zeros(3), 4, "log"), ValueError, "b must have shape"),
    (lambda: pos.kerple_bias(np.zeros((2, 1)), np.zeros((2, 1)), 4, "log"), ValueError, "a must have shape"),
    (lambda: pos.kerple_bias(np.zeros(2), np.zeros(2), 4, True), ValueError, "form"),
    (lambda: pos.sandwich_bias(True, 4, 8), ValueError, "heads"),
    (lambda: pos.sandwich_bias(2, True, 8), ValueError, "window"),
    (lambda: pos.sandwich_bias(2, 4, True), ValueError, "dim"),
    (lambda: pos.sandwich_bias(2, 4, 8, scale=np.inf), ValueError, "scale"),
    (lambda: pos.clipped_log_n(True, 16), ValueError, "seq_len"),
    (lambda: pos.clipped_log_n(8, 1), ValueError, "train_len"),
    (lambda: pos.clipped_log_n(8, True), ValueError, "train_len"),
])
def test_position_functions_reject_bad_values(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("kwargs, match", [
    (dict(window=True), "window"), (dict(window=0), "window"), (dict(window=2.5), "window"),
    (dict(leaky_k=0.5), "leaky_k"), (dict(leaky_k=np.inf), "leaky_k"), (dict(leaky_k=True), "leaky_k"),
    (dict(scale=np.nan), "scale"), (dict(scale=True), "scale"),
])
def test_rerope_functions_reject_bad_values(kwargs, match):
    rng = np.random.default_rng(7)
    q, k = rng.standard_normal((2, 1, 1, 6, 4))
    args = {"window": 3, **kwargs}
    window = args.pop("window")
    with pytest.raises(ValueError, match=match):
        pos.rerope_scores(q, k, window, **args)
    with pytest.raises(ValueError, match=match):
        pos.rerope_query_scores(q[0, 0, 4], k[0, 0, :5], 4, window, **args)


def test_rerope_functions_reject_bad_shapes_and_positions():
    rng = np.random.default_rng(8)
    q, k = rng.standard_normal((2, 1, 1, 6, 4))
    with pytest.raises(ValueError, match="k must have shape"):
        pos.rerope_scores(q, k[..., :5, :], 3)
    with pytest.raises(ValueError, match="q must have shape"):
        pos.rerope_scores(q[0, 0], k[0, 0], 3)
    with pytest.raises(ValueError, match="head size D"):
        pos.rerope_scores(q[..., :0], k[..., :0], 3)
    with pytest.raises(ValueError, match="k must have shape"):
        pos.rerope_query_scores(q[0, 0, 4], k[0, 0, :5, :3], 4, 3)
    for i in (True, -1, 2.0):
        with pytest.raises(ValueError, match="i must be"):
            pos.rerope_query_scores(q[0, 0, 4], k[0, 0, :5], i, 3)
