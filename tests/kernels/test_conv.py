"""Stride-1 convolution kernels, per-offset products and Winograd's F(2 × 2, 3 × 3): outputs and
gradients == a loop over kernel offsets written here and == the twin F.conv2d, for one image per block,
several, a last partial block and lanes that sum more than one block, odd output sizes; float64
gradcheck; the same bits on one thread and on all; the choice of algorithm and nn.Conv2d's choice of
the kernel; bad input refused by name."""
import numba
import numpy as np
import pytest

from scratch import Tensor, gradcheck, nn
from scratch.autograd import functional as F
from scratch.kernels import conv, winograd

# (N, C, O, H, W, kh, kw, padding): images per block 1 (at least WIDE_IMAGE output columns), 8 (small
# products), between (a product near SMALL_PRODUCT) and 8 again (one image's product past it); N not a
# multiple of the block, more blocks than LANES, one image; kernels 3 × 3, 3 × 2, 1 × 1 and one as large
# as the padded image
CASES = [
    ((3, 2, 4, 20, 20, 3, 3, 0), 1),
    ((70, 3, 5, 6, 7, 3, 2, 0), 8),
    ((13, 48, 56, 9, 9, 3, 3, 1), 3),
    ((11, 128, 128, 10, 10, 3, 3, 0), 8),
    ((1, 4, 3, 5, 6, 1, 1, (1, 2)), 8),
    ((9, 2, 3, 4, 5, 6, 5, 1), 8),
    # for Winograd: 16 images of 16 tiles per block and 9 blocks (more than LANES); odd output sizes
    ((140, 3, 4, 10, 10, 3, 3, 0), 8),
    ((5, 2, 3, 9, 8, 3, 3, 0), 8),
    ((4, 3, 2, 6, 7, 3, 3, (1, 0)), 8),
    # one input channel, the patches' case: 3 × 3 at 28 × 28, and 9 × 9 (Sabour's first layer)
    ((10, 1, 4, 28, 28, 3, 3, 0), 1),
    ((9, 1, 3, 12, 13, 9, 9, 1), 8),
]
# Winograd's kernel takes 3 × 3 kernels only
RUNS = [(case, block, algorithm) for case, block in CASES for algorithm in ("offsets", "patches", "winograd")
        if algorithm != "winograd" or case[5:7] == (3, 3)]


def conv_by_offsets(x, w, b, padding, g):
    """y and the gradients of Σ g ⊙ y from y = b + Σ_{i,j} W[:, :, i, j] · x_pad[:, :, i : i + H', j : j + W']."""
    (ph, pw), (o, c, kh, kw) = padding, w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    h_out, w_out = x_pad.shape[2] - kh + 1, x_pad.shape[3] - kw + 1
    y = np.zeros((len(x), o, h_out, w_out)) + (0 if b is None else b[:, None, None])
    dx_pad, dw = np.zeros_like(x_pad), np.zeros(w.shape)
    for i, j in np.ndindex(kh, kw):
        window = x_pad[:, :, i:i + h_out, j:j + w_out]
        y += np.einsum("ncpq,oc->nopq", window, w[:, :, i, j])
        dx_pad[:, :, i:i + h_out, j:j + w_out] += np.einsum("nopq,oc->ncpq", g, w[:, :, i, j])
        dw[:, :, i, j] = np.einsum("nopq,ncpq->oc", g, window)
    return y, dx_pad[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]], dw, g.sum(axis=(0, 2, 3))


def run(x, w, b, padding, g, implementation="numba", x_grad=True, algorithm="auto"):
    leaves = [Tensor(x, requires_grad=x_grad), Tensor(w, requires_grad=True)]
    leaves.append(None if b is None else Tensor(b, requires_grad=True))
    y = conv.conv2d(leaves[0], leaves[1], leaves[2], padding, implementation=implementation, algorithm=algorithm)
    y.backward(g)
    return [y.data] + [None if leaf is None else leaf.grad for leaf in leaves]


