"""Ops that move entries around: reshape, transpose, broadcast, indexing, gather, join, pad.

Every backward routes each output gradient entry back to the input entry it came from. Where one
input entry feeds several outputs (broadcasting, repeated indices), the contributions are summed:
indexing scatter-adds (``np.add.at``, or a sparse one-hot product for whole rows), never
``g[idx] += ...``, which drops repeats.
"""
import numpy as np
from scipy import sparse

from ..broadcast import unbroadcast
from ..function import Function


class Reshape(Function):
    """z = x viewed with a new ``shape`` (one entry may be −1)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return np.reshape(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return np.reshape(grad, ctx.shape)


class Transpose(Function):
    """z = x with its axes permuted by ``axes`` (reversed when None)."""

    @staticmethod
    def forward(ctx, x, axes=None):
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        inverse = None if ctx.axes is None else tuple(np.argsort(ctx.axes))
        return np.transpose(grad, inverse)


class BroadcastTo(Function):
    """z = x broadcast to ``shape``; backward sums over the stretched axes."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.shape)


def _is_basic(index) -> bool:
    """True when ``index`` has only ints, slices, None and Ellipsis (so no entry repeats)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


class GetItem(Function):
    """z = x[index], NumPy basic or advanced (integer / boolean array) indexing."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        g = np.zeros(ctx.shape, dtype=grad.dtype)
        if _is_basic(ctx.index):
            g[ctx.index] = grad
        else:
            np.add.at(g, ctx.index, grad)
        return g


class Take(Function):
    """z = np.take(x, indices, axis): whole slices of x picked by integer ``indices`` along ``axis``.

    ``z.shape = x.shape[:axis] + indices.shape + x.shape[axis+1:]``; backward scatter-adds.
    """

    @staticmethod
    def forward(ctx, x, indices, axis=0):
        indices = np.asarray(indices)
        axis = axis % x.ndim
        ctx.shape, ctx.indices, ctx.axis = x.shape, indices, axis
        return np.take(x, indices, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        axis, indices, length = ctx.axis, ctx.indices, ctx.shape[ctx.axis]
        picked = grad.reshape(grad.shape[:axis] + (indices.size,) + grad.shape[axis + indices.ndim:])
        rows = np.moveaxis(picked, axis, 0)
        g = scatter_add_rows(indices.ravel() % length, rows.reshape(indices.size, -1), length)
        return np.moveaxis(g.reshape((length,) + rows.shape[1:]), 0, axis), None


def scatter_add_rows(indices: np.ndarray, rows: np.ndarray, length: int) -> np.ndarray:
    """out (length, d) with out[k] = Σ_{i : indices[i] = k} rows[i], for rows (n, d).

    Computed as Sᵀ rows with the sparse one-hot matrix S (n × length, S[i, indices[i]] = 1): a
    compiled sparse product, many times faster than ``np.add.at`` on rows of a matrix.
    """
    n = indices.size
    one_hot = sparse.csr_matrix((np.ones(n, rows.dtype), indices, np.arange(n + 1)), shape=(n, length))
    return np.asarray(one_hot.T @ rows)


class Gather(Function):
    """z = np.take_along_axis(x, index, axis) (``torch.gather``): z[..i..] = x[..index[..i..]..].

    Off ``axis``, ``x`` and ``index`` broadcast against each other, as in NumPy. Backward scatter-adds
    into x broadcast to z's shape (with x's own length on ``axis``), then ``unbroadcast`` sums back.
    """

    @staticmethod
    def forward(ctx, x, index, axis):
        index = np.asarray(index)
        axis = axis % x.ndim
        ctx.shape, ctx.index, ctx.axis = x.shape, index, axis
        return np.take_along_axis(x, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        axis = ctx.axis
        g = np.zeros(grad.shape[:axis] + ctx.shape[axis:axis + 1] + grad.shape[axis + 1:], dtype=grad.dtype)
        grids = list(np.ix_(*[np.arange(n) for n in grad.shape]))
        grids[axis] = ctx.index
        np.add.at(g, tuple(grids), grad)
        return unbroadcast(g, ctx.shape), None


class Concatenate(Function):
    """z = np.concatenate(xs, axis); backward splits the gradient at the same boundaries."""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.bounds, axis=ctx.axis))


class Stack(Function):
    """z = np.stack(xs, axis); backward takes the slices apart again."""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis = axis
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))


class Pad(Function):
    """z = x padded with the constant ``value``; ``pad_width`` as in ``np.pad`` ((before, after) per axis)."""

    @staticmethod
    def forward(ctx, x, pad_width, value=0.0):
        pad_width = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
        ctx.inner = tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape))
        return np.pad(x, pad_width, constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inner]
