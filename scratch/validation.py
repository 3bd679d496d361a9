"""Argument checks for every public entry point, raising errors that name the argument.

The bottom layer of the package: it imports nothing of scratch, so datasets, kernels, layers and
models all use the same checks. Each returns the value in a plain Python type (``int``, ``float``,
a tuple) so the callers never keep a NumPy scalar or a ``bool`` by accident: ``True`` is an ``int``
in Python, and a check that forgets it lets ``window=True`` through as a window of 1.
"""
from __future__ import annotations

import codecs
import math
from typing import Any, Iterable, Sequence

import numpy as np


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def integer(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int in [minimum, maximum] (either bound may be None); ValueError otherwise."""
    if not _is_integer(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = {(False, False): "an integer", (True, False): f"an integer >= {minimum}",
                  (False, True): f"an integer <= {maximum}",
                  (True, True): f"an integer in [{minimum}, {maximum}]"}[(minimum is not None, maximum is not None)]
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    return int(value)


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1; ValueError otherwise (``True`` included)."""
    if not _is_integer(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def optional_positive_int(name: str, value: Any) -> int | None:
    """None, or ``value`` as an int >= 1."""
    return None if value is None else positive_int(name, value)


def real(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
         open_below: bool = False, open_above: bool = False) -> float:
    """``value`` as a finite float within the bounds (closed unless ``open_below`` / ``open_above``).

    Accepts Python and NumPy numbers of any width (``np.float32(1)`` as well as ``1``), never ``bool``,
    strings or infinities; ValueError naming the argument otherwise.
    """
    if not _is_real(value) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    below = minimum is not None and (value <= minimum if open_below else value < minimum)
    above = maximum is not None and (value >= maximum if open_above else value > maximum)
    if below or above:
        low = "" if minimum is None else ("(" if open_below else "[") + f"{minimum:g}"
        high = "" if maximum is None else f"{maximum:g}" + (")" if open_above else "]")
        raise ValueError(f"{name} must be in {low or '(-inf'}, {high or 'inf)'}, got {value!r}")
    return value


def positive_real(name: str, value: Any) -> float:
    """``value`` as a finite float > 0."""
    return real(name, value, minimum=0.0, open_below=True)


def probability(name: str, value: Any, *, allow_one: bool = True, allow_zero: bool = True) -> float:
    """``value`` as a float in [0, 1], with either end excluded on request."""
    return real(name, value, minimum=0.0, maximum=1.0, open_below=not allow_zero, open_above=not allow_one)


def boolean(name: str, value: Any) -> bool:
    """``value`` itself when it is a ``bool`` (or NumPy bool); ValueError for anything else, such as ``"no"``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` when it is one of ``choices``; ValueError listing them otherwise."""
    choices = tuple(choices)
    if isinstance(value, (bool, np.bool_)) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def int_pair(name: str, value: Any, minimum: int) -> tuple[int, int]:
    """An int or an (h, w) pair of ints, each >= ``minimum``, as a pair; ValueError otherwise."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(_is_integer(v) and v >= minimum for v in pair):
        raise ValueError(f"{name} must be an integer >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def shape(name: str, array: Any, expected: Sequence[int | None]) -> None:
    """ValueError unless ``array.shape`` matches ``expected`` (None matches any length on that axis)."""
    actual = tuple(np.shape(array))
    if len(actual) != len(expected) or any(e is not None and a != e for a, e in zip(actual, expected)):
        wanted = "(" + ", ".join("·" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"{name} must have shape {wanted}, got {actual}")


class NonFiniteError(ValueError, FloatingPointError):
    """An array argument holds NaN or an infinity: bad input (a ``ValueError``) and a floating-point
    failure (a ``FloatingPointError``, the kind the training loops stop a run on)."""


def finite(name: str, array: Any) -> None:
    """NonFiniteError naming the argument unless every entry of ``array`` is finite."""
    array = np.asarray(array)
    bad = array.size - int(np.count_nonzero(np.isfinite(array)))
    if bad:
        raise NonFiniteError(f"{name} contains NaN or infinite values ({bad} of {array.size} entries)")


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


def text_encoding(name: str, value: Any) -> str:
    """``value`` if it names a text codec Python knows (``"utf-8"``, ``"latin-1"`` ...), else ValueError."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be the name of a text encoding, got {type(value).__name__}")
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(f"{name} must be a known text encoding (such as 'utf-8' or 'latin-1'), "
                         f"got {value!r}") from None
    return value