def draw(rng, case, dtype):
    n, c, o, h, w, kh, kw, padding = case
    padding = padding if isinstance(padding, tuple) else (padding, padding)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((o, c, kh, kw)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    g = rng.standard_normal((n, o, h + 2 * padding[0] - kh + 1, w + 2 * padding[1] - kw + 1)).astype(dtype)
    return x, weight, b, padding, g


@pytest.mark.parametrize("case, block, algorithm", RUNS, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("use_bias", [True, False])
def test_kernel_equals_the_loop_and_the_twin(rng, case, block, algorithm, dtype, use_bias):
    n, c, o, h, wd, kh, kw, _ = case
    x, w, b, padding, g = draw(rng, case, dtype)
    w_out = wd + 2 * padding[1] - kw + 1
    assert conv.images_per_block(o, c, (h + 2 * padding[0] - kh) * (wd + 2 * padding[1]) + w_out) == block
    b = b if use_bias else None
    expected = conv_by_offsets(x.astype(np.float64), w.astype(np.float64), None if b is None else b.astype(np.float64),
                               padding, g.astype(np.float64))
    ours, twin = run(x, w, b, padding, g, algorithm=algorithm), run(x, w, b, padding, g, "numpy")
    tolerance = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-4)
    for name, a, t, e in zip(("y", "dx", "dW", "db"), ours, twin, expected):
        if name == "db" and b is None:
            assert a is None and t is None
            continue
        assert a.dtype == dtype and a.shape == e.shape, name
        scale = max(1.0, float(np.abs(e).max()))
        np.testing.assert_allclose(a / scale, e / scale, **tolerance, err_msg=name)
        np.testing.assert_allclose(a / scale, t / scale, **tolerance, err_msg=name)


@pytest.mark.parametrize("kernel, algorithm", [((3, 2), "offsets"), ((3, 3), "offsets"), ((3, 3), "winograd"),
                                               ((3, 2), "patches")])
def test_gradcheck(rng, kernel, algorithm):
    shapes = (11, 3, 5, 6), (4, 3) + kernel, (4,)
    x, w, b = (Tensor(rng.standard_normal(shape), requires_grad=True) for shape in shapes)
    assert gradcheck(lambda x, w, b: conv.conv2d(x, w, b, (1, 2), algorithm=algorithm), [x, w, b])
    assert gradcheck(lambda x, w: conv.conv2d(x, w, algorithm=algorithm), [x, w])


@pytest.mark.parametrize("case, algorithm", [(CASES[1][0], "offsets"), (CASES[6][0], "winograd"),
                                             (CASES[1][0], "patches")], ids=str)
def test_the_same_bits_on_one_thread_and_on_all(rng, case, algorithm):
    """Lanes, not threads, split the sums: 9 blocks of images give the same bits on any thread count."""
    x, w, b, padding, g = draw(rng, case, np.float32)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = run(x, w, b, padding, g, algorithm=algorithm)
    finally:
        numba.set_num_threads(threads)
    for a, c in zip(one, run(x, w, b, padding, g, algorithm=algorithm)):
        np.testing.assert_array_equal(a, c)


def test_the_winograd_cases_have_more_blocks_than_lanes_and_partial_blocks():
    """140 images of 4 × 4 tiles (8 × 8 outputs) fill more blocks than there are lanes, the last one
    partial; a single image beyond ``TILES_PER_BLOCK`` tiles still makes a block."""
    per_block = winograd.images_per_block(16)
    assert -(-140 // per_block) > winograd.LANES and 140 % per_block
    assert winograd.images_per_block(winograd.TILES_PER_BLOCK + 1) == 1


@pytest.mark.parametrize("channels, kernel, expected", [((64, 64), (3, 3), "Conv2dWinograd"),
                                                         ((32, 64), (3, 3), "Conv2dStride1"),
                                                         ((64, 64), (3, 2), "Conv2dStride1"),
                                                         ((64, 2), (3, 3), "Conv2dStride1"),
                                                         ((64, 1), (3, 3), "Conv2dPatches"),
                                                         ((4, 1), (9, 9), "Conv2dPatches")])
def test_auto_picks_the_kernel(rng, monkeypatch, channels, kernel, expected):
    """Patches for one input channel, Winograd for 3 × 3 kernels with ≥ 64 channels each side, else offsets."""
    picked = []
    for function in (conv.Conv2dStride1, conv.Conv2dWinograd, conv.Conv2dPatches):
        monkeypatch.setattr(function, "apply", classmethod(lambda cls, *args, **kwargs: picked.append(cls.__name__)))
    o, c = channels
    conv.conv2d(np.zeros((1, c, 9, 9), np.float32), np.zeros((o, c) + kernel, np.float32))
    assert picked == [expected]


def test_an_input_without_gradient_and_a_non_contiguous_one(rng):
    """The first layer's case (x needs no gradient: dW and db only), on a (C, N, H, W) array seen as
    (N, C, H, W)."""
    x_cnhw, w, b, padding, g = draw(rng, (3, 5, 4, 7, 7, 3, 3, 0), np.float64)
    x = x_cnhw.reshape(5, 3, 7, 7).transpose(1, 0, 2, 3)
    y, dx, dw, db = run(x, w, b, padding, g, x_grad=False)
    expected = conv_by_offsets(x, w, b, padding, g)
    assert dx is None
    for a, e in zip((y, dw, db), expected[:1] + expected[2:]):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


def test_nn_conv2d_runs_the_kernel_for_stride_1(rng, monkeypatch):
    calls = []
    kernel = conv.conv2d
    monkeypatch.setattr(conv, "conv2d", lambda *args, **kwargs: calls.append(1) or kernel(*args, **kwargs))
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    layer = nn.Conv2d(3, 4, 3, padding=1, rng=rng)
    y = layer(x)
    assert calls == [1] and y.shape == (2, 4, 8, 8)
    np.testing.assert_allclose(y.data, F.conv2d(x, layer.weight, layer.bias, 1, 1).data, rtol=1e-5, atol=1e-5)
    for other in (nn.Conv2d(3, 4, 3, stride=2, rng=rng), nn.Conv2d(3, 4, 3, rng=rng, dtype=np.float64)):
        other(x)  # stride 2, or x of another dtype than the weight: F.conv2d
    assert calls == [1]


@pytest.mark.parametrize("x, w, b, message", [
    (np.zeros((1, 2, 4, 4), np.int64), np.zeros((3, 2, 3, 3)), None, "x.dtype"),
    (np.zeros((1, 2, 4, 4), np.float32), np.zeros((3, 2, 3, 3)), None, "weight.dtype"),
    (np.zeros((1, 2, 4, 4)), np.zeros((3, 2, 3, 3)), np.zeros(3, np.float32), "bias.dtype"),
    (np.zeros((1, 2, 4, 4)), np.zeros((3, 1, 3, 3)), None, "weight must be"),
    (np.zeros((1, 2, 4, 4)), np.zeros((3, 2, 5, 3)), None, "weight: a 5×3 kernel"),
    (np.zeros((2, 4, 4)), np.zeros((3, 2, 3, 3)), None, "x must be"),
])
def test_bad_input_is_refused_by_name(x, w, b, message):
    with pytest.raises(ValueError, match=message):
        conv.conv2d(x, w, b)
    x, w = np.zeros((1, 2, 4, 4)), np.zeros((3, 2, 3, 3))
    with pytest.raises(ValueError, match="implementation"):
        conv.conv2d(x, w, implementation="torch")
    with pytest.raises(ValueError, match="algorithm"):
        conv.conv2d(x, w, algorithm="fft")
    with pytest.raises(ValueError, match="algorithm 'winograd' needs a 3×3 kernel"):
        conv.conv2d(x, np.zeros((3, 2, 3, 2)), algorithm="winograd")
