"""window_attention: Numba kernel == NumPy reference == masked dense attention (within one query block
and across several), the log-n factors, gradchecks, bad input."""
import math

import numpy as np
import pytest

from scratch import Tensor, gradcheck, where
from scratch.kernels.window_attention import (QUERY_BLOCK, log_n_factors, window_attention,
                                              window_attention_backward_numba, window_attention_forward_numba)
from scratch.autograd.functional.attention import causal_mask, dense_attention


def _inputs(rng, shape=(2, 3, 37, 4)):
    return [rng.standard_normal(shape) for _ in range(3)]


def _log_n_formula(seq_len, window, log_n):
    """c_t = log(min(t + 1, w)) / log N, row by row: query t sees min(t + 1, w) keys."""
    return np.array([math.log(min(t + 1, window)) / math.log(log_n) for t in range(seq_len)])


def _dense(q, k, v, window, bias, log_n):
    """Quadratic causal attention with the window as a (T, T) mask: s_tj = c_t q_t·k_j / √D + β_h(t − j)
    for 0 ≤ t − j < w, softmax over j, then Σ_j p_tj v_j. Tensors in, a Tensor out (for the gradients)."""
    seq_len, dim = q.shape[2], q.shape[3]
    delta = np.arange(seq_len)[:, None] - np.arange(seq_len)[None, :]
    visible = (delta >= 0) & (delta < window)
    c = np.ones(seq_len) if log_n is None else _log_n_formula(seq_len, window, log_n)
    logits = (q @ k.swapaxes(-1, -2)) * (c[:, None] / math.sqrt(dim))
    if bias is not None:
        logits = logits + bias[:, np.clip(delta, 0, window - 1)]
    logits = where(visible, logits, np.array(-1e30))
    weights = (logits - logits.data.max(axis=-1, keepdims=True)).exp()
    return (weights @ v) / weights.sum(axis=-1, keepdims=True)


def _value_and_grads(fn, arrays, upstream):
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    (out * upstream).sum().backward()
    return [out.data] + [t.grad for t in tensors]


