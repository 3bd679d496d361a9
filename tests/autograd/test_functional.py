"""``scratch.functional``: float64 gradient checks of every function, and the properties each promises."""
import numpy as np
import pytest
from scipy import special

import scratch
from scratch import functional as F
from scratch import gradcheck
from scratch.autograd.functional import conv as conv_module
from scratch.validation import int_pair


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "silu", "gelu"])
def test_activations(leaves, name):
    assert gradcheck(getattr(F, name), leaves((3, 4)))


def test_gelu_values_without_torch(rng):
    """Exact GELU is x Φ(x) with Φ(x) = (1 + erf(x/√2))/2; the tanh form is x/2 (1 + tanh(√(2/π)(x + 0.044715 x³)))."""
    x = np.concatenate([4 * rng.standard_normal(200), [0.0, -1e-8, 1e-8, -7.5, 7.5, 30.0, -15.0]])
    # for x < 0, 1 + erf(x/√2) cancels; erfc(−x/√2) = 1 + erf(x/√2) keeps the relative precision of the tail
    cdf = np.where(x < 0, special.erfc(-x / np.sqrt(2)), 1 + special.erf(x / np.sqrt(2))) / 2
    np.testing.assert_allclose(F.gelu(x).data, x * cdf, rtol=1e-13, atol=1e-300)
    tanh_form = x / 2 * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").data, tanh_form, rtol=1e-13, atol=1e-300)


def test_activations_accept_arrays(rng):
    x = rng.standard_normal(5)
    np.testing.assert_allclose(F.relu(x).data, np.maximum(x, 0))
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").data, F.gelu(x).data, atol=1e-3)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(leaves, name, axis):
    assert gradcheck(lambda x: getattr(F, name)(x, axis=axis), leaves((3, 4, 5)))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [-1, 0, (0, 2), None], ids=str)
def test_logsumexp(leaves, axis, keepdims):
    (x,) = leaves((3, 4, 5))
    assert gradcheck(lambda x: F.logsumexp(x, axis=axis, keepdims=keepdims), [x])
    expected = np.log(np.exp(x.data).sum(axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(F.logsumexp(x, axis, keepdims).data, expected, rtol=1e-12)


def test_softmax_family_is_stable_for_huge_logits():
    x = np.array([[1000.0, 0.0, -1000.0], [-5e4, -5e4 + 1, -5e4 + 2]])
    p = F.softmax(x).data
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)
    np.testing.assert_allclose(p[0], [1.0, 0.0, 0.0])
    shifted = np.array([[0.0, -1000.0, -2000.0], [-2.0, -1.0, 0.0]])
    np.testing.assert_allclose(F.log_softmax(x).data, shifted - np.log(np.exp(shifted).sum(-1, keepdims=True)))
    np.testing.assert_allclose(F.logsumexp(x).data[0], 1000.0)


def test_masked_entries_get_probability_zero_and_no_gradient(leaves):
    (x,) = leaves((2, 4))
    mask = np.array([[0.0, -np.inf, 0.0, 0.0], [0.0, 0.0, 0.0, -np.inf]])
    p = F.softmax(x + mask)
    assert p.data[0, 1] == 0 and p.data[1, 3] == 0
    (p * np.arange(4.0)).sum().backward()
    assert x.grad[0, 1] == 0 and x.grad[1, 3] == 0 and np.isfinite(x.grad).all()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)], ids=str)
def test_cross_entropy(leaves, rng, shape, reduction):
    (logits,) = leaves(shape)
    targets = rng.integers(0, shape[-1], shape[:-1])
    assert gradcheck(lambda x: F.cross_entropy(x, targets, reduction), [logits])
    expected = -np.take_along_axis(F.log_softmax(logits).data, targets[..., None], -1)[..., 0]
    expected = {"mean": expected.mean(), "sum": expected.sum(), "none": expected}[reduction]
    np.testing.assert_allclose(F.cross_entropy(logits, targets, reduction).data, expected, rtol=1e-12)


