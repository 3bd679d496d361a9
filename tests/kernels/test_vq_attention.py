"""VQ attention (spec transformer_vq.md §3, §8): blockwise == quadratic, L-invariance, causality, gradients,
Numba == NumPy reference, decoding == block-parallel forward, input checks; gemm."""
import numpy as np
import pytest
from numba import njit

from scratch import Tensor, gradcheck
from scratch.autograd import where
from scratch.autograd.functional import softmax
from scratch.kernels.vq_attention import (
    VQDecoder,
    fold_into_cache,
    quadratic_vq_attention,
    relative_bias_matrix,
    vq_attention,
    windowed_bias_attention,
)
from scratch.kernels.blas import gemm


def problem(rng, B=2, T=37, Dk=5, Dv=6, S=7, W=5, dtype=np.float64):
    """Random q, v, codes, codebook and bias with k̂ = C[codes] (the forward of the straight-through keys)."""
    codebook = rng.standard_normal((S, Dk)).astype(dtype)
    codes = rng.integers(0, S, (B, T))
    q = rng.standard_normal((B, T, Dk)).astype(dtype)
    v = rng.standard_normal((B, T, Dv)).astype(dtype)
    bias = tuple(x.astype(dtype) for x in (rng.standard_normal(Dk), rng.standard_normal(Dk),
                                           rng.standard_normal((W + 1, Dk))))
    return q, codebook[codes], v, codes, codebook, bias


@pytest.mark.parametrize("T, L, S, W", [(48, 4, 8, 4), (37, 8, 7, 5), (64, 16, 3, 16), (50, 7, 12, 0), (9, 16, 4, 3)])
@pytest.mark.parametrize("implementation", ["numpy", "numba"])
def test_blockwise_equals_quadratic(rng, T, L, S, W, implementation):
    q, k, v, codes, codebook, bias = problem(rng, T=T, S=S, W=W)
    quadratic = quadratic_vq_attention(q, k, v, codes, codebook, block=L, window_bias=bias).data
    blockwise = vq_attention(q, k, v, codes, codebook, block=L, window_bias=bias, implementation=implementation).data
    np.testing.assert_allclose(blockwise, quadratic, rtol=0, atol=1e-13)


def test_without_bias_equals_plain_causal_softmax(rng):
    q, k, v, codes, codebook, _ = problem(rng, T=30)
    out = vq_attention(q, k, v, codes, codebook, block=6).data
    scores = np.where(np.tril(np.ones((30, 30), bool)), q @ k.transpose(0, 2, 1), -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    np.testing.assert_allclose(out, (weights / weights.sum(-1, keepdims=True)) @ v, rtol=0, atol=1e-13)


def test_output_does_not_depend_on_the_block_length(rng):
    q, k, v, codes, codebook, bias = problem(rng, T=40, W=3)
    outs = [vq_attention(q, k, v, codes, codebook, block=L, window_bias=bias).data for L in (3, 4, 5, 8, 13, 40, 64)]
    for out in outs[1:]:
        np.testing.assert_allclose(out, outs[0], rtol=0, atol=1e-13)


def test_float32_matches_float64(rng):
    q, k, v, codes, codebook, bias = problem(rng, T=256, S=16, W=8)
    exact = vq_attention(q, k, v, codes, codebook, block=32, window_bias=bias).data
    single = vq_attention(*(x.astype(np.float32) for x in (q, k, v)), codes, codebook.astype(np.float32), block=32,
                          window_bias=tuple(x.astype(np.float32) for x in bias)).data
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, exact, rtol=0, atol=2e-5)


def test_relative_bias_matrix_is_the_rel_shift(rng):
    T, W = 9, 4
    position = rng.standard_normal((2, T, W + 1))
    expected = np.zeros((2, T, T))
    for t in range(T):
        for j in range(T):
            if 0 <= t - j <= W:
                expected[:, t, j] = position[:, t, t - j]
    np.testing.assert_array_equal(relative_bias_matrix(Tensor(position)).data, expected)