@pytest.mark.parametrize("window", [1, 5, 16, 37, 60])
@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("log_n", [None, 16])
@pytest.mark.parametrize("implementation", ["numba", "numpy"])
def test_equals_masked_dense_attention(window, with_bias, log_n, implementation):
    rng = np.random.default_rng(window)
    q, k, v = _inputs(rng)
    bias = rng.standard_normal((3, window))
    upstream = rng.standard_normal(q.shape)
    arrays = [q, k, v, bias] if with_bias else [q, k, v]

    def kernel(q, k, v, b=None):
        return window_attention(q, k, v, window, bias=b, log_n=log_n, implementation=implementation)

    def dense(q, k, v, b=None):
        return _dense(q, k, v, window, b, log_n)

    for ours, theirs in zip(_value_and_grads(kernel, arrays, upstream), _value_and_grads(dense, arrays, upstream)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seq_len", [QUERY_BLOCK + 1, 200, 520])
@pytest.mark.parametrize("window", [1, 30, QUERY_BLOCK, 100, 600])
@pytest.mark.parametrize("log_n", [None, 48])
@pytest.mark.parametrize("implementation", ["numba", "numpy"])
def test_spanning_several_query_blocks_equals_masked_dense_attention(seq_len, window, log_n, implementation):
    """Output and dq, dk, dv, dβ over 2 to 9 query blocks (a partial last block included), windows
    smaller than, equal to and larger than the block, and larger than T: a key is then seen by the
    queries of two blocks, so its dk, dv and the dβ of a distance collect from both."""
    rng = np.random.default_rng(seq_len + window)
    q, k, v = _inputs(rng, (2, 2, seq_len, 3))
    bias = rng.standard_normal((2, window))
    upstream = rng.standard_normal(q.shape)

    def kernel(q, k, v, b):
        return window_attention(q, k, v, window, bias=b, log_n=log_n, implementation=implementation)

    def dense(q, k, v, b):
        return _dense(q, k, v, window, b, log_n)

    results = zip(_value_and_grads(kernel, [q, k, v, bias], upstream),
                  _value_and_grads(dense, [q, k, v, bias], upstream))
    for name, (ours, theirs) in zip(("o", "dq", "dk", "dv", "dbias"), results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("seq_len, window, log_n", [(1, 1, 2), (10, 1, 64), (10, 4, 64), (200, 30, 48),
                                                     (200, 600, 48), (520, 64, 512.5)])
def test_log_n_factors_are_log_visible_keys_over_log_n(seq_len, window, log_n):
    """c_t = log(min(t + 1, w)) / log N for each row t; all ones without log-n."""
    np.testing.assert_allclose(log_n_factors(seq_len, window, log_n), _log_n_formula(seq_len, window, log_n),
                               rtol=1e-14, atol=0)
    np.testing.assert_array_equal(log_n_factors(seq_len, window, None), np.ones(seq_len))


@pytest.mark.parametrize("window", [20, 70])
def test_gradcheck_across_query_blocks(window):
    """Finite differences of the Numba kernel, entry by entry, over three query blocks (two full, then 22)."""
    rng = np.random.default_rng(window)
    q, k, v = _inputs(rng, (1, 1, 2 * QUERY_BLOCK + 22, 2))
    bias = rng.standard_normal((1, window))
    tensors = [Tensor(a, requires_grad=True) for a in (q, k, v, bias)]
    assert gradcheck(lambda q, k, v, b: window_attention(q, k, v, window, bias=b, log_n=100), tensors)


def test_window_covering_the_sequence_is_full_causal_attention():
    rng = np.random.default_rng(1)
    q, k, v = _inputs(rng)
    full = dense_attention(q, k, v, mask=causal_mask(q.shape[2])).data
    for window in (q.shape[2], 2 * q.shape[2]):
        np.testing.assert_allclose(window_attention(q, k, v, window).data, full, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("implementation", ["numba", "numpy"])
def test_gradcheck(implementation):
    rng = np.random.default_rng(2)
    q, k, v = _inputs(rng, (1, 2, 9, 4))
    bias = rng.standard_normal((2, 4))
    tensors = [Tensor(a, requires_grad=True) for a in (q, k, v, bias)]
    assert gradcheck(lambda q, k, v, b: window_attention(q, k, v, 4, bias=b, log_n=8,
                                                         implementation=implementation), tensors)


def test_float32_keeps_dtype_and_matches_float64():
    rng = np.random.default_rng(3)
    q, k, v = _inputs(rng, (1, 2, 300, 8))
    o32 = window_attention(*(a.astype(np.float32) for a in (q, k, v)), 50)
    assert o32.dtype == np.float32
    np.testing.assert_allclose(o32.data, window_attention(q, k, v, 50).data, atol=1e-5)


@pytest.mark.torch
def test_torch_sdpa_with_the_same_mask():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    q, k, v = _inputs(rng, (2, 2, 40, 8))
    mask = torch.tensor(causal_mask(40, 7))
    expected = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), attn_mask=mask)
    np.testing.assert_allclose(window_attention(q, k, v, 7).data, expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    ({"window": 0}, "window"), ({"window": 2.5}, "window"), ({"window": True}, "window"),
    ({"window": np.bool_(True)}, "window"), ({"window": "4"}, "window"),
    ({"bias": np.zeros((2, 3))}, "bias"), ({"bias": np.zeros((2, 4), np.float32)}, "bias.dtype"),
    ({"log_n": 1}, "log_n"), ({"log_n": 0.5}, "log_n"), ({"log_n": True}, "log_n"), ({"log_n": np.inf}, "log_n"),
    ({"log_n": np.nan}, "log_n"), ({"log_n": "64"}, "log_n"),
    ({"implementation": "cuda"}, "implementation"), ({"implementation": True}, "implementation"),
    ({"scale": np.inf}, "scale"), ({"scale": np.float32(np.nan)}, "scale"), ({"scale": True}, "scale"),
    ({"scale": "0.5"}, "scale"),
])
def test_bad_input(kwargs, match):
    q, k, v = _inputs(np.random.default_rng(5), (1, 2, 6, 4))
    args = {"window": 4, **kwargs}
    window = args.pop("window")
    with pytest.raises(ValueError, match=match):
        window_attention(q, k, v, window, **args)


def test_numpy_scalars_of_any_width_are_accepted():
    """window, scale and log_n as NumPy scalars give the same result as the Python numbers."""
    q, k, v = _inputs(np.random.default_rng(7), (1, 2, 6, 4))
    expected = window_attention(q, k, v, 3, scale=0.5, log_n=16).data
    for window, scale, log_n in ((np.int64(3), np.float32(0.5), np.float32(16)),
                                 (np.int32(3), np.float16(0.5), np.int16(16))):
        np.testing.assert_array_equal(window_attention(q, k, v, window, scale=scale, log_n=log_n).data, expected)


