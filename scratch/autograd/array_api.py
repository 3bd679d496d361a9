"""NumPy-style free functions over Tensors (arrays are accepted and treated as constants).

Python and NumPy scalars stay weak operands, as with the operators: ``maximum(x, 0)`` keeps x's dtype.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import ops
from .tensor import Tensor, as_tensor, lift_operand

ArrayLike = Any


def concatenate(xs: Sequence[ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis``."""
    return ops.Concatenate.apply(*[as_tensor(x) for x in xs], axis=axis)


def stack(xs: Sequence[ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors along a new ``axis``."""
    return ops.Stack.apply(*[as_tensor(x) for x in xs], axis=axis)


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a`` where the boolean ``condition`` holds, else ``b`` (no gradient through ``condition``)."""
    condition = condition.data if isinstance(condition, Tensor) else condition
    return ops.Where.apply(condition, lift_operand(a), lift_operand(b))


def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise maximum (gradient split in half at ties)."""
    return ops.Maximum.apply(lift_operand(a), lift_operand(b))


def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise minimum (gradient split in half at ties)."""
    return ops.Minimum.apply(lift_operand(a), lift_operand(b))


def clip(x: ArrayLike, low: float | None = None, high: float | None = None) -> Tensor:
    """Clamp ``x`` into [low, high]; the gradient is zero where it was clamped."""
    if low is None and high is None:
        raise ValueError("clip: give at least one of low and high")
    return ops.Clip.apply(as_tensor(x), low=low, high=high)


def pad(x: ArrayLike, pad_width: Any, value: float = 0.0) -> Tensor:
    """Constant padding, ``pad_width`` as in ``np.pad``."""
    return ops.Pad.apply(as_tensor(x), pad_width=pad_width, value=value)


def take(x: ArrayLike, indices: ArrayLike, axis: int = 0) -> Tensor:
    """``np.take``: slices of ``x`` along ``axis`` picked by integer ``indices`` (any shape)."""
    indices = check_indices(indices, np.shape(x)[axis], "indices")
    return ops.Take.apply(as_tensor(x), indices, axis=axis)


def gather(x: ArrayLike, index: ArrayLike, axis: int) -> Tensor:
    """``torch.gather`` / ``np.take_along_axis``: ``z[..., i, ...] = x[..., index[..., i, ...], ...]``."""
    index = check_indices(index, np.shape(x)[axis], "index")
    return ops.Gather.apply(as_tensor(x), index, axis=axis)


def broadcast_to(x: ArrayLike, shape: Sequence[int]) -> Tensor:
    """Broadcast ``x`` to ``shape``; the gradient is summed back."""
    return ops.BroadcastTo.apply(as_tensor(x), shape=tuple(shape))


def check_indices(indices: ArrayLike, size: int, name: str, allow_negative: bool = True) -> np.ndarray:
    """``indices`` as an integer array, checked to address an axis of length ``size``.

    Raises ``TypeError`` (not integer) or ``IndexError`` (out of range) naming the argument ``name``.
    Negative indices count from the end, as in NumPy, unless ``allow_negative`` is False.
    """
    indices = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got dtype {indices.dtype}")
    low = -size if allow_negative else 0
    if indices.size and (indices.min() < low or indices.max() >= size):
        raise IndexError(f"{name} out of range [{low}, {size}): min {indices.min()}, max {indices.max()}")
    return indices
