"""The float32 helpers of the attention kernels (exp32, the ordered integer keys of the maximum, the
finiteness check), each against NumPy computed independently (``gemm`` is tested in test_vq_attention.py)."""
import math

import numpy as np
import pytest
from numba import njit

from scratch.kernels.vector_math import all_finite, exp_like, order_key, row_dot, row_max, row_sum


@njit(cache=True)
def _exp_all(x):
    """exp_like over an array: exp32 for float32 x, math.exp for float64 x."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = exp_like(x[i])
    return out


@njit(cache=True)
def _keys(x):
    out = np.empty(x.shape[0], np.int64)
    for i in range(x.shape[0]):
        out[i] = order_key(x[i])
    return out


def _ulps(ours, x):
    exact = np.exp(x.astype(np.float64))
    return np.abs(ours.astype(np.float64) - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64)


@pytest.mark.parametrize("low, high, bound", [(-87.33, 0.0, 1.0), (0.0, 88.0, 1.0), (-1.0, 1.0, 1.0),
                                              (88.0, 88.72, 6.0)])
def test_exp32_within_stated_ulps(low, high, bound):
    x = np.linspace(low, high, 10_000_001, dtype=np.float32)
    assert _ulps(_exp_all(x), x).max() <= bound


def test_exp32_special_values_are_exact():
    x = np.array([-np.inf, -1e30, -100.0, -87.4, 0.0, -0.0, 88.8, 1e30, np.inf, np.nan], np.float32)
    out = _exp_all(x)
    np.testing.assert_array_equal(out[:4], 0.0)
    np.testing.assert_array_equal(out[4:6], 1.0)
    np.testing.assert_array_equal(out[6:9], np.inf)
    assert np.isnan(out[9])
    assert out.dtype == np.float32


def test_exp_like_is_math_exp_in_float64():
    x = np.random.default_rng(0).uniform(-700, 700, 100_000)
    np.testing.assert_array_equal(_exp_all(x), [math.exp(v) for v in x])


def test_order_keys_sort_like_the_floats():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(5000) * 10.0 ** rng.integers(-40, 38, 5000),
                        [-np.inf, np.inf, 0.0, -0.0, 1e-45, -1e-45, 3.4e38, -3.4e38]]).astype(np.float32)
    keys = _keys(x)
    order = np.argsort(keys, kind="stable")
    assert np.all(np.diff(x[order].astype(np.float64)) >= 0)
    assert keys[-6] > keys[-5]  # +0 above -0
    np.testing.assert_array_equal(_keys(x), _keys(x.copy()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_max_equals_numpy_max(dtype):
    rng = np.random.default_rng(2)
    for size in (1, 2, 15, 16, 17, 255, 256, 319):
        x = (rng.standard_normal(size) * 50).astype(dtype)
        assert row_max(x) == x.max()
        x[rng.integers(size)] = -np.inf
        assert row_max(x) == x.max()
    assert row_max(np.array([-np.inf] * 3, dtype)) == -np.inf
    assert row_max(np.array([1.0, np.inf, 2.0], dtype)) == np.inf
    assert row_max(np.array([-3.0, -1.0, -2.0], dtype)) == -1.0


def test_row_max_of_a_positive_nan_is_nan():
    assert np.isnan(row_max(np.array([1.0, np.nan, 5.0], np.float32)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_sum_and_row_dot_equal_numpy(dtype):
    rng = np.random.default_rng(6)
    for size in (0, 1, 15, 16, 17, 319):
        x, y = rng.standard_normal(size).astype(dtype), rng.standard_normal(size).astype(dtype)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        assert row_sum(x) == pytest.approx(float(x.astype(np.float64).sum()), rel=tol, abs=tol)
        assert row_dot(x, y) == pytest.approx(float(x.astype(np.float64) @ y), rel=tol, abs=tol)
    assert np.isnan(row_sum(np.array([1.0, np.nan, 2.0], dtype)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, None])
@pytest.mark.parametrize("shape", [(1,), (3, 17), (2, 5, 33)])
def test_all_finite_equals_numpy_wherever_the_bad_value_is(rng, dtype, bad, shape):
    size = int(np.prod(shape))
    for position in sorted({0, size // 2, size - 1}):
        x = (rng.standard_normal(shape) * 1e30).astype(dtype)  # large but finite: 0·x stays 0
        if bad is not None:
            x.reshape(-1)[position] = bad
        assert all_finite(x) == bool(np.isfinite(x).all()) == (bad is None)
    assert all_finite(np.zeros((0, 4), dtype))
