"""``Tensor``: a NumPy array that remembers how it was made, and reverse-mode backward.

A tensor holds ``data`` (an ``np.ndarray``), ``grad`` (filled for leaves by ``backward``),
``requires_grad``, and the ``Node`` that produced it. Operators and NumPy-style methods build
the graph through the Functions in ``scratch.autograd.ops``.

``backward`` visits the graph in an iterative topological order (no recursion, so graphs of any
depth work), accumulates gradients of inner nodes in a dictionary, and adds them into ``.grad``
of the leaves. The graph is freed afterwards unless ``retain_graph=True``: each inner tensor's node
(and with it the arrays saved for backward) is replaced by a marker that makes a second backward
through it raise, instead of silently treating the tensor as a leaf.
"""
from __future__ import annotations

from typing import Any

import numpy as np


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation."""

    # Make ``ndarray <op> Tensor`` dispatch to the Tensor's reflected operator.
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        if isinstance(data, Tensor):
            data = data.data
        data = np.asarray(data, dtype=dtype)
        if requires_grad and data.dtype.kind != "f":
            raise TypeError(f"requires_grad needs a floating dtype, got {data.dtype}")
        self.data = data
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._node = None

    # ----------------------------------------------------------------- array-like attributes
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)
    is_leaf = property(lambda self: self._node is None)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, prefix='Tensor(')}{flag})"

    def numpy(self) -> np.ndarray:
        """The underlying array (not a copy)."""
        return self.data

    def item(self) -> float:
        return self.data.item()

    def detach(self) -> "Tensor":
        """A new leaf sharing ``data``, cut from the graph."""
        return Tensor(self.data)

    def zero_grad(self) -> None:
        self.grad = None

    # ----------------------------------------------------------------- backward
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) · ``grad`` into ``.grad`` of every leaf that requires it.

        ``grad`` defaults to 1 for a single-element tensor and must otherwise match ``self.shape``.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"grad must be given for a non-scalar output of shape {self.shape}")
            grad = np.ones_like(self.data)
        grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
        if grad.shape != self.shape:
            raise ValueError(f"grad has shape {grad.shape}, expected {self.shape}")

        grads = {id(self): grad}
        # Gradients only this walk holds (its own sums, and what a ``fresh_gradients`` Function returned),
        # by id: the first tensor to take one may keep it as it is. Kept alive here, so no id is reused.
        owned: dict[int, np.ndarray] = {}
        for tensor in reversed(_topological_order(self)):
            g = grads.pop(id(tensor), None)
            mine = g is not None and owned.pop(id(g), None) is g
            node = tensor._node
            if node is None:
                if g is not None:
                    tensor._accumulate(g, mine)
                continue
            if not retain_graph:
                tensor._node = _FREED
            if g is None:
                continue
            for parent, pg in zip(node.inputs, node.input_grads(g)):
                if parent is None or pg is None:
                    continue
                key = id(parent)
                if key in grads:
                    owned.pop(id(grads[key]), None)
                    pg = grads[key] + pg
                    owned[id(pg)] = pg
                elif node.function.fresh_gradients:
                    owned[id(pg)] = pg
                grads[key] = pg

    def _accumulate(self, g: np.ndarray, mine: bool = False) -> None:
        """Add g into ``.grad``; the first gradient is copied (C order: optimizers stream it beside C-order
        state) unless ``mine``: an array nothing else holds, kept as it is when it already has that form."""
        if g.shape != self.shape:
            raise RuntimeError(f"gradient of shape {g.shape} for a tensor of shape {self.shape}")
        if self.grad is None:
            keep = mine and g.base is None and g.dtype == self.dtype and g.flags.c_contiguous and g.flags.writeable
            self.grad = g if keep else np.array(g, dtype=self.dtype, order="C")
        else:
            self.grad += g

    # ----------------------------------------------------------------- arithmetic
    def __add__(self, other):
        return ops.Add.apply(self, lift_operand(other))

    def __radd__(self, other):
        return ops.Add.apply(lift_operand(other), self)

    def __sub__(self, other):
        return ops.Sub.apply(self, lift_operand(other))

    def __rsub__(self, other):
        return ops.Sub.apply(lift_operand(other), self)

    def __mul__(self, other):
        return ops.Mul.apply(self, lift_operand(other))

    def __rmul__(self, other):
        return ops.Mul.apply(lift_operand(other), self)

    def __truediv__(self, other):
        return ops.Div.apply(self, lift_operand(other))

    def __rtruediv__(self, other):
        return ops.Div.apply(lift_operand(other), self)

    def __pow__(self, exponent):
        return ops.Pow.apply(self, lift_operand(exponent))

    def __rpow__(self, base):
        return ops.Pow.apply(lift_operand(base), self)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __matmul__(self, other):
        return ops.MatMul.apply(self, lift_operand(other))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(lift_operand(other), self)

    # Comparisons give plain boolean arrays: they have no gradient.
    def __lt__(self, other):
        return self.data < _raw(other)

    def __le__(self, other):
        return self.data <= _raw(other)

    def __gt__(self, other):
        return self.data > _raw(other)

    def __ge__(self, other):
        return self.data >= _raw(other)

    # ----------------------------------------------------------------- elementwise functions
    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def sqrt(self):
        return ops.Sqrt.apply(self)

    def abs(self):
        return ops.Abs.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self)

    def sigmoid(self):
        return ops.Sigmoid.apply(self)

    def relu(self):
        return ops.Relu.apply(self)

    def clip(self, low=None, high=None):
        return ops.Clip.apply(self, low=low, high=high)

    def astype(self, dtype):
        return ops.Cast.apply(self, dtype=np.dtype(dtype))

    # ----------------------------------------------------------------- reductions
    def sum(self, axis=None, keepdims=False):
        return ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return ops.Min.apply(self, axis=axis, keepdims=keepdims)

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return ops.Reshape.apply(self, shape=tuple(shape))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return ops.Transpose.apply(self, axes=tuple(axes) if axes else None)

    @property
    def T(self):
        return self.transpose()

    def swapaxes(self, a: int, b: int):
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(axes)

    def broadcast_to(self, shape):
        return ops.BroadcastTo.apply(self, shape=tuple(shape))

    expand = broadcast_to

    def __getitem__(self, index):
        return ops.GetItem.apply(self, index=_raw_index(index))


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Make a tensor from array-like ``data`` (Python floats become float64, as in NumPy)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant tensor wrapping it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def lift_operand(other: Any) -> Any:
    """The other operand of an operator: a Tensor or a Python scalar; anything else becomes a Tensor.

    Scalars stay Python scalars, which NumPy treats as "weak" (``float32 * 2.0`` is float32), so an
    op never changes the tensor's dtype. NumPy scalars are turned into Python ones first: NumPy would
    treat ``np.float64(2.0)`` as strong and promote a float32 tensor to float64.
    """
    if isinstance(other, np.generic):
        other = other.item()
    if isinstance(other, (Tensor, int, float)):
        return other
    return Tensor(other)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _raw_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


class _FreedNode:
    """Stands in for the node of a tensor whose graph an earlier ``backward`` freed."""

    inputs = ()

    def input_grads(self, grad: np.ndarray) -> tuple:
        raise RuntimeError("backward through a graph that an earlier backward() already freed; "
                           "pass retain_graph=True to the first backward() to go through it twice")


_FREED = _FreedNode()


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root``, every tensor after all its inputs (iterative DFS)."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor._node is not None:
            stack.extend((p, False) for p in tensor._node.inputs if p is not None and id(p) not in visited)
    return order


from . import ops  # noqa: E402  (ops build on Function, which builds Tensors)
