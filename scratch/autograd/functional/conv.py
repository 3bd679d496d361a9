"""2-D convolution (im2col) and pooling over the last two axes (NCHW), each a Function with a fused backward.

Pooling reads windows through one helper. For x (..., H, W), a kh × kw kernel and strides (sh, sw),
the window at output position (p, q) covers x[..., sh·p + i, sw·q + j] for the kernel offsets
(i, j); H' = ⌊(H − kh)/sh⌋ + 1 and W' likewise. Fixing the offset (i, j) and letting (p, q) run
gives one strided slice of x,

    x[offset_slices(...)[k]] = x[..., i : i + sh·(H'−1) + 1 : sh, j : j + sw·(W'−1) + 1 : sw],  k = kw·i + j,

so a forward reads x through kh·kw slices (a view each, no copy), and the backward adds into the
same kh·kw slices of a zero array. Within one slice the entries are distinct, so each ``+=`` is
exact; windows that overlap (stride < kernel) meet across offsets, and their contributions sum, as
the chain rule requires (col2im is exactly this scatter-add). Convolution uses the same idea on
flat images (``ImageColumns``), so that each offset's view is a few long contiguous runs.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..function import Function
from ..tensor import Tensor, as_tensor
from ...validation import int_pair

IntPair = int | tuple[int, int]

# Images go through the convolution in chunks whose im2col matrix has about this many bytes, so it
# stays in cache between the copy that builds it and the GEMMs that read it. One matrix for a whole
# batch (46 MB for B 128, 16 channels, 26×26) was ~1.5× slower: it misses the caches and, above the
# allocator's mmap threshold, is mapped afresh (page faults) at every call. 1 MB, one core's L2 here:
# in a sweep of 0.5, 1, 2 and 4 MB over the conv-net and capsule-stack steps (medians of 3), 1 MB was
# within noise of the best everywhere; 0.5 MB (one image of the 16- and 128-channel layers, so GEMMs
# 78 columns wide) was 3–20% slower with OpenBLAS's AVX-512 kernel and level with its AVX2 one.
CHUNK_BYTES = 2 ** 20


def offset_slices(size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int]) -> list[tuple]:
    """For x (..., H, W) of ``size`` (H, W): per kernel offset (i, j), row-major, the index of
    x[..., sh·p + i, sw·q + j] over all output positions (p, q) — an (..., H', W') strided slice."""
    (h, w), (kh, kw), (sh, sw) = size, kernel, stride
    h_span, w_span = sh * ((h - kh) // sh) + 1, sw * ((w - kw) // sw) + 1
    return [(Ellipsis, slice(i, i + h_span, sh), slice(j, j + w_span, sw)) for i, j in np.ndindex(kh, kw)]


class ImageColumns:
    """The im2col layout of C-contiguous images x (n, C, H, W): a matrix (kh·kw·C, n·L), row (i, j, c).

    Column n·L + t of image n stands for output position (p, q), t = P·p + q. Entry (i, j, c) of
    that column is x[n, c, sh·p + i, sw·q + j], i.e. element c·H·W + (i·W + j) + (sh·W·p + sw·q) of
    the flat image. With stride 1 the pitch is P = W and L = (H'−1)·W + W': t runs over a
    contiguous stretch of the flat image, so each (offset, channel, image) row piece is one
    contiguous run of L elements; the W − W' columns per output row with q ≥ W' wrap into the next
    image row and are ignored (their outputs) or carry zeros (their gradients). With other strides,
    P = W' and L = H'·W'. The last element any view reads is element C·H·W − 1 of the last image.
    """

    def __init__(self, image_shape: tuple[int, int, int], kernel: tuple[int, int], stride: tuple[int, int]):
        (c, h, w), (kh, kw), (sh, sw) = image_shape, kernel, stride
        self.image_shape, self.kernel, self.rows = image_shape, kernel, kh * kw * c
        self.out_size = ((h - kh) // sh + 1, (w - kw) // sw + 1)
        h_out, w_out = self.out_size
        if (sh, sw) == (1, 1):
            self.pitch, self.length = w, (h_out - 1) * w + w_out
            self.run, self.run_strides = (self.length,), (1,)
        else:
            self.pitch, self.length = w_out, h_out * w_out
            self.run, self.run_strides = self.out_size, (sh * w, sw)

    def chunks(self, n: int, itemsize: int) -> list[slice]:
        """Slices of the batch whose im2col matrix has about ``CHUNK_BYTES``."""
        step = max(1, CHUNK_BYTES // (self.rows * self.length * itemsize))
        return [slice(start, min(start + step, n)) for start in range(0, n, step)]

    def windows(self, images: np.ndarray) -> np.ndarray:
        """The (kh, kw, C, n, *run) view whose [i, j, c, n] is images[n, c, sh·p + i, sw·q + j] over the run."""
        (c, h, w), size = self.image_shape, images.itemsize
        strides = tuple(size * v for v in (w, 1, h * w, c * h * w) + self.run_strides)
        return as_strided(images, shape=self.kernel + (c, len(images)) + self.run, strides=strides)

    def im2col(self, images: np.ndarray) -> np.ndarray:
        """(kh·kw·C, n·L): one copy, of kh·kw·C·n contiguous runs (stride 1)."""
        return self.windows(images).reshape(self.rows, -1)

    def col2im_add(self, dcols: np.ndarray, dimages: np.ndarray) -> None:
        """dimages[n, c, sh·p + i, sw·q + j] += dcols[(i, j, c), n·L + t], one ``+=`` per offset (i, j)."""
        dcols = dcols.reshape(self.kernel + (self.image_shape[0], len(dimages)) + self.run)
        windows = self.windows(dimages)
        for i, j in np.ndindex(*self.kernel):
            windows[i, j] += dcols[i, j]

    def outputs(self, y_cols: np.ndarray, n: int) -> np.ndarray:
        """The (O, n, H', W') view of the output positions in a C-contiguous (O, n·L) matrix."""
        size = y_cols.itemsize
        return as_strided(y_cols, shape=(len(y_cols), n) + self.out_size,
                          strides=(size * n * self.length, size * self.length, size * self.pitch, size))


class Conv2d(Function):
    """y[n, o, p, q] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x_pad[n, c, sh·p + i, sw·q + j], as GEMMs.

    With W reshaped to rows (O, kh·kw·C) and X the im2col matrix of a chunk of images
    (``ImageColumns``), Y = W X (O, n·L) holds the outputs of the whole chunk in one GEMM.
    Backward, with G the output gradient in the same column layout (zero at the columns that are
    not outputs): dW = Σ_chunks G Xᵀ, db = Σ_chunks G 1, and dX = Wᵀ G, which col2im adds back into
    the offset windows of a zero x_pad, whose padding is then cropped. X is rebuilt in the backward
    (a cheap copy) rather than stored.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        (ph, pw), (o, _, kh, kw) = padding, weight.shape
        x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else np.ascontiguousarray(x)
        columns = ImageColumns(x_pad.shape[1:], (kh, kw), stride)
        w_rows = weight.transpose(0, 2, 3, 1).reshape(o, -1)
        y = np.empty((len(x), o) + columns.out_size, dtype=np.result_type(x, weight))
        for part in columns.chunks(len(x), x.itemsize):
            images = x_pad[part]
            outputs = columns.outputs(w_rows @ columns.im2col(images), len(images)).transpose(1, 0, 2, 3)
            if bias is None:
                y[part] = outputs
            else:  # the bias joins the copy out of the GEMM's layout: one pass over y, not two
                np.add(outputs, bias[:, None, None], out=y[part])
        ctx.save_for_backward(x_pad, w_rows)
        ctx.columns, ctx.x_shape, ctx.padding = columns, x.shape, padding
        return y

    @staticmethod
    def backward(ctx, grad):
        x_pad, w_rows = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        columns = ctx.columns
        dx_pad = np.zeros(x_pad.shape, dtype=grad.dtype) if need_x else None
        # dW is summed as dWᵀ = Σ X Gᵀ when W has more columns than rows: OpenBLAS is faster (up to 2.4× with
        # its AVX-512 kernel, level with AVX2) when the longer side of the product is its rows
        dw_transposed = w_rows.shape[1] >= w_rows.shape[0]
        dw_sum = np.zeros(w_rows.shape[::-1] if dw_transposed else w_rows.shape, grad.dtype) if need_w else None
        db = np.zeros(len(w_rows), dtype=grad.dtype) if need_b else None
        for part in columns.chunks(len(x_pad), x_pad.itemsize):
            g = grad[part]
            g_cols = np.zeros((len(w_rows), len(g) * columns.length), dtype=grad.dtype)
            columns.outputs(g_cols, len(g))[...] = g.transpose(1, 0, 2, 3)
            if need_b:  # from the chunk while it is in cache; the columns that are not outputs hold 0
                db += g_cols.sum(axis=1)
            if need_w:
                x_cols = columns.im2col(x_pad[part])
                dw_sum += x_cols @ g_cols.T if dw_transposed else g_cols @ x_cols.T
            if need_x:
                columns.col2im_add(w_rows.T @ g_cols, dx_pad[part])
        dx = dw = None
        if need_x:
            (h, w), (ph, pw) = ctx.x_shape[2:], ctx.padding
            dx = dx_pad[:, :, ph:ph + h, pw:pw + w]
        if need_w:
            o, c, kh, kw = len(w_rows), x_pad.shape[1], *columns.kernel
            dw_rows = dw_sum.T if dw_transposed else dw_sum
            dw = np.ascontiguousarray(dw_rows.reshape(o, kh, kw, c).transpose(0, 3, 1, 2))
        return dx, dw, db


class AvgPool2d(Function):
    """y = (1/(kh·kw)) Σ_offsets x[slice];  dx[slice] += g / (kh·kw) for every offset.

    The sum is kept in one array, added into in place. Windows that do not overlap (stride ≥
    kernel) own their entries, so the backward writes each offset's share into its slice, into an
    array it need not zero first when the windows tile x exactly.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride):
        slices = offset_slices(x.shape[-2:], kernel, stride)
        ctx.shape, ctx.slices = x.shape, slices
        ctx.disjoint, ctx.tiled = _layout(x.shape, kernel, stride)
        total = x[slices[0]] + x[slices[1]] if len(slices) > 1 else x[slices[0]].copy()
        for window_offset in slices[2:]:
            total += x[window_offset]
        total /= len(slices)
        return total

    @staticmethod
    def backward(ctx, grad):
        dx = (np.empty if ctx.tiled else np.zeros)(ctx.shape, dtype=grad.dtype)
        share = grad / len(ctx.slices)
        for window_offset in ctx.slices:
            if ctx.disjoint:
                dx[window_offset] = share
            else:
                dx[window_offset] += share
        return dx


class MaxPool2d(Function):
    """y = max over the offsets of x[slice]; the gradient goes to the entry that attained it.

    The forward takes the maximum over the kh window rows first (slices of whole image rows) and
    then over the kw columns of that, kh + kw − 2 ``np.maximum`` calls in all. Backward walks the
    offsets in row-major order and hands each window's gradient to the first offset whose entry
    equals the maximum, so at ties that first entry takes all of it (as in PyTorch): ``left`` holds
    the gradient not yet handed out, zeroed where a window has found its entry. Windows that do
    not overlap (stride ≥ kernel) own their entries, so each offset's share is written into its
    slice; overlapping windows that share a maximum both add into it.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride):
        kh, kw = kernel
        slices = offset_slices(x.shape[-2:], kernel, stride)
        row_max = _maximum([x[..., slices[kw * i][-2], :] for i in range(kh)])
        y = _maximum([row_max[..., slices[j][-1]] for j in range(kw)])
        ctx.save_for_backward(x, y)
        ctx.slices = slices
        ctx.disjoint, ctx.tiled = _layout(x.shape, kernel, stride)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dx = (np.empty if ctx.tiled else np.zeros)(x.shape, dtype=grad.dtype)
        left = grad.copy()
        for window_offset in ctx.slices:
            hit = x[window_offset] == y
            if ctx.disjoint:
                np.multiply(left, hit, out=dx[window_offset])
            else:
                dx[window_offset] += left * hit
            left *= np.logical_not(hit, out=hit)
        return dx


