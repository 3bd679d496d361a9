"""2 × 2 max and average pooling: each Numba kernel == its twin (F.max_pool2d, F.avg_pool2d) to the last
bit (forward, gradient, ties, NaN, infinities, signed zeros, odd sizes, any leading axes), both == a
loop written here, gradcheck, nn.MaxPool2d's and nn.AvgPool2d's choice of the kernel, bad input."""
import numpy as np
import pytest

from scratch import Tensor, gradcheck, nn
from scratch.autograd import functional as F
from scratch.kernels.pool import (AvgPool2x2, MaxPool2x2, avg_pool2x2, avg_pool_backward_numba, avg_pool_forward_numba,
                                  max_pool2x2, max_pool_backward_numba, max_pool_forward_numba)

# (..., H, W): even and odd H and W, one window, no leading axis, several leading axes, an empty batch, and
# a batch of 2,048 planes (more than any thread's share)
SHAPES = [(2, 3, 4, 6), (2, 3, 5, 7), (1, 1, 2, 2), (3, 2), (2, 2, 3, 4, 5), (0, 3, 4, 4), (128, 16, 9, 8)]


def pool_loop(x, g):
    """y and dx written out window by window: the first maximal entry (row-major) takes the gradient."""
    planes = x.reshape((-1,) + x.shape[-2:])
    grads = g.reshape((len(planes),) + g.shape[-2:])
    y, dx = np.zeros(grads.shape), np.zeros(planes.shape)
    for k, p, q in np.ndindex(*grads.shape):
        window = [(2 * p + i, 2 * q + j) for i in range(2) for j in range(2)]
        values = [planes[k, r, c] for r, c in window]
        y[k, p, q] = max(values)
        dx[(k, *window[values.index(y[k, p, q])])] = grads[k, p, q]
    return y.reshape(g.shape), dx.reshape(x.shape)


def with_ties(rng, shape, dtype):
    """Values from a few levels, so that most windows hold a tie, with a random sign per entry."""
    return (rng.integers(-2, 3, shape) * rng.choice([-1.0, 1.0], shape)).astype(dtype)


def both(x, g, dtype, pool=max_pool2x2):
    """(y, dx) of the kernel ``pool`` and of its twin, for x and output gradient g."""
    results = []
    for implementation in ("numba", "numpy"):
        leaf = Tensor(x, requires_grad=True)
        y = pool(leaf, implementation=implementation)
        y.backward(g)
        assert y.dtype == leaf.grad.dtype == dtype
        results.append((y.data, leaf.grad))
    return results


def assert_bitwise_equal(a, b):
    assert a.shape == b.shape
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


def assert_equal_outputs(y, y_twin):
    """Bitwise, but for the sign of a maximum of −0 and +0 (NumPy's vector maximum may pick either)."""
    np.testing.assert_array_equal(y, y_twin)
    nonzero = y != 0
    np.testing.assert_array_equal(np.signbit(y[nonzero]), np.signbit(y_twin[nonzero]))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ties", [False, True])