def test_cross_entropy_is_finite_for_huge_logits():
    logits = scratch.tensor([[1e4, -1e4, 0.0], [3e4, 3e4, 3e4]], requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, 2]))
    loss.backward()
    np.testing.assert_allclose(loss.data, (2e4 + np.log(3)) / 2)
    np.testing.assert_allclose(logits.grad, [[0.5, -0.5, 0.0], [1 / 6, 1 / 6, -1 / 3]])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_of_log_softmax_is_cross_entropy(leaves, rng, reduction):
    (logits,) = leaves((6, 3))
    targets = rng.integers(0, 3, 6)
    assert gradcheck(lambda x: F.nll_loss(F.log_softmax(x), targets, reduction), [logits])
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(logits), targets, reduction).data,
                               F.cross_entropy(logits, targets, reduction).data, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_with_logits(leaves, rng, reduction):
    logits, soft_targets = leaves((4, 3), (4, 3))
    soft_targets.data = rng.random((4, 3))
    assert gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction), [logits, soft_targets])
    x, t = logits.data, soft_targets.data
    expected = -(t * np.log(1 / (1 + np.exp(-x))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-x))))
    expected = {"mean": expected.mean(), "sum": expected.sum(), "none": expected}[reduction]
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, t, reduction).data, expected, rtol=1e-10)


def test_binary_cross_entropy_with_logits_is_finite_for_huge_logits():
    loss = F.binary_cross_entropy_with_logits(np.array([800.0, -800.0, 800.0]), np.array([1, 0, 0]), "none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 800.0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(leaves, reduction):
    pred, target = leaves((3, 4), (3, 4))
    assert gradcheck(lambda p, t: F.mse_loss(p, t, reduction), [pred, target])
    expected = (pred.data - target.data) ** 2
    expected = {"mean": expected.mean(), "sum": expected.sum(), "none": expected}[reduction]
    np.testing.assert_allclose(F.mse_loss(pred, target.data, reduction).data, expected)


@pytest.mark.parametrize("use_weight, use_bias", [(False, False), (True, False), (False, True), (True, True)])
def test_layer_norm(leaves, use_weight, use_bias):
    x, weight, bias = leaves((2, 3, 6), (6,), (6,))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, w if use_weight else None, b if use_bias else None),
                     [x, weight, bias])
    y = F.layer_norm(x).data
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1 / (1 + 1e-5 / x.data.var(-1)), rtol=1e-10)


