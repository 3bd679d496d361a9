"""The unit of differentiation: a ``Function`` with a forward and a backward rule.

The vocabulary is PyTorch's, so an op here can be read next to its ``torch.autograd.Function``
twin::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = np.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

``forward`` receives NumPy arrays (and any non-tensor arguments unchanged) and returns one array;
``backward`` receives the gradient of the output and returns one gradient per positional input
(``None`` where no gradient is needed). ``Function.apply`` runs the forward and records the node
only when grad mode is on and some input requires a gradient.
"""
from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from .tensor import Tensor

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether ``Function.apply`` records nodes for backward."""
    return _grad_enabled


@contextlib.contextmanager
def no_grad():
    """Context manager (and decorator) that disables graph recording inside its block."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


class Context:
    """What ``forward`` leaves for ``backward``: saved arrays, flags and any attributes set on it."""

    def __init__(self, needs_input_grad: tuple[bool, ...]):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple[Any, ...] = ()

    def save_for_backward(self, *arrays: Any) -> None:
        self.saved_tensors = arrays


class Node:
    """A recorded application of a Function: its context and the input tensors (None for constants)."""

    __slots__ = ("function", "ctx", "inputs")

    def __init__(self, function: type, ctx: Context, inputs: tuple):
        self.function = function
        self.ctx = ctx
        self.inputs = inputs

    def input_grads(self, grad: np.ndarray) -> tuple:
        grads = self.function.backward(self.ctx, grad)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(self.inputs):
            raise RuntimeError(
                f"{self.function.__name__}.backward returned {len(grads)} gradients "
                f"for {len(self.inputs)} inputs"
            )
        return grads


class Function:
    """Base class of differentiable operations (see the module docstring).

    ``fresh_gradients``: True when ``backward`` returns arrays it allocated itself, one per input and held
    nowhere else. A leaf may then keep such an array as its ``.grad`` instead of a copy (``Tensor.backward``):
    for the attention and routing kernels, whose gradients are as large as their inputs, the copy costs
    several milliseconds per call.
    """

    fresh_gradients = False

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
        record = _grad_enabled and True in needs
        ctx = Context(needs)
        out = Tensor(cls.forward(ctx, *[a.data if isinstance(a, Tensor) else a for a in args], **kwargs),
                     requires_grad=record)
        if record:
            out._node = Node(cls, ctx, tuple([a if need else None for a, need in zip(args, needs)]))
        return out
