"""Checks for layer constructor arguments, raising errors that name the argument."""
from __future__ import annotations

from typing import Any

import numpy as np


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int, or ValueError unless it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def floating_dtype(name: str, value: Any) -> np.dtype:
    """``value`` as a NumPy dtype, or TypeError unless it is a floating-point type."""
    dtype = np.dtype(value)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point dtype, got {dtype}")
    return dtype


def generator(name: str, value: np.random.Generator | None) -> np.random.Generator:
    """``value`` itself, a fresh unseeded Generator when it is None, or TypeError otherwise."""
    if value is None:
        return np.random.default_rng()
    if not isinstance(value, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator or None, got {type(value).__name__}")
    return value