def _layout(shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int]) -> tuple[bool, bool]:
    """Whether pooling windows are disjoint (stride ≥ kernel), and whether they tile x (..., H, W)
    exactly: then a backward writes every entry of dx, so it need not zero it first."""
    (kh, kw), (sh, sw) = kernel, stride
    return sh >= kh and sw >= kw, (sh, sw) == (kh, kw) and shape[-2] % kh == 0 and shape[-1] % kw == 0


def _maximum(arrays: list[np.ndarray]) -> np.ndarray:
    """The elementwise maximum of one or more arrays of one shape, as a new array."""
    out = np.maximum(arrays[0], arrays[1]) if len(arrays) > 1 else arrays[0].copy()
    for array in arrays[2:]:
        np.maximum(out, array, out=out)
    return out


def conv2d(x: Any, weight: Any, bias: Any = None, stride: IntPair = 1, padding: IntPair = 0) -> Tensor:
    """2-D cross-correlation (what every framework calls convolution), NCHW.

    x: (N, C, H, W), weight: (O, C, kh, kw), bias: (O,) or None → y: (N, O, H', W') with
    H' = ⌊(H + 2·ph − kh)/sh⌋ + 1 (likewise W'); ``stride`` ≥ 1 and zero ``padding`` ≥ 0 are an int
    or an (h, w) pair. See ``Conv2d`` for the math.
    """
    x, weight, bias, stride, padding = conv2d_arguments(x, weight, bias, stride, padding)
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding)