@pytest.mark.parametrize("implementation", ["numpy", "numba"])
def test_causality_jacobian_is_lower_triangular(rng, implementation):
    """∂o_t/∂(q_j, k̂_j, v_j) = 0 for j > t: catches an off-by-one in the block shift or the 2-block cache lag."""
    T = 14
    q, k, v, codes, codebook, bias = problem(rng, B=1, T=T, S=3, W=2)
    inputs = [Tensor(x, requires_grad=True) for x in (q, k, v)]
    for t in range(T):
        for x in inputs:
            x.grad = None
        out = vq_attention(*inputs, codes, codebook, block=3, window_bias=bias, implementation=implementation)
        out[:, t].sum().backward()
        for x in inputs:
            assert np.all(x.grad[:, t + 1:] == 0), f"output {t} depends on a later input"
        assert np.any(inputs[2].grad[:, t] != 0)
    # values two or more blocks back reach o_t only through the cache: their gradient must be non-zero too
    assert np.any(inputs[2].grad[:, :3] != 0)


@pytest.mark.parametrize("implementation", ["numpy", "numba"])
def test_gradcheck_with_fixed_codes(rng, implementation):
    """q, window keys k̂, v, u, w and r are smooth inputs once the codes and codebook are fixed (§8.1)."""
    q, k, v, codes, codebook, bias = problem(rng, B=2, T=23, Dk=4, Dv=3, S=5, W=3)
    inputs = [Tensor(x, requires_grad=True) for x in (q, k, v, *bias)]

    def fn(q, k, v, u, w, r):
        return vq_attention(q, k, v, codes, codebook, block=4, window_bias=(u, w, r), implementation=implementation)

    # the reference is checked entry by entry; the kernel (equal to it, test below) along random directions
    assert gradcheck(fn, inputs, max_elementwise=10_000 if implementation == "numpy" else 16, directions=12)


