"""Initialisers with the formulas of ``torch.nn.init``.

Each function fills a Tensor (or array) in place, keeping its dtype, and returns it. Random ones
draw from the ``np.random.Generator`` they are given (a fresh unseeded one when ``rng`` is None),
so seeding the generator reproduces a model.

For a weight of shape (out, in, *kernel) (a Linear weight is (out, in), a Conv2d weight
(out, in, kh, kw)), with receptive field r = ∏ kernel:

    fan_in = in · r,    fan_out = out · r.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Tensor
from ..validation import generator, real

_MODES = ("fan_in", "fan_out")


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape`` = (out, in, *kernel): (in · r, out · r), r = ∏ kernel."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight of at least 2 dimensions, got shape {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain g that keeps activations' variance stable through ``nonlinearity``.

    linear, conv2d, sigmoid: 1;  tanh: 5/3;  relu: √2;  leaky_relu with slope a (``param``,
    default 0.01): √(2 / (1 + a²)).
    """
    if nonlinearity in ("linear", "conv2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else real("param", param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    raise ValueError(f"nonlinearity must be one of linear, conv2d, sigmoid, tanh, relu, leaky_relu; "
                     f"got {nonlinearity!r}")


def uniform_(t: Tensor | np.ndarray, a: float = 0.0, b: float = 1.0,
             rng: np.random.Generator | None = None) -> Tensor | np.ndarray:
    """Fill ``t`` with draws from U(a, b), a ≤ b finite."""
    a, b = real("a", a), real("b", b)
    if not a <= b:
        raise ValueError(f"uniform_ needs a <= b, got a={a}, b={b}")
    array = _array(t)
    array[...] = generator("rng", rng).uniform(a, b, array.shape)
    return t


def normal_(t: Tensor | np.ndarray, mean: float = 0.0, std: float = 1.0,
            rng: np.random.Generator | None = None) -> Tensor | np.ndarray:
    """Fill ``t`` with draws from N(mean, std²), mean finite, std ≥ 0 finite."""
    mean, std = real("mean", mean), real("std", std)
    if not std >= 0:
        raise ValueError(f"normal_ needs std >= 0, got {std}")
    array = _array(t)
    array[...] = generator("rng", rng).normal(mean, std, array.shape)
    return t


def zeros_(t: Tensor | np.ndarray) -> Tensor | np.ndarray:
    """Fill ``t`` with 0."""
    _array(t)[...] = 0
    return t


def ones_(t: Tensor | np.ndarray) -> Tensor | np.ndarray:
    """Fill ``t`` with 1."""
    _array(t)[...] = 1
    return t


def xavier_uniform_(t: Tensor | np.ndarray, gain: float = 1.0,
                    rng: np.random.Generator | None = None) -> Tensor | np.ndarray:
    """Glorot & Bengio (2010): U(−a, a) with a = gain · √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(t.shape)
    bound = real("gain", gain) * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, rng)


def xavier_normal_(t: Tensor | np.ndarray, gain: float = 1.0,
                   rng: np.random.Generator | None = None) -> Tensor | np.ndarray:
    """Glorot & Bengio (2010): N(0, σ²) with σ = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(t.shape)
    return normal_(t, 0.0, real("gain", gain) * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def kaiming_uniform_(t: Tensor | np.ndarray, a: float = 0.0, nonlinearity: str = "leaky_relu",
                     mode: str = "fan_in", rng: np.random.Generator | None = None) -> Tensor | np.ndarray:
    """He et al. (2015): U(−bound, bound) with bound = g · √(3 / fan), g = ``calculate_gain(nonlinearity, a)``.

    ``fan`` is fan_in (``mode="fan_in"``, preserves the forward variance) or fan_out. With the
    default leaky_relu and a = √5 (torch's Linear and Conv2d), bound = 1/√fan_in.
    """
    bound = math.sqrt(3.0) * _kaiming_std(t.shape, a, nonlinearity, mode)
    return uniform_(t, -bound, bound, rng)


def kaiming_normal_(t: Tensor | np.ndarray, a: float = 0.0, nonlinearity: str = "leaky_relu",
                    mode: str = "fan_in", rng: np.random.Generator | None = None) -> Tensor | np.ndarray:
    """He et al. (2015): N(0, σ²) with σ = g / √fan, g = ``calculate_gain(nonlinearity, a)``."""
    return normal_(t, 0.0, _kaiming_std(t.shape, a, nonlinearity, mode), rng)


def _kaiming_std(shape: tuple[int, ...], a: float, nonlinearity: str, mode: str) -> float:
    if mode not in _MODES:
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in_and_fan_out(shape)[_MODES.index(mode)]
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def _array(t: Tensor | np.ndarray) -> np.ndarray:
    if isinstance(t, Tensor):
        return t.data
    if isinstance(t, np.ndarray):
        return t
    raise TypeError(f"t must be a Tensor or a numpy array, got {type(t).__name__}")