def test_bad_shapes_and_dtypes():
    q, k, v = _inputs(np.random.default_rng(6), (1, 2, 6, 4))
    with pytest.raises(ValueError, match="k must have shape"):
        window_attention(q, k[:, :, :5], v, 3)
    with pytest.raises(ValueError, match="v must have shape"):
        window_attention(q, k, v[..., :3], 3)
    with pytest.raises(ValueError, match="q must have shape"):
        window_attention(q[0], k[0], v[0], 3)
    with pytest.raises(ValueError, match="k.dtype"):
        window_attention(q, k.astype(np.float32), v, 3)
    with pytest.raises(ValueError, match="q.dtype"):
        window_attention(*(a.astype(np.float16) for a in (q, k, v)), 3)
    with pytest.raises(ValueError, match="q.dtype"):
        window_attention(*(a.astype(np.int64) for a in (q, k, v)), 3)


@pytest.mark.parametrize("implementation", ["numba", "numpy"])
def test_head_size_zero_is_an_error_naming_q(implementation):
    empty = np.zeros((1, 2, 6, 0))
    with pytest.raises(ValueError, match=r"q\.shape\[3\], the head size D"):
        window_attention(empty, empty, empty, 3, implementation=implementation)
    with pytest.raises(ValueError, match=r"q\.shape\[3\]"):
        window_attention(empty, empty, empty, 3, scale=1.0, implementation=implementation)


@pytest.mark.parametrize("args, match", [
    ((5, True, 16), "window"), ((5, 0, 16), "window"), ((True, 3, 16), "seq_len"), ((-1, 3, 16), "seq_len"),
    ((5.0, 3, 16), "seq_len"), ((5, 3, 1), "log_n"), ((5, 3, np.inf), "log_n"), ((5, 3, False), "log_n"),
])
def test_log_n_factors_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        log_n_factors(*args)


@pytest.mark.parametrize("window", [5, QUERY_BLOCK, QUERY_BLOCK + 6, 200])
@pytest.mark.parametrize("log_n", [None, 16])
def test_float32_kernel_equals_float64_dense_over_several_blocks(window, log_n):
    """The float32 path (exp32, the integer-key maximum, BLAS in place) against the float64 masked dense
    form: T = 3 blocks + 13, values and every gradient within float32 rounding."""
    rng = np.random.default_rng(window)
    q, k, v = _inputs(rng, (2, 2, 3 * QUERY_BLOCK + 13, 8))
    bias = rng.standard_normal((2, window))
    upstream = rng.standard_normal(q.shape)
    theirs = _value_and_grads(lambda q, k, v, b: _dense(q, k, v, window, b, log_n), [q, k, v, bias], upstream)
    ours = _value_and_grads(lambda q, k, v, b: window_attention(q, k, v, window, bias=b, log_n=log_n),
                            [a.astype(np.float32) for a in (q, k, v, bias)], upstream.astype(np.float32))
    for name, a, b in zip(("o", "dq", "dk", "dv", "dbias"), ours, theirs):
        assert a.dtype == np.float32, name
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5 * np.abs(b).max(), err_msg=name)


@pytest.mark.parametrize("window", [7, QUERY_BLOCK + 6])
def test_backward_kernel_ignores_what_its_output_arrays_held(rng, window):
    """The Numba backward writes every entry of dq, dk, dv and dβ whatever they held: the same gradients
    from arrays of NaN as from zeros (each key's dk, dv rows are zeroed by the block it enters in)."""
    heads, seq_len, dim = 3, 2 * QUERY_BLOCK + 9, 4
    q, k, v, grad = (rng.standard_normal((heads, seq_len, dim)) for _ in range(4))
    bias = rng.standard_normal((heads, window))
    row_scale = np.full(seq_len, 0.5)
    o, lse = np.empty_like(q), np.empty((heads, seq_len))
    window_attention_forward_numba(q, k, v, bias, window, row_scale, QUERY_BLOCK, o, lse)
    results = []
    for fill in (0.0, np.nan):
        outputs = [np.full(q.shape, fill) for _ in range(3)] + [np.full((heads, window), fill)]
        window_attention_backward_numba(grad, q, k, v, bias, window, row_scale, QUERY_BLOCK, o, lse, *outputs)
        results.append(outputs)
    for from_zeros, from_nan in zip(*results):
        np.testing.assert_array_equal(from_nan, from_zeros)