@pytest.mark.parametrize("eps", [1e-5, 0.3])
def test_affine_norm_values_without_torch(rng, eps):
    """layer_norm = (x − mean)/√(biased var + ε)·w + b and rms_norm = x/√(mean x² + ε)·w over the last axis,
    written out in float64; ε = 0.3 makes a misplaced ε visible, and rows of different scale and offset
    make a wrong axis visible."""
    x = rng.standard_normal((2, 3, 6)) * rng.uniform(0.2, 3, (2, 3, 1)) + rng.standard_normal((2, 3, 1))
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    d = x.shape[-1]
    mean = x.sum(-1, keepdims=True) / d
    var = ((x - mean) ** 2).sum(-1, keepdims=True) / d
    np.testing.assert_allclose(F.layer_norm(x, w, b, eps=eps).data, (x - mean) / np.sqrt(var + eps) * w + b,
                               rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(F.layer_norm(x, None, b, eps=eps).data, (x - mean) / np.sqrt(var + eps) + b,
                               rtol=1e-13, atol=1e-14)
    rms = np.sqrt((x**2).sum(-1, keepdims=True) / d + eps)
    np.testing.assert_allclose(F.rms_norm(x, w, eps=eps).data, x / rms * w, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(F.rms_norm(x, eps=eps).data, x / rms, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("use_weight", [False, True])
def test_rms_norm(leaves, use_weight):
    x, weight = leaves((4, 5), (5,))
    assert gradcheck(lambda x, w: F.rms_norm(x, w if use_weight else None), [x, weight])
    y = F.rms_norm(x, eps=0.0).data
    np.testing.assert_allclose((y * y).mean(-1), 1.0)


def test_dropout_gradcheck_with_a_fixed_mask(leaves):
    assert gradcheck(lambda x: F.dropout(x, 0.3, rng=np.random.default_rng(7)), leaves((4, 5)))


def test_dropout_is_inverted_and_reproducible():
    x = np.ones((200, 500))
    y = F.dropout(x, 0.25, rng=np.random.default_rng(1)).data
    assert set(np.unique(y)) == {0.0, 1 / 0.75}
    assert abs((y == 0).mean() - 0.25) < 0.01
    assert abs(y.mean() - 1.0) < 0.01
    np.testing.assert_array_equal(y, F.dropout(x, 0.25, rng=np.random.default_rng(1)).data)


@pytest.mark.parametrize("p, training", [(0.5, False), (0.0, True), (0, True)])
def test_dropout_is_the_identity_in_eval_or_at_p_zero(p, training):
    x = scratch.tensor(np.arange(6.0), requires_grad=True)
    assert F.dropout(x, p, training=training) is x


def test_embedding(leaves):
    (weight,) = leaves((6, 3))
    ids = np.array([[0, 5, 5], [2, 5, 0]])
    assert gradcheck(lambda w: F.embedding(w, ids), [weight])
    np.testing.assert_array_equal(F.embedding(weight, ids).data, weight.data[ids])


def test_embedding_scatter_adds_repeated_ids():
    weight = scratch.tensor(np.zeros((4, 2)), requires_grad=True)
    F.embedding(weight, np.array([3, 1, 3, 3])).sum().backward()
    np.testing.assert_array_equal(weight.grad, [[0, 0], [1, 1], [0, 0], [3, 3]])


def conv2d_by_loops(x, w, b, stride, padding):
    """The definition, one output entry at a time (stride and padding an int or a pair)."""
    sh, sw = stride if isinstance(stride, tuple) else (stride, stride)
    ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    y = np.zeros((n, o, (h - kh) // sh + 1, (wd - kw) // sw + 1))
    for p in range(y.shape[2]):
        for q in range(y.shape[3]):
            window = x[:, :, sh * p:sh * p + kh, sw * q:sw * q + kw]
            y[:, :, p, q] = np.einsum("ncij,ocij->no", window, w) + (0 if b is None else b)
    return y


CONV_GEOMETRIES = [(1, 0), (2, 1), ((2, 1), (0, 2)), (3, 2)]


@pytest.mark.parametrize("stride, padding", CONV_GEOMETRIES, ids=str)
@pytest.mark.parametrize("use_bias", [True, False])
def test_conv2d(leaves, stride, padding, use_bias):
    x, w, b = leaves((2, 3, 7, 6), (4, 3, 3, 2), (4,))
    bias = b if use_bias else None
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b if use_bias else None, stride, padding), [x, w, b])
    expected = conv2d_by_loops(x.data, w.data, None if bias is None else b.data, stride, padding)
    np.testing.assert_allclose(F.conv2d(x, w, bias, stride, padding).data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride, padding", [(1, 0), ((2, 1), 1)], ids=str)
def test_conv2d_in_chunks_of_images(leaves, monkeypatch, stride, padding):
    """A batch split into chunks (here one image each) gives the definition's outputs and the same
    gradients as one chunk; the input is a non-contiguous view (channels and batch swapped)."""
    x_cnhw, w, b = leaves((3, 4, 6, 7), (5, 3, 3, 2), (5,))
    expected = conv2d_by_loops(x_cnhw.data.transpose(1, 0, 2, 3), w.data, b.data, stride, padding)
    g = np.random.default_rng(1).standard_normal(expected.shape)

    def outputs_and_gradients():
        for leaf in (x_cnhw, w, b):
            leaf.grad = None
        y = F.conv2d(x_cnhw.transpose(1, 0, 2, 3), w, b, stride, padding)
        y.backward(g)
        return [y.data, x_cnhw.grad, w.grad, b.grad]

    whole = outputs_and_gradients()
    monkeypatch.setattr(conv_module, "CHUNK_BYTES", 1)
    columns = conv_module.ImageColumns((3, 6 + 2 * padding, 7 + 2 * padding), (3, 2), int_pair("stride", stride, 1))
    assert len(columns.chunks(4, 8)) == 4
    chunked = outputs_and_gradients()
    np.testing.assert_allclose(chunked[0], expected, rtol=1e-12, atol=1e-12)
    for a, c in zip(whole, chunked):
        np.testing.assert_allclose(c, a, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, w, b: F.conv2d(x.transpose(1, 0, 2, 3), w, b, stride, padding), [x_cnhw, w, b])


def conv2d_gradients_by_loops(x, w, g, stride, padding):
    """∂L/∂x, ∂L/∂w, ∂L/∂b of Σ g ⊙ conv2d(x, w, b) from the definition: output (p, q) reads the window of the
    padded x at (sh·p, sw·q), so it sends g[n, o, p, q]·w[o] back into that window and g·window to w[o]."""
    (sh, sw), (ph, pw) = stride, padding
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    kh, kw = w.shape[2:]
    for p in range(g.shape[2]):
        for q in range(g.shape[3]):
            rows, cols = slice(sh * p, sh * p + kh), slice(sw * q, sw * q + kw)
            dx_pad[:, :, rows, cols] += np.einsum("no,ocij->ncij", g[:, :, p, q], w)
            dw += np.einsum("no,ncij->ocij", g[:, :, p, q], x_pad[:, :, rows, cols])
    return dx_pad[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]], dw, g.sum(axis=(0, 2, 3))


@pytest.mark.parametrize("out_channels", [4, 20], ids=["dW summed transposed", "dW summed as is"])
@pytest.mark.parametrize("stride, padding", [((1, 1), (1, 2)), ((2, 1), (1, 0)), ((2, 3), (2, 1))], ids=str)
def test_conv2d_over_uneven_chunks_equals_the_definition(leaves, rng, monkeypatch, stride, padding, out_channels):
    """A batch of 7 in chunks of 3 (3 + 3 + 1 images, the last chunk partial): outputs and the gradients w.r.t.
    x, weight and bias equal the loop definitions, so every chunk is computed, written to its own images,
    and accumulated into the weight gradient; with 4 output channels (fewer than kh·kw·C = 18) the backward
    sums dWᵀ, with 20 it sums dW."""
    x, w, b = leaves((7, 3, 6, 7), (out_channels, 3, 3, 2), (out_channels,))
    columns = conv_module.ImageColumns((3, 6 + 2 * padding[0], 7 + 2 * padding[1]), (3, 2), stride)
    monkeypatch.setattr(conv_module, "CHUNK_BYTES", 3 * columns.rows * columns.length * 8)
    assert [len(range(7)[part]) for part in columns.chunks(7, 8)] == [3, 3, 1]
    y = F.conv2d(x, w, b, stride, padding)
    np.testing.assert_allclose(y.data, conv2d_by_loops(x.data, w.data, b.data, stride, padding), rtol=0, atol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    for name, ours, expected in zip("xwb", (x.grad, w.grad, b.grad),
                                    conv2d_gradients_by_loops(x.data, w.data, g, stride, padding)):
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12, err_msg=name)


def test_conv2d_large_input_directional(leaves):
    x, w, b = leaves((4, 3, 12, 12), (8, 3, 3, 3), (8,))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), [x, w, b])


POOL_GEOMETRIES = [(2, None), (3, 2), ((2, 3), (1, 2)), (3, 1)]


@pytest.mark.parametrize("kernel_size, stride", POOL_GEOMETRIES, ids=str)
@pytest.mark.parametrize("name", ["avg_pool2d", "max_pool2d"])
def test_pools(leaves, name, kernel_size, stride):
    (x,) = leaves((2, 3, 7, 6))
    assert gradcheck(lambda x: getattr(F, name)(x, kernel_size, stride), [x])


@pytest.mark.parametrize("name, reduce", [("avg_pool2d", np.mean), ("max_pool2d", np.max)])
def test_pools_by_definition_with_a_dropped_remainder(rng, name, reduce):
    x = rng.standard_normal((2, 5, 7))
    y = getattr(F, name)(x, 2).data
    assert y.shape == (2, 2, 3)
    expected = reduce(x[:, :4, :6].reshape(2, 2, 2, 3, 2), axis=(2, 4))
    np.testing.assert_allclose(y, expected)


# windows that tile x, disjoint ones with a remainder, gapped ones, ones that overlap along one axis or both
POOL_WINDOWS = [(2, 2), ((2, 3), (2, 3)), (2, 3), ((3, 2), (2, 1)), ((2, 3), (2, 1)), (3, 2)]


def pool_and_windows(rng, name, x, kernel_size, stride):
    """The pool ``name``'s output y and x's gradient for a random upstream gradient, the upstream, and
    for each output entry (n, c, p, q) the index of its window in x."""
    (kh, kw), (sh, sw) = int_pair("k", kernel_size, 1), int_pair("s", stride, 1)
    leaf = scratch.tensor(x, requires_grad=True)
    y = getattr(F, name)(leaf, kernel_size, stride)
    upstream = rng.standard_normal(y.shape)
    y.backward(upstream)
    windows = {(n, c, p, q): (n, c, slice(sh * p, sh * p + kh), slice(sw * q, sw * q + kw))
               for n, c, p, q in np.ndindex(*y.shape)}
    return y.data, leaf.grad, upstream, windows


@pytest.mark.parametrize("kernel_size, stride", POOL_WINDOWS, ids=str)
@pytest.mark.parametrize("size", [(8, 8), (7, 9)], ids=str)
def test_avg_pool_by_definition(rng, kernel_size, stride, size):
    """Forward and gradient against a loop over the windows."""
    x = rng.standard_normal((2, 3) + size)
    y, dx, upstream, windows = pool_and_windows(rng, "avg_pool2d", x, kernel_size, stride)
    expected_y, expected_dx = np.empty(y.shape), np.zeros(x.shape)
    for out, window in windows.items():
        expected_y[out] = x[window].mean()
        expected_dx[window] += upstream[out] / x[window].size
    np.testing.assert_allclose(y, expected_y, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-14, atol=1e-15)


def test_max_pool_gives_a_tie_to_the_first_maximal_entry():
    x = scratch.tensor([[1.0, 5.0, 5.0], [5.0, 0.0, 2.0]], requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 2, 0], [0, 0, 0]])


@pytest.mark.parametrize("kernel_size, stride", POOL_WINDOWS, ids=str)
def test_max_pool_gradient_goes_to_the_first_maximum_of_each_window(rng, kernel_size, stride):
    """Against a loop over windows (np.argmax: the first maximal entry, row-major), with many ties
    (entries drawn from {0, 1, 2}) and with a NaN in one window."""
    x = rng.integers(0, 3, (2, 3, 8, 8)).astype(np.float64)
    x[1, 2, 4, 4] = np.nan
    y, dx, upstream, windows = pool_and_windows(rng, "max_pool2d", x, kernel_size, stride)
    expected_y, expected_dx = np.empty(y.shape), np.zeros(x.shape)
    for out, (n, c, rows, cols) in windows.items():
        window = x[n, c, rows, cols]
        expected_y[out] = window.max()
        if not np.isnan(window).any():
            i, j = np.unravel_index(np.argmax(window), window.shape)
            expected_dx[n, c, rows.start + i, cols.start + j] += upstream[out]
    np.testing.assert_array_equal(y, expected_y)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-15, atol=0)