def test_gradients_equal_the_quadratic_reference(rng):
    """Autograd through the dense reference gives the same dq, dv, du, dw, dr; dk̂ agrees on the last two blocks
    (their every query is in the window) and differs earlier, where the blockwise form reads keys as C[z] (§2.5)."""
    L = 6
    q, k, v, codes, codebook, bias = problem(rng, T=36, W=4)
    grad_out = rng.standard_normal(v.shape)
    grads = []
    for attention in (vq_attention, quadratic_vq_attention):
        inputs = [Tensor(x, requires_grad=True) for x in (q, k, v, *bias)]
        (attention(*inputs[:3], codes, codebook, block=L, window_bias=tuple(inputs[3:])) * grad_out).sum().backward()
        grads.append([x.grad for x in inputs])
    for name, blockwise, quadratic in zip(("q", "k", "v", "u", "w", "r"), *grads):
        if name == "k":
            np.testing.assert_allclose(blockwise[:, -2 * L:], quadratic[:, -2 * L:], rtol=0, atol=1e-12)
            assert np.abs(blockwise[:, :-2 * L] - quadratic[:, :-2 * L]).max() > 1e-3
        else:
            np.testing.assert_allclose(blockwise, quadratic, rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("T, L", [(40, 8), (45, 7), (5, 8)])
def test_numba_equals_numpy_reference(rng, T, L):
    q, k, v, codes, codebook, bias = problem(rng, B=3, T=T, S=6, W=min(L, 5))
    grad_out = rng.standard_normal(v.shape)
    results = []
    for implementation in ("numpy", "numba"):
        inputs = [Tensor(x, requires_grad=True) for x in (q, k, v, *bias)]
        out = vq_attention(*inputs[:3], codes, codebook, block=L, window_bias=tuple(inputs[3:]),
                           implementation=implementation)
        (out * grad_out).sum().backward()
        results.append([out.data] + [x.grad for x in inputs])
    for name, numpy_value, numba_value in zip(("out", "q", "k", "v", "u", "w", "r"), *results):
        np.testing.assert_allclose(numba_value, numpy_value, rtol=0, atol=1e-12, err_msg=name)


def test_numba_equals_numpy_reference_with_large_logits(rng):
    """Logits spread over thousands, so that e^(s − m) overflows unless m is the true row maximum, over score
    rows longer than the kernel's vector lanes (window rows of 21 … 40 slots, 18 cache slots)."""
    q, k, v, codes, codebook, bias = problem(rng, B=2, T=100, S=18, W=5)
    q, k, codebook = 40 * q, 40 * k, 40 * codebook
    grad_out = rng.standard_normal(v.shape)
    results = []
    for implementation in ("numpy", "numba"):
        inputs = [Tensor(x, requires_grad=True) for x in (q, k, v, *bias)]
        out = vq_attention(*inputs[:3], codes, codebook, block=20, window_bias=tuple(inputs[3:]),
                           implementation=implementation)
        (out * grad_out).sum().backward()
        results.append([out.data] + [x.grad for x in inputs])
    assert np.ptp(q[0, :20] @ k[0, :20].T) > 2000
    for name, numpy_value, numba_value in zip(("out", "q", "k", "v", "u", "w", "r"), *results):
        assert np.all(np.isfinite(numba_value)), name
        np.testing.assert_allclose(numba_value, numpy_value, rtol=1e-10, atol=1e-10, err_msg=name)


def dense_blockwise_attention(q, k, v, codes, codebook, block, bias):
    """o_t = Σ_{j≤t} softmax_j(s(t, j)) v_j written densely from §1, with key j read as k̂_j when it lies in
    query t's block or the one before (j//L ≥ t//L − 1) and as the constant C[z_j] otherwise, so that its
    autograd gradients are the ones the blockwise form defines for every input; bias None means u = w = 0,
    W = 0. Engine ops only, no code of the kernel module."""
    T = q.shape[1]
    t, j = np.arange(T)[:, None], np.arange(T)[None, :]
    in_window = j // block >= t // block - 1
    old_keys = codebook[codes]
    if bias is None:
        qu, scores = q, 0.0
    else:
        u, w, r = bias
        qu = q + u
        # the (t, d, j) indicator of t − j = d spreads (q_t + w)·r_d over the keys at distance d ≤ W
        at_distance = (t[:, :, None] - j[:, None, :] == np.arange(r.shape[0])[None, :, None]).astype(float)
        scores = (((q + w) @ r.T)[:, :, :, None] * at_distance).sum(axis=2)
    scores = scores + where(in_window, qu @ k.transpose(0, 2, 1), qu @ old_keys.transpose(0, 2, 1))
    return softmax(where(j <= t, scores, -1e30), axis=-1) @ v


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("T, L, W", [(23, 6, 4), (19, 4, 4), (17, 3, 1)])
@pytest.mark.parametrize("implementation", ["numpy", "numba"])
def test_several_blocks_and_a_partial_one_equal_the_dense_form(rng, implementation, T, L, W, with_bias):
    """Four or more blocks, the last one partial (T = 3L + 5 and others): the output and the gradients
    w.r.t. q, k̂, v, u, w, r equal those of the dense form (``dense_blockwise_attention``), so every
    block boundary, the two-block lag of the cache and the reverse sum through the cache are exercised."""
    q, k, v, codes, codebook, bias = problem(rng, B=3, T=T, S=5, W=W)
    assert T % L and T // L >= 3
    grad_out = rng.standard_normal(v.shape)
    results = []
    for attention in ("blockwise", "dense"):
        inputs = [Tensor(x, requires_grad=True) for x in (q, k, v, *bias)]
        window_bias = tuple(inputs[3:]) if with_bias else None
        if attention == "blockwise":
            out = vq_attention(*inputs[:3], codes, codebook, block=L, window_bias=window_bias,
                               implementation=implementation)
        else:
            out = dense_blockwise_attention(*inputs[:3], codes, codebook, L, window_bias)
        (out * grad_out).sum().backward()
        results.append([out.data] + [x.grad for x in inputs[:6 if with_bias else 3]])
    for name, blockwise, dense in zip(("out", "q", "k", "v", "u", "w", "r"), *results):
        np.testing.assert_allclose(blockwise, dense, rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("with_bias", [True, False])
def test_decoding_equals_the_dense_form_over_several_blocks(rng, with_bias):
    """The constant-size decoder reproduces the dense definition and both blockwise forms for T = 3L + 5."""
    L, T = 6, 23
    q, k, v, codes, codebook, bias = problem(rng, B=3, T=T, S=5, W=4)
    bias = bias if with_bias else None
    decoder = VQDecoder(codebook, bias, batch=q.shape[0], dim_v=v.shape[2])
    steps = np.stack([decoder.step(q[:, t], k[:, t], v[:, t], codes[:, t]) for t in range(T)], axis=1)
    np.testing.assert_allclose(steps, dense_blockwise_attention(q, k, v, codes, codebook, L, bias).data,
                               rtol=0, atol=1e-13)
    for implementation in ("numpy", "numba"):
        parallel = vq_attention(q, k, v, codes, codebook, block=L, window_bias=bias, implementation=implementation)
        np.testing.assert_allclose(steps, parallel.data, rtol=0, atol=1e-13)


@pytest.mark.parametrize("W", [0, 1, 4])
def test_decoding_equals_block_parallel_forward(rng, W):
    q, k, v, codes, codebook, bias = problem(rng, T=30, W=W)
    parallel = vq_attention(q, k, v, codes, codebook, block=max(W, 1) + 2, window_bias=bias).data
    decoder = VQDecoder(codebook, bias, batch=q.shape[0], dim_v=v.shape[2])
    steps = np.stack([decoder.step(q[:, t], k[:, t], v[:, t], codes[:, t]) for t in range(q.shape[1])], axis=1)
    np.testing.assert_allclose(steps, parallel, rtol=0, atol=1e-13)
    assert decoder.keys.shape[1] == W and decoder.means.shape[1] == codebook.shape[0]


def test_windowed_bias_attention_at_all_distances(rng):
    """W ≥ T − 1 puts a bias on every pair: compare with an explicit loop."""
    q, k, v, _, _, (u, w, r) = problem(rng, B=1, T=6, W=8)
    out = windowed_bias_attention(q, k, v, (u, w, r)).data
    for t in range(6):
        scores = np.array([(q[0, t] + u) @ k[0, j] + (q[0, t] + w) @ r[t - j] for j in range(t + 1)])
        weights = np.exp(scores - scores.max())
        np.testing.assert_allclose(out[0, t], weights @ v[0, :t + 1] / weights.sum(), rtol=1e-12)


@pytest.mark.parametrize("change, message", [
    (lambda a: {**a, "k_hat": a["k_hat"][:, :-1]}, "k_hat"),
    (lambda a: {**a, "v": a["v"][:, :-1]}, "v must have shape"),
    (lambda a: {**a, "codes": a["codes"] + 100}, "codes must lie"),
    (lambda a: {**a, "codes": a["codes"].astype(float)}, "codes must be an integer"),
    (lambda a: {**a, "codebook": a["codebook"][:, :-1]}, "codebook"),
    (lambda a: {**a, "block": 0}, "block"),
    (lambda a: {**a, "block": True}, "block"),
    (lambda a: {**a, "block": 4.0}, "block"),
    (lambda a: {**a, "block": 2}, "bias range"),
    (lambda a: {**a, "window_bias": a["window_bias"][:2]}, "window_bias"),
    (lambda a: {**a, "q": a["q"].astype(np.float32)}, "float32 or float64 like q"),
])
def test_bad_input_is_named(rng, change, message):
    q, k, v, codes, codebook, bias = problem(rng, T=12, W=3)
    arguments = change(dict(q=q, k_hat=k, v=v, codes=codes, codebook=codebook, block=4, window_bias=bias))
    for attention in (vq_attention, quadratic_vq_attention):
        with pytest.raises(ValueError, match=message):
            attention(**arguments)
    with pytest.raises(ValueError, match="implementation"):
        vq_attention(q, k, v, codes, codebook, block=4, implementation="cuda")


def test_bad_decoder_and_dense_arguments_are_named(rng):
    q, k, v, codes, codebook, bias = problem(rng, T=4, W=2)
    for arguments, name in ((dict(batch=True, dim_v=6), "batch"), (dict(batch=2, dim_v=True), "dim_v")):
        with pytest.raises(ValueError, match=name):
            VQDecoder(codebook, bias, **arguments)
    with pytest.raises(ValueError, match="window_bias"):
        VQDecoder(codebook, bias[:2] + (bias[2][:, :-1],), batch=2, dim_v=6)
    decoder = VQDecoder(codebook, bias, batch=2, dim_v=6)
    with pytest.raises(ValueError, match="v must have shape"):
        decoder.step(q[:, 0], k[:, 0], v[:, 0, :-1], codes[:, 0])
    with pytest.raises(ValueError, match="visible"):
        windowed_bias_attention(q, k, v, bias, visible=True)


def test_fold_into_cache_keeps_counts_and_means_of_every_key_folded(rng):
    """Folding keys in three unequal batches gives the count and the mean of all of them per code, written
    here from their definition; a code no key uses keeps its mean and count (zero)."""
    S, Dv = 6, 3
    codes = rng.integers(0, S - 1, 25)
    values = rng.standard_normal((25, Dv))
    counts, means = np.zeros(S), np.zeros((S, Dv))
    for part in (slice(0, 1), slice(1, 11), slice(11, 25)):
        fold_into_cache(counts, means, codes[part], values[part])
    for s in range(S):
        chosen = codes == s
        assert counts[s] == chosen.sum()
        np.testing.assert_allclose(means[s], values[chosen].mean(0) if chosen.any() else 0.0, rtol=1e-14, atol=0)



@njit
def _products(x, y, c, d, e):
    gemm(x[:, 1:4], y[2:5], c[1:, :6], 0.0)  # a column block times a row block into a sub-block
    gemm(x[:, 1:4].T, x[:, 5:], d, 1.0)  # a transposed column block, added to d
    gemm(y.T, y[:, 2:3], e, 0.0)  # a transposed matrix times one column


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_writes_products_of_views_in_place(rng, dtype):
    """``gemm`` from jitted code (BLAS, leading dimensions and transpose flags) against NumPy in float64."""
    x, y = rng.standard_normal((7, 9)).astype(dtype), rng.standard_normal((5, 6)).astype(dtype)
    c = np.full((8, 10), np.nan, dtype)  # beta = 0 ignores what c held; the rest of c is left alone
    d, e = rng.standard_normal((3, 4)).astype(dtype), np.full((6, 1), np.nan, dtype)
    expected_d = d + x[:, 1:4].T.astype(np.float64) @ x[:, 5:]
    _products(x, y, c, d, e)
    tolerance = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(c[1:, :6], x[:, 1:4].astype(np.float64) @ y[2:5], rtol=0, atol=tolerance)
    assert np.isnan(c[0]).all() and np.isnan(c[:, 6:]).all()
    np.testing.assert_allclose(d, expected_d, rtol=0, atol=tolerance)
    np.testing.assert_allclose(e, y.T.astype(np.float64) @ y[:, 2:3], rtol=0, atol=tolerance)


@njit
def _product(a, b, c):
    gemm(a, b, c, 0.0)


def test_gemm_refuses_bad_operands(rng):
    x = rng.standard_normal((6, 6))
    with pytest.raises(ValueError, match="neither contiguous rows nor contiguous columns"):
        _product(x[::2, ::2], x[:3, :2], np.empty((3, 2)))
    with pytest.raises(ValueError, match="shapes"):
        _product(x[:3, :3], x[:4, :2], np.empty((3, 2)))