def test_kernel_equals_twin_and_a_loop(rng, shape, dtype, ties):
    x = with_ties(rng, shape, dtype) if ties else rng.standard_normal(shape).astype(dtype)
    out_shape = shape[:-2] + (shape[-2] // 2, shape[-1] // 2)
    g = rng.standard_normal(out_shape).astype(dtype)
    (y, dx), (y_twin, dx_twin) = both(x, g, np.dtype(dtype))
    assert_equal_outputs(y, y_twin)
    assert_bitwise_equal(dx, dx_twin)
    y_loop, dx_loop = pool_loop(x, g)
    np.testing.assert_array_equal(y, y_loop)
    np.testing.assert_array_equal(dx, dx_loop)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_values_and_signed_zeros_as_the_twin(rng, dtype):
    shape = (3, 4, 9, 10)
    x = with_ties(rng, shape, dtype)
    x.flat[::23] = np.nan
    x.flat[1::19] = np.inf
    x.flat[2::17] = -np.inf
    x.flat[3::7] = -0.0
    g = rng.standard_normal((3, 4, 4, 5)).astype(dtype)
    g.flat[::5] = np.inf
    g.flat[1::11] = np.nan
    g.flat[2::3] *= -1
    with np.errstate(invalid="ignore"):
        (y, dx), (y_twin, dx_twin) = both(x, g, np.dtype(dtype))
    assert np.isnan(y).any() and np.isnan(dx).any() and np.isinf(dx).any() and np.signbit(dx[dx == 0]).any()
    assert_equal_outputs(y, y_twin)
    assert_bitwise_equal(dx, dx_twin)


def test_a_window_with_a_nan_drops_its_gradient_and_the_odd_edge_gets_zero():
    x = np.array([[1.0, np.nan, 2.0], [0.0, 3.0, 9.0], [7.0, 7.0, 7.0]])
    leaf = Tensor(x, requires_grad=True)
    y = max_pool2x2(leaf)
    y.backward(np.array([[5.0]]))
    assert np.isnan(y.data).all()
    np.testing.assert_array_equal(leaf.grad, np.zeros((3, 3)))


def test_numba_functions_on_planes_equal_the_loop(rng):
    x = with_ties(rng, (37, 7, 12), np.float64)
    g = rng.standard_normal((37, 3, 6))
    y = max_pool_forward_numba(x)
    y_loop, dx_loop = pool_loop(x, g)
    np.testing.assert_array_equal(y, y_loop)
    np.testing.assert_array_equal(max_pool_backward_numba(x, y, g), dx_loop)


def test_non_contiguous_input(rng):
    x = rng.standard_normal((5, 6, 2, 8)).transpose(3, 2, 0, 1)[..., ::-1, :]  # (8, 2, 5, 6), strided
    g = rng.standard_normal((8, 2, 2, 3))
    (y, dx), (y_twin, dx_twin) = both(x, g, np.dtype(np.float64))
    assert_equal_outputs(y, y_twin)
    assert_bitwise_equal(dx, dx_twin)


def test_gradcheck(rng):
    x = Tensor(rng.standard_normal((2, 3, 5, 6)), requires_grad=True)  # distinct values: no window on a kink
    assert gradcheck(max_pool2x2, [x])


def avg_pool_loop(x, g):
    """y and dx written out window by window in x's dtype: (((a + b) + c) + d) / 4, and g / 4 to each entry."""
    planes = x.reshape((-1,) + x.shape[-2:])
    grads = g.reshape((len(planes),) + g.shape[-2:])
    y, dx = np.zeros(grads.shape, x.dtype), np.zeros(planes.shape, x.dtype)
    four = x.dtype.type(4)
    for k, p, q in np.ndindex(*grads.shape):
        (a, b), (c, d) = planes[k, 2 * p:2 * p + 2, 2 * q:2 * q + 2]
        y[k, p, q] = (((a + b) + c) + d) / four
        dx[k, 2 * p:2 * p + 2, 2 * q:2 * q + 2] = grads[k, p, q] / four
    return y.reshape(g.shape), dx.reshape(x.shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_avg_kernel_equals_twin_and_a_loop_bitwise(rng, shape, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape[:-2] + (shape[-2] // 2, shape[-1] // 2)).astype(dtype)
    (y, dx), (y_twin, dx_twin) = both(x, g, np.dtype(dtype), avg_pool2x2)
    y_loop, dx_loop = avg_pool_loop(x, g)
    for ours, twin, loop in ((y, y_twin, y_loop), (dx, dx_twin, dx_loop)):
        assert_bitwise_equal(ours, twin)
        assert_bitwise_equal(ours, loop)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_avg_non_finite_values_and_signed_zeros_as_the_twin(rng, dtype):
    x = rng.standard_normal((3, 4, 9, 10)).astype(dtype)
    x.flat[::23] = np.nan
    x.flat[1::19] = np.inf
    x.flat[2::17] = -np.inf
    x.flat[3::5] = -0.0
    x[0, 0, :2, :2] = -0.0  # a window of −0 only: its mean is −0
    x[0, 1, :2, :2] = [[np.inf, 1.0], [-np.inf, 2.0]]  # inf − inf: NaN
    x[0, 2, :2, :2] = np.finfo(dtype).max  # the sum overflows to inf before the division, as in the twin
    g = rng.standard_normal((3, 4, 4, 5)).astype(dtype)
    g.flat[::5] = np.inf
    g.flat[1::11] = np.nan
    g.flat[2::7] = -0.0
    g.flat[3::13] = np.finfo(dtype).tiny  # a quarter of it is subnormal
    with np.errstate(invalid="ignore", over="ignore"):
        (y, dx), (y_twin, dx_twin) = both(x, g, np.dtype(dtype), avg_pool2x2)
    assert np.isnan(y).any() and np.isinf(y).any() and np.signbit(y[y == 0]).any()
    assert np.isnan(dx).any() and np.isinf(dx).any() and np.signbit(dx[dx == 0]).any()
    assert y[0, 2, 0, 0] == np.inf
    assert_bitwise_equal(y, y_twin)
    assert_bitwise_equal(dx, dx_twin)


def test_avg_numba_functions_on_planes_equal_the_loop(rng):
    x = rng.standard_normal((37, 7, 12))
    g = rng.standard_normal((37, 3, 6))
    y_loop, dx_loop = avg_pool_loop(x, g)
    np.testing.assert_array_equal(avg_pool_forward_numba(x), y_loop)
    np.testing.assert_array_equal(avg_pool_backward_numba(g, 7, 12), dx_loop)


def test_avg_non_contiguous_input_and_gradcheck(rng):
    x = rng.standard_normal((5, 6, 2, 8)).transpose(3, 2, 0, 1)[..., ::-1, :]  # (8, 2, 5, 6), strided
    g = rng.standard_normal((8, 2, 2, 3))
    (y, dx), (y_twin, dx_twin) = both(x, g, np.dtype(np.float64), avg_pool2x2)
    assert_bitwise_equal(y, y_twin)
    assert_bitwise_equal(dx, dx_twin)
    assert gradcheck(avg_pool2x2, [Tensor(rng.standard_normal((2, 3, 5, 6)), requires_grad=True)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("module, function, twin", [(nn.MaxPool2d, MaxPool2x2, F.max_pool2d),
                                                    (nn.AvgPool2d, AvgPool2x2, F.avg_pool2d)])
def test_nn_pools_run_the_kernels_for_2x2_stride_2(rng, monkeypatch, dtype, module, function, twin):
    calls = []
    monkeypatch.setattr(function, "apply", lambda x: calls.append(x) or twin(x, 2))
    x = rng.standard_normal((2, 3, 6, 5)).astype(dtype)
    module(2)(x)
    module((2, 2), stride=2)(x)
    assert len(calls) == 2
    module(2, stride=1)(x)
    module(3)(x)
    module(2)(x.astype(np.float16))
    assert len(calls) == 2


@pytest.mark.parametrize("pool", [max_pool2x2, avg_pool2x2])
@pytest.mark.parametrize("x, message", [
    (np.zeros(4), "x must be"), (np.zeros((3, 1, 4)), "x must be"), (np.zeros((2, 2), np.int64), "x.dtype"),
])
def test_bad_input_is_refused_by_name(pool, x, message):
    with pytest.raises(ValueError, match=message):
        pool(x)
    with pytest.raises(ValueError, match="implementation"):
        pool(np.zeros((2, 2)), implementation="c")