def conv2d_arguments(x: Any, weight: Any, bias: Any, stride: IntPair, padding: IntPair):
    """``conv2d``'s arguments checked, each named in the error: (x, weight, bias, stride, padding) with
    tensors (bias None or a tensor) and (h, w) pairs."""
    x, weight = as_tensor(x), as_tensor(weight)
    if x.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W), got shape {x.shape}")
    if weight.ndim != 4 or weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight must be (out_channels, {x.shape[1]}, kh, kw) for x with {x.shape[1]} "
                         f"channels, got shape {weight.shape}")
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != weight.shape[:1]:
            raise ValueError(f"bias must have shape {weight.shape[:1]} (one per output channel), got {bias.shape}")
    stride, padding = int_pair("stride", stride, 1), int_pair("padding", padding, 0)
    _check_fits(weight.shape[2:], x.shape[2:], padding, "weight")
    return x, weight, bias, stride, padding


def avg_pool2d(x: Any, kernel_size: IntPair, stride: IntPair | None = None) -> Tensor:
    """Mean over kh × kw windows of x (..., H, W) (e.g. NCHW) → (..., H', W'), H' = ⌊(H − kh)/sh⌋ + 1;
    ``stride`` defaults to ``kernel_size`` (non-overlapping windows; a remainder is dropped)."""
    x, kernel, stride = _pool_arguments(x, kernel_size, stride)
    return AvgPool2d.apply(x, kernel=kernel, stride=stride)


