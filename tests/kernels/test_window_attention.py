"""window_attention: Numba kernel == NumPy reference == masked dense attention, gradchecks, bad input."""
import numpy as np
import pytest

from scratch import Tensor, gradcheck
from scratch.kernels.window_attention import log_n_factors, window_attention
from scratch.models.attention import causal_mask, dense_attention, relative_positions


def _inputs(rng, shape=(2, 3, 37, 4)):
    return [rng.standard_normal(shape) for _ in range(3)]


def _dense(q, k, v, window, bias, log_n):
    seq_len = q.shape[2]
    rel = relative_positions(seq_len)
    dense_bias = None if bias is None else bias[:, np.clip(rel, 0, window - 1)]
    c = None if log_n is None else log_n_factors(seq_len, window, log_n)
    return dense_attention(q, k, v, mask=causal_mask(seq_len, window), bias=dense_bias, row_scale=c)


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


def test_torch_sdpa_with_the_same_mask():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    q, k, v = _inputs(rng, (2, 2, 40, 8))
    mask = torch.tensor(causal_mask(40, 7))
    expected = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), attn_mask=mask)
    np.testing.assert_allclose(window_attention(q, k, v, 7).data, expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    ({"window": 0}, "window"), ({"window": 2.5}, "window"), ({"bias": np.zeros((2, 3))}, "bias"),
    ({"log_n": 1}, "log_n"), ({"implementation": "cuda"}, "implementation"), ({"scale": np.inf}, "scale"),
])
def test_bad_input(kwargs, match):
    q, k, v = _inputs(np.random.default_rng(5), (1, 2, 6, 4))
    args = {"window": 4, **kwargs}
    window = args.pop("window")
    with pytest.raises(ValueError, match=match):
        window_attention(q, k, v, window, **args)


def test_bad_shapes_and_dtypes():
    q, k, v = _inputs(np.random.default_rng(6), (1, 2, 6, 4))
    with pytest.raises(ValueError, match="shape"):
        window_attention(q, k[:, :, :5], v, 3)
    with pytest.raises(ValueError, match="dtype"):
        window_attention(q, k.astype(np.float32), v, 3)
