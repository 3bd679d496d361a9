"""Initialisers: fan formulas, bounds and sample statistics of torch.nn.init's formulas."""
import math

import numpy as np
import pytest

from scratch import nn
from scratch.nn import init


@pytest.mark.parametrize("shape, fans", [((5, 3), (3, 5)), ((8, 4, 3, 2), (24, 48)), ((2, 7, 5), (35, 10))])
def test_fan_in_and_fan_out(shape, fans):
    assert init.fan_in_and_fan_out(shape) == fans


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.fan_in_and_fan_out((4,))


def test_gains():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        init.calculate_gain("swish")


def _filled(fill, shape=(400, 300), **kwargs):
    weight = nn.Parameter(np.zeros(shape, np.float32))
    assert fill(weight, rng=np.random.default_rng(0), **kwargs) is weight
    assert weight.dtype == np.float32
    return weight.data.astype(np.float64)


def _assert_uniform(samples, bound):
    """U(−bound, bound): inside the bound, mean 0 and variance bound²/3 (to a few standard errors)."""
    n = samples.size
    assert np.abs(samples).max() <= bound
    assert np.abs(samples).max() > 0.99 * bound
    assert abs(samples.mean()) < 4 * bound / math.sqrt(3 * n)
    assert samples.var() == pytest.approx(bound**2 / 3, rel=0.01)


def _assert_normal(samples, std):
    n = samples.size
    assert abs(samples.mean()) < 4 * std / math.sqrt(n)
    assert samples.std() == pytest.approx(std, rel=0.01)


def test_uniform_and_normal():
    _assert_uniform(_filled(init.uniform_, a=-0.5, b=0.5), 0.5)
    _assert_normal(_filled(init.normal_, std=0.02), 0.02)
    assert _filled(init.normal_, mean=3.0, std=0.1).mean() == pytest.approx(3.0, abs=1e-3)


def test_xavier_uniform_bound():
    _assert_uniform(_filled(init.xavier_uniform_, gain=2.0), 2.0 * math.sqrt(6 / (300 + 400)))


def test_xavier_normal_std():
    _assert_normal(_filled(init.xavier_normal_), math.sqrt(2 / (300 + 400)))


def test_kaiming_uniform_bound():
    _assert_uniform(_filled(init.kaiming_uniform_, nonlinearity="relu"), math.sqrt(2) * math.sqrt(3 / 300))
    _assert_uniform(_filled(init.kaiming_uniform_, a=math.sqrt(5)), 1 / math.sqrt(300))
    _assert_uniform(_filled(init.kaiming_uniform_, nonlinearity="relu", mode="fan_out"), math.sqrt(6 / 400))


def test_kaiming_normal_std():
    _assert_normal(_filled(init.kaiming_normal_, nonlinearity="relu"), math.sqrt(2 / 300))
    _assert_normal(_filled(init.kaiming_normal_, nonlinearity="tanh", mode="fan_out"), (5 / 3) / math.sqrt(400))


def test_kaiming_mode_is_checked():
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(np.zeros((2, 2)), mode="fan_avg")


def test_constants_and_arrays():
    array = np.full((2, 3), 5.0)
    assert init.zeros_(array) is array and not array.any()
    assert np.all(init.ones_(nn.Parameter(array)).data == 1)
    with pytest.raises(TypeError, match="t must be a Tensor or a numpy array"):
        init.zeros_([1.0, 2.0])


def test_a_seed_reproduces_the_draws():
    first = init.xavier_normal_(np.zeros((4, 4)), rng=np.random.default_rng(7))
    second = init.xavier_normal_(np.zeros((4, 4)), rng=np.random.default_rng(7))
    np.testing.assert_array_equal(first, second)


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        init.uniform_(np.zeros(3), rng=0)


def test_bad_ranges():
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(np.zeros(3), 1.0, 0.0)
    with pytest.raises(ValueError, match="std >= 0"):
        init.normal_(np.zeros(3), 0.0, -1.0)
