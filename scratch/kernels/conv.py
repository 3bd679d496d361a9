"""2-D convolution with stride 1 as kh·kw matrix products, without the im2col copy.

For an image x (C, H, W), a weight W (O, C, kh, kw) and output positions (p, q), p < H' = H − kh + 1,
q < W' = W − kw + 1,

    y[o, p, q] = b[o] + Σ_{i,j} Σ_c W[o, c, i, j] · x[c, p + i, q + j].

Read the image flat, x_f (C, H·W), and index the outputs by t = W·p + q (pitch W, as ``ImageColumns``
in ``scratch.autograd.functional.conv`` does with stride 1). Then x[c, p + i, q + j] = x_f[c, t + W·i + j]:
for a fixed kernel offset (i, j) the entries the outputs read form the block x_f[:, s : s + L],
s = W·i + j, L = W·(H' − 1) + W', a (C, L) matrix with row stride H·W that BLAS reads in place. So

    Y = Σ_{i,j} W_ij · x_f[:, s_ij : s_ij + L]        (W_ij = W[:, :, i, j], O × C; Y: O × L)

is kh·kw matrix products accumulated into one (O, L) buffer (``gemm`` with β = 1); the W − W'
columns of each output row with q ≥ W' wrap into the next image row and are not copied out. The
backward runs the same blocks the other way, with G the output gradient in that layout, zero at
the wrapped columns:

    dW_ij += G · x_f[:, s_ij : s_ij + L]ᵀ,   dx_f[:, s_ij : s_ij + L] += W_ijᵀ · G,   db += G · 1.

Small images give thin products (L = 78 columns at 10 × 10). There m images share one set of
products: their flat images are interleaved column by column, image i at column t·m + i, so that a
shift by s is a shift by s·m and each product has m·L columns. ``images_per_block`` picks m from
measurements with OpenBLAS (see it); m = 1 reads the image in place.

The engine's ``Conv2d`` (the reference twin, ``F.conv2d``) copies every block into one
(kh·kw·C, L) matrix per image first, nine times the input for a 3 × 3 kernel, and adds the
gradient back from such a matrix (col2im). Both compute the same sums, in a different order, so
they agree to rounding, not bitwise. ``conv2d`` also offers Winograd's algorithm for 3 × 3 kernels
(``scratch.kernels.winograd``), and takes it by default where it is faster.

``prange`` runs over the blocks of images. The backward sums dW and db by lanes: lane ℓ adds up
blocks ℓ, ℓ + LANES, …, and the lanes are added in order, so the result does not depend on the
thread count. ``nn.Conv2d`` calls ``conv2d`` for stride 1 on float32 and float64 inputs.

With one input channel the per-offset products are rank-one updates. There ``conv2d`` takes a third
way, ``patches``: one product per image with its im2col matrix over the H'·W' output positions (a
small copy: kh·kw rows), with a row of ones that carries the bias, written straight into y; the
backward gets dW and db from one product G · [patches; ones]ᵀ per image.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from ..autograd import Function, Tensor, as_tensor
from ..autograd import functional as F
from ..autograd.functional.conv import conv2d_arguments
from . import IMPLEMENTATIONS, NUMBA
from .blas import gemm
from .vector_math import row_sum
from .winograd import LANES, Conv2dWinograd, sum_lanes
from ..validation import choice

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
AUTO, WINOGRAD, OFFSETS, PATCHES = "auto", "winograd", "offsets", "patches"
ALGORITHMS = (AUTO, WINOGRAD, OFFSETS, PATCHES)
# Winograd's transforms loop over the channels; with 16 or 32 of them the loops are too short to pay
# for the 2.25× fewer multiply-adds, with 64 and 128 they do (docs/capsule.md, "Convolution kernels").
WINOGRAD_CHANNELS = 64
WIDE_IMAGE = 256
SMALL_PRODUCT = 10 ** 6
MAX_IMAGES_PER_BLOCK = 8


@njit(cache=True)
def _interleave(x, n0, m):
    """Images x[n0 : n0 + m] (each C, H, W) as one (C, H·W·m) matrix, image i at column t·m + i: a
    copy, or the flat image itself when m = 1."""
    c, pixels = x.shape[1], x.shape[2] * x.shape[3]
    if m == 1:
        return x[n0].reshape(c, pixels)
    block = np.empty((c, pixels * m), x.dtype)
    for i in range(m):
        image = x[n0 + i].reshape(c, pixels)
        for ch in range(c):
            row, source = block[ch], image[ch]
            for t in range(pixels):
                row[t * m + i] = source[t]
    return block


@njit(cache=True, parallel=True)
def conv_forward_numba(x, w_offsets, bias, kw, images_per_block, y):
    """y (N, O, H', W') ← the convolution of x (N, C, H, W) with w_offsets (kh·kw, O, C) (W_ij at
    k = kw·i + j), plus bias (O,) unless it is empty. One block of images per ``prange`` step."""
    n_images, w = len(x), x.shape[3]
    o, h_out, w_out = y.shape[1], y.shape[2], y.shape[3]
    length = (h_out - 1) * w + w_out
    zero = np.zeros(1, y.dtype)[0]
    for block in prange((n_images + images_per_block - 1) // images_per_block):
        n0 = block * images_per_block
        m = min(images_per_block, n_images - n0)
        xb = _interleave(x, n0, m)
        cols = np.empty((o, length * m), y.dtype)
        for k in range(len(w_offsets)):
            start = ((k // kw) * w + k % kw) * m
            gemm(w_offsets[k], xb[:, start:start + length * m], cols, 0.0 if k == 0 else 1.0)
        for i in range(m):
            for oc in range(o):
                shift, row = bias[oc] if len(bias) else zero, cols[oc]
                for p in range(h_out):
                    out = y[n0 + i, oc, p]
                    if m == 1:  # a unit stride the compiler can see, so the copy is vectorized
                        source = row[p * w:p * w + w_out]
                        for q in range(w_out):
                            out[q] = source[q] + shift
                    else:
                        for q in range(w_out):
                            out[q] = row[(p * w + q) * m + i] + shift


@njit(cache=True, parallel=True)
def conv_backward_numba(x, w_offsets, grad, kw, images_per_block, dx, dw_lanes, db_lanes):
    """The gradients of ``conv_forward_numba`` for grad (N, O, H', W'): dx (N, C, H, W) is written
    unless it is empty; dw_lanes (LANES, kh·kw, O, C) and db_lanes (LANES, O), zero on entry, get the
    sums of lane ℓ's blocks ℓ, ℓ + LANES, … unless they are empty."""
    n_images, c, h, w = x.shape
    o, h_out, w_out = grad.shape[1], grad.shape[2], grad.shape[3]
    length, pixels = (h_out - 1) * w + w_out, h * w
    need_x, need_w, need_b = len(dx) > 0, len(dw_lanes) > 0, len(db_lanes) > 0
    n_blocks = (n_images + images_per_block - 1) // images_per_block
    for lane in prange(LANES):
        for block in range(lane, n_blocks, LANES):
            n0 = block * images_per_block
            m = min(images_per_block, n_images - n0)
            g_cols = np.zeros((o, length * m), grad.dtype)  # the wrapped columns stay 0
            for i in range(m):
                for oc in range(o):
                    row = g_cols[oc]
                    for p in range(h_out):
                        g = grad[n0 + i, oc, p]
                        if m == 1:  # a unit stride the compiler can see, so the copy is vectorized
                            out = row[p * w:p * w + w_out]
                            for q in range(w_out):
                                out[q] = g[q]
                        else:
                            for q in range(w_out):
                                row[(p * w + q) * m + i] = g[q]
            for oc in range(o if need_b else 0):
                db_lanes[lane, oc] += row_sum(g_cols[oc])  # any order: fixed by the compiled code, not the threads
            if need_w:
                xb = _interleave(x, n0, m)
                for k in range(len(w_offsets)):
                    start = ((k // kw) * w + k % kw) * m
                    gemm(g_cols, xb[:, start:start + length * m].T, dw_lanes[lane, k], 1.0)
            if need_x:  # into dx itself for one image, else into an interleaved block copied out
                dxb = dx[n0].reshape(c, pixels) if m == 1 else np.empty((c, pixels * m), grad.dtype)
                dxb[:, :] = 0.0
                for k in range(len(w_offsets)):
                    start = ((k // kw) * w + k % kw) * m
                    gemm(w_offsets[k].T, g_cols, dxb[:, start:start + length * m], 1.0)
                for i in range(m if m > 1 else 0):
                    image = dx[n0 + i].reshape(c, pixels)
                    for ch in range(c):
                        row, out = dxb[ch], image[ch]
                        for t in range(pixels):
                            out[t] = row[t * m + i]


@njit(cache=True)
def _patches(image, kh, kw, out):
    """out[(c, i, j), W'·p + q] ← image[c, p + i, q + j] for image (C, H, W): the image's im2col
    matrix over its H'·W' output positions, rows in the order of W's (c, i, j); later rows untouched."""
    c = image.shape[0]
    h_out, w_out = image.shape[1] - kh + 1, image.shape[2] - kw + 1
    for ch in range(c):
        for k in range(kh * kw):
            i, j = k // kw, k % kw
            row = out[ch * kh * kw + k]
            for p in range(h_out):
                source = image[ch, p + i, j:j + w_out]
                for q in range(w_out):
                    row[p * w_out + q] = source[q]


@njit(cache=True, parallel=True)
def patches_forward_numba(x, w_ext, kh, kw, y):
    """y[n] (O, H'·W') ← w_ext (O, C·kh·kw + 1) @ [patches of x[n]; a row of ones]: W and, in the last
    column, the bias, in one product per image written straight into y. One image per ``prange`` step."""
    n_images, o, positions = len(x), y.shape[1], y.shape[2] * y.shape[3]
    for n in prange(n_images):
        patches = np.ones((w_ext.shape[1], positions), y.dtype)
        _patches(x[n], kh, kw, patches)
        gemm(w_ext, patches, y[n].reshape(o, positions), 0.0)


@njit(cache=True, parallel=True)
def patches_backward_numba(x, w_ext, grad, kh, kw, dx, dw_lanes):
    """dw_lanes (LANES, O, C·kh·kw + 1), zero on entry: lane ℓ adds G_n · [patches; ones]ᵀ over images
    ℓ, ℓ + LANES, … (dW, and db in the last column); dx (N, C, H, W) ← col2im of W_rowsᵀ G_n unless empty."""
    n_images, c, o = len(x), x.shape[1], grad.shape[1]
    h_out, w_out, rows = grad.shape[2], grad.shape[3], w_ext.shape[1]
    positions = h_out * w_out
    for lane in prange(LANES):
        patches = np.ones((rows, positions), grad.dtype)
        d_patches = np.empty((rows - 1, positions), grad.dtype)
        for n in range(lane, n_images, LANES):
            g = grad[n].reshape(o, positions)
            _patches(x[n], kh, kw, patches)
            gemm(g, patches.T, dw_lanes[lane], 1.0)
            if len(dx):
                gemm(w_ext[:, :rows - 1].T, g, d_patches, 0.0)
                image = dx[n]
                image[:, :, :] = 0.0
                for r in range(rows - 1):
                    ch, i, j = r // (kh * kw), (r % (kh * kw)) // kw, r % kw
                    row = d_patches[r]
                    for p in range(h_out):
                        out = image[ch, p + i, j:j + w_out]
                        for q in range(w_out):
                            out[q] += row[p * w_out + q]


def images_per_block(out_channels: int, in_channels: int, length: int) -> int:
    """How many images share one set of products (O × C by C × m·L): one for images of at least
    ``WIDE_IMAGE`` output columns L; else as many as keep a product within ``SMALL_PRODUCT``
    multiply-adds, or ``MAX_IMAGES_PER_BLOCK`` when one image's product is already past it.

    Measured with OpenBLAS's AVX-512 kernel (forward + backward, B 128, 3 × 3): interleaving made the
    wide layers slower (16 → 16 at 26 × 26: 8.6 ms with m = 1, 9.6 with m = 4; 64 → 64: 118 and 122 ms,
    the copies costing more than longer products gain); OpenBLAS multiplies products of up to 10⁶
    multiply-adds without packing, fast, so 64 → 128 at 12 × 12 (0.97 × 10⁶ at m = 1) was best alone
    (38 ms against 42–45), while 128 → 128 at 10 × 10, past it already, ran 64 ms alone and 51 at m = 8."""
    one = out_channels * in_channels * length
    if length >= WIDE_IMAGE:
        return 1
    return MAX_IMAGES_PER_BLOCK if one > SMALL_PRODUCT else max(1, min(MAX_IMAGES_PER_BLOCK, SMALL_PRODUCT // one))


class _Conv2dKernel(Function):
    """What the stride-1 kernels' Functions share: x is kept padded and contiguous (``_padded``)."""

    fresh_gradients = True  # dx, dW and db are allocated by the backward


class Conv2dStride1(_Conv2dKernel):
    """y = conv2d(x, W, b) with stride 1, by ``conv_forward_numba``."""

    @staticmethod
    def forward(ctx, x, weight, bias, padding):
        o, c, kh, kw = weight.shape
        x_pad = _padded(x, padding)
        w_offsets = np.ascontiguousarray(weight.transpose(2, 3, 0, 1).reshape(kh * kw, o, c))
        (h, w), (h_out, w_out) = x_pad.shape[2:], (x_pad.shape[2] - kh + 1, x_pad.shape[3] - kw + 1)
        block = images_per_block(o, c, (h_out - 1) * w + w_out)
        y = np.empty((len(x), o, h_out, w_out), x.dtype)
        conv_forward_numba(x_pad, w_offsets, np.empty(0, x.dtype) if bias is None else bias, kw, block, y)
        ctx.save_for_backward(x_pad, w_offsets)
        ctx.padding, ctx.images_per_block = padding, block
        return y

    @staticmethod
    def backward(ctx, grad):
        x_pad, w_offsets = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        (k, o, c), dtype = w_offsets.shape, x_pad.dtype
        dx_pad = np.empty(x_pad.shape if need_x else (0, 1, 1, 1), dtype)
        dw_lanes = np.zeros((LANES, k, o, c) if need_w else (0, 1, 1, 1), dtype)
        db_lanes = np.zeros((LANES, o) if need_b else (0, 1), dtype)
        kw = x_pad.shape[3] - grad.shape[3] + 1
        conv_backward_numba(x_pad, w_offsets, np.ascontiguousarray(grad, dtype), kw, ctx.images_per_block,
                            dx_pad, dw_lanes, db_lanes)
        dx = dw = db = None
        if need_x:
            dx = _cropped(dx_pad, ctx.padding)
        if need_w:
            dw = np.ascontiguousarray(sum_lanes(dw_lanes).reshape(k // kw, kw, o, c).transpose(2, 3, 0, 1))
        if need_b:
            db = sum_lanes(db_lanes)
        return dx, dw, db


class Conv2dPatches(_Conv2dKernel):
    """y = conv2d(x, W, b) with stride 1, one product per image with its im2col matrix (``patches_forward_numba``)."""

    @staticmethod
    def forward(ctx, x, weight, bias, padding):
        x_pad, (o, c, kh, kw) = _padded(x, padding), weight.shape
        w_ext = np.zeros((o, c * kh * kw + 1), x.dtype)
        w_ext[:, :-1] = weight.reshape(o, -1)
        if bias is not None:
            w_ext[:, -1] = bias
        y = np.empty((len(x), o, x_pad.shape[2] - kh + 1, x_pad.shape[3] - kw + 1), x.dtype)
        patches_forward_numba(x_pad, w_ext, kh, kw, y)
        ctx.save_for_backward(x_pad, w_ext)
        ctx.padding, ctx.shape = padding, weight.shape
        return y

    @staticmethod
    def backward(ctx, grad):
        x_pad, w_ext = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        (o, c, kh, kw), dtype = ctx.shape, x_pad.dtype
        dx_pad = np.empty(x_pad.shape if need_x else (0, 1, 1, 1), dtype)
        dw_lanes = np.zeros((LANES,) + w_ext.shape, dtype)
        patches_backward_numba(x_pad, w_ext, np.ascontiguousarray(grad, dtype), kh, kw, dx_pad, dw_lanes)
        dw_ext = sum_lanes(dw_lanes)  # (O, C·kh·kw + 1): dW, then db
        dx = _cropped(dx_pad, ctx.padding) if need_x else None
        dw = np.ascontiguousarray(dw_ext[:, :-1].reshape(o, c, kh, kw)) if need_w else None
        return dx, dw, np.ascontiguousarray(dw_ext[:, -1]) if need_b else None


def _padded(x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    """x (N, C, H, W) with ``padding`` zero rows and columns on each side, C-contiguous."""
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else np.ascontiguousarray(x)


def _cropped(dx_pad: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    """The gradient of x within the gradient of ``_padded(x, padding)``."""
    ph, pw = padding
    return dx_pad[:, :, ph:dx_pad.shape[2] - ph, pw:dx_pad.shape[3] - pw] if ph or pw else dx_pad


def conv2d(x: Any, weight: Any, bias: Any = None, padding: Any = 0, *, implementation: str = NUMBA,
           algorithm: str = AUTO) -> Tensor:
    """2-D cross-correlation with stride 1, NCHW: x (N, C, H, W), weight (O, C, kh, kw), bias (O,) or
    None → y (N, O, H + 2·ph − kh + 1, W + 2·pw − kw + 1). ``padding`` (zeros) is an int or an (h, w)
    pair. x, weight and bias share one dtype, float32 or float64. ``implementation`` ∈ {"numba",
    "numpy"}: the Numba kernels, or their twin ``F.conv2d`` (the same sums in another order).
    ``algorithm`` picks the kernel: "offsets", "patches" (both this module's), "winograd"
    (``scratch.kernels.winograd``, 3 × 3 kernels only) or "auto": the patches' for one input channel,
    Winograd's for 3 × 3 kernels with at least ``WINOGRAD_CHANNELS`` input and output channels, the
    offsets' otherwise."""
    if choice("implementation", implementation, IMPLEMENTATIONS) != NUMBA:
        return F.conv2d(x, weight, bias, 1, padding)
    algorithm = choice("algorithm", algorithm, ALGORITHMS)
    x, weight, bias, _, padding = conv2d_arguments(x, weight, bias, 1, padding)
    choice("x.dtype", x.dtype, DTYPES)
    for name, array in (("weight", weight), ("bias", bias)):
        if array is not None and array.dtype != x.dtype:
            raise ValueError(f"{name}.dtype must be x's ({x.dtype}), got {array.dtype}")
    three_by_three = weight.shape[2:] == (3, 3)
    if algorithm == WINOGRAD and not three_by_three:
        raise ValueError(f"algorithm 'winograd' needs a 3×3 kernel, got weight of shape {weight.shape}")
    if algorithm == WINOGRAD or (algorithm == AUTO and three_by_three and min(weight.shape[:2]) >= WINOGRAD_CHANNELS):
        return Conv2dWinograd.apply(x, weight, bias, padding=padding)
    if algorithm == PATCHES or (algorithm == AUTO and x.shape[1] == 1):
        return Conv2dPatches.apply(x, weight, bias, padding=padding)
    return Conv2dStride1.apply(x, weight, bias, padding=padding)