def max_pool2d(x: Any, kernel_size: IntPair, stride: IntPair | None = None) -> Tensor:
    """Maximum over kh × kw windows of x (..., H, W) (e.g. NCHW) → (..., H', W'), H' = ⌊(H − kh)/sh⌋ + 1;
    ``stride`` defaults to ``kernel_size``. At ties the first maximal entry (row-major) gets the gradient."""
    x, kernel, stride = _pool_arguments(x, kernel_size, stride)
    return MaxPool2d.apply(x, kernel=kernel, stride=stride)


def _pool_arguments(x: Any, kernel_size: IntPair, stride: IntPair | None):
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least the two axes (H, W), got shape {x.shape}")
    kernel = int_pair("kernel_size", kernel_size, 1)
    stride = kernel if stride is None else int_pair("stride", stride, 1)
    _check_fits(kernel, x.shape[-2:], (0, 0), "kernel_size")
    return x, kernel, stride


def _check_fits(kernel: tuple[int, int], size: tuple[int, int], padding: tuple[int, int], name: str) -> None:
    if any(k > s + 2 * p for k, s, p in zip(kernel, size, padding)):
        raise ValueError(f"{name}: a {kernel[0]}×{kernel[1]} kernel does not fit the (padded) input "
                         f"{size[0] + 2 * padding[0]}×{size[1] + 2 * padding[1]}")
