"""3 × 3 convolution with stride 1 by Winograd's F(2 × 2, 3 × 3): 16 products where the direct sum has 36.

Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016). Cut the output
into 2 × 2 tiles; tile (P, Q) reads the 4 × 4 input tile d at rows 2P … 2P + 3, columns 2Q … 2Q + 3,
and for a 3 × 3 kernel g

    y_tile = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A,

with  Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]],
      G  = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]],
      Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]],

which is the cross-correlation y[p, q] = Σ_{i,j} g[i, j] d[p + i, q + j] exactly in real arithmetic.
Summed over the input channels, each of the 16 entries ξ of the transformed tiles is a matrix
product over the channels:

    U_ξ = (G W Gᵀ)_ξ (O × C),   V_ξ = (Bᵀ d B)_ξ (C × tiles),   M_ξ = U_ξ V_ξ (O × tiles),   y = Aᵀ M A.

The products hold 16 · O · C multiply-adds per tile where the direct sum has 4 · 9 · O · C: 2.25×
fewer. The kernels keep V and M channels-last, (tiles × C) and (tiles × O), and compute the same
products as M_ξᵀ = V_ξᵀ U_ξᵀ, so that every loop of the transforms runs over contiguous channels (the
images are copied to (H, W, C) first, and the outputs back to (C, H, W)).

The function is bilinear in W and x, so its gradients run the same steps backward, with the output
gradient dY cut into the same tiles:

    dM = A dY Aᵀ,   dU_ξ = Σ_tiles dM_ξ V_ξᵀ,   dV_ξ = U_ξᵀ dM_ξ,   dW = Gᵀ dU G,   dx_tile += B dV Bᵀ,

(input tiles overlap by two rows and columns, so dx adds them up). The entries of A, B and G are 0, ±1
and ±½, exact in binary, so rounding differs from the direct sum's only by the transforms' additions;
``scratch.kernels.conv`` (per-offset products) and ``F.conv2d`` (im2col) are the references.

``prange`` runs over blocks of images whose tiles share one set of 16 products; the backward sums dU
and db by lanes as ``conv.py`` does, so the result does not depend on the thread count. Outputs of
odd size are computed on an input padded by one more zero row or column and cropped.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..autograd import Function
from .blas import gemm

G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
# The transformed tiles of a block of images: at most this many tiles (rows of the 16 products). In a
# sweep (forward + backward, B 128: 64 → 64 at 26 × 26, 64 → 128 at 12 × 12, 128 → 128 at 10 × 10, two
# runs) 64 to 256 were within noise of each other, 512 and 1024 5–25% slower.
TILES_PER_BLOCK = 256
# The backward's partial sums of dW and db (here and in conv.py): lane ℓ sums blocks ℓ, ℓ + LANES, …; a
# fixed count, so that the result does not depend on the thread count, and one two threads share evenly.
LANES = 8


@njit(cache=True, inline="always")
def _bt(a0, a1, a2, a3):
    """Bᵀ a for a 4-vector a."""
    return a0 - a2, a1 + a2, a2 - a1, a1 - a3


@njit(cache=True, inline="always")
def _b(a0, a1, a2, a3):
    """B a."""
    return a0, a1 - a2 + a3, a1 + a2 - a0, -a3


@njit(cache=True, inline="always")
def _at(a0, a1, a2, a3):
    """Aᵀ a."""
    return a0 + a1 + a2, a1 - a2 - a3


@njit(cache=True, inline="always")
def _a(a0, a1):
    """A a for a 2-vector a."""
    return a0, a0 + a1, a0 - a1, -a1


@njit(cache=True)
def _channels_last(x, n0, m):
    """x[n0 : n0 + m] (m, C, H, W) copied to (m, H, W, C), so that a pixel's channels are contiguous."""
    c, h, w = x.shape[1:]
    out = np.empty((m, h, w, c), x.dtype)
    for i in range(m):
        for ch in range(c):
            plane = x[n0 + i, ch]
            for r in range(h):
                for col in range(w):
                    out[i, r, col, ch] = plane[r, col]
    return out


@njit(cache=True)
def _to_channels_first(source, n0, out):
    """out[n0 + i] (C, H, W) ← source[i] (H, W, C), for every image i of source."""
    m, h, w, c = source.shape
    for i in range(m):
        for ch in range(c):
            plane = out[n0 + i, ch]
            for r in range(h):
                for col in range(w):
                    plane[r, col] = source[i, r, col, ch]


@njit(cache=True)
def _input_tiles(xt, v):
    """v[ξ, T·i + t, :] ← (Bᵀ d B)_ξ of the 4 × 4 input tile t = TW·P + Q of image i of xt (m, H, W, C).

    Every loop runs over the channels, which are contiguous in xt, in a and in v."""
    m, c, th, tw = len(xt), xt.shape[3], (xt.shape[1] - 2) // 2, (xt.shape[2] - 2) // 2
    a = np.empty((4, 4, c), xt.dtype)
    for i in range(m):
        for p in range(th):
            for q in range(tw):
                for s in range(4):  # Bᵀ d, column s
                    c0, c1, c2, c3 = xt[i, 2 * p, 2 * q + s], xt[i, 2 * p + 1, 2 * q + s], \
                        xt[i, 2 * p + 2, 2 * q + s], xt[i, 2 * p + 3, 2 * q + s]
                    for ch in range(c):
                        a[0, s, ch], a[1, s, ch], a[2, s, ch], a[3, s, ch] = _bt(c0[ch], c1[ch], c2[ch], c3[ch])
                t = (i * th + p) * tw + q
                for k in range(4):  # (Bᵀ d) B, row k
                    v0, v1, v2, v3 = v[4 * k, t], v[4 * k + 1, t], v[4 * k + 2, t], v[4 * k + 3, t]
                    for ch in range(c):
                        v0[ch], v1[ch], v2[ch], v3[ch] = _bt(a[k, 0, ch], a[k, 1, ch], a[k, 2, ch], a[k, 3, ch])


@njit(cache=True)
def _output_tiles(mm, bias, yt):
    """yt[i, 2P + r, 2Q + s, :] ← (Aᵀ M A)[r, s] + bias for tile t = TW·P + Q of image i; mm (16, m·T, O)."""
    m, th, tw, o = len(yt), yt.shape[1] // 2, yt.shape[2] // 2, yt.shape[3]
    a = np.empty((2, 4, o), yt.dtype)
    for i in range(m):
        for p in range(th):
            for q in range(tw):
                t = (i * th + p) * tw + q
                for col in range(4):  # Aᵀ M, column col
                    m0, m1, m2, m3 = mm[col, t], mm[4 + col, t], mm[8 + col, t], mm[12 + col, t]
                    for oc in range(o):
                        a[0, col, oc], a[1, col, oc] = _at(m0[oc], m1[oc], m2[oc], m3[oc])
                for r in range(2):  # (Aᵀ M) A, row r
                    out0, out1 = yt[i, 2 * p + r, 2 * q], yt[i, 2 * p + r, 2 * q + 1]
                    for oc in range(o):
                        y0, y1 = _at(a[r, 0, oc], a[r, 1, oc], a[r, 2, oc], a[r, 3, oc])
                        out0[oc], out1[oc] = y0 + bias[oc], y1 + bias[oc]


@njit(cache=True)
def _gradient_tiles(gt, dm, db):
    """dm[ξ, T·i + t, :] ← (A dY Aᵀ)_ξ of the 2 × 2 tile t of image i of gt (m, H', W', O); db += Σ dY."""
    m, th, tw, o = len(gt), gt.shape[1] // 2, gt.shape[2] // 2, gt.shape[3]
    e = np.empty((4, 2, o), gt.dtype)
    for i in range(m):
        for r in range(2 * th):
            for col in range(2 * tw):
                db += gt[i, r, col]
        for p in range(th):
            for q in range(tw):
                for col in range(2):  # A dY, column col
                    g0, g1 = gt[i, 2 * p, 2 * q + col], gt[i, 2 * p + 1, 2 * q + col]
                    for oc in range(o):
                        e[0, col, oc], e[1, col, oc], e[2, col, oc], e[3, col, oc] = _a(g0[oc], g1[oc])
                t = (i * th + p) * tw + q
                for k in range(4):  # (A dY) Aᵀ, row k
                    d0, d1, d2, d3 = dm[4 * k, t], dm[4 * k + 1, t], dm[4 * k + 2, t], dm[4 * k + 3, t]
                    for oc in range(o):
                        d0[oc], d1[oc], d2[oc], d3[oc] = _a(e[k, 0, oc], e[k, 1, oc])


@njit(cache=True)
def _input_gradient_tiles(dv, dxt):
    """dxt (m, H, W, C) ← Σ over tiles of B dV Bᵀ, added into each tile's 4 × 4 window (windows overlap)."""
    m, th, tw, c = len(dxt), (dxt.shape[1] - 2) // 2, (dxt.shape[2] - 2) // 2, dxt.shape[3]
    f = np.empty((4, 4, c), dxt.dtype)
    dxt[:] = 0.0
    for i in range(m):
        for p in range(th):
            for q in range(tw):
                t = (i * th + p) * tw + q
                for k in range(4):  # dV Bᵀ, row k
                    v0, v1, v2, v3 = dv[4 * k, t], dv[4 * k + 1, t], dv[4 * k + 2, t], dv[4 * k + 3, t]
                    for ch in range(c):
                        f[k, 0, ch], f[k, 1, ch], f[k, 2, ch], f[k, 3, ch] = _b(v0[ch], v1[ch], v2[ch], v3[ch])
                for s in range(4):  # B (dV Bᵀ), column s, added into the window
                    o0, o1, o2, o3 = dxt[i, 2 * p, 2 * q + s], dxt[i, 2 * p + 1, 2 * q + s], \
                        dxt[i, 2 * p + 2, 2 * q + s], dxt[i, 2 * p + 3, 2 * q + s]
                    for ch in range(c):
                        a0, a1, a2, a3 = _b(f[0, s, ch], f[1, s, ch], f[2, s, ch], f[3, s, ch])
                        o0[ch] += a0
                        o1[ch] += a1
                        o2[ch] += a2
                        o3[ch] += a3


@njit(cache=True, parallel=True)
def winograd_forward_numba(x, u, bias, images_per_block, y):
    """y (N, O, 2·TH, 2·TW) ← the 3 × 3 convolution of x (N, C, 2·TH + 2, 2·TW + 2) with the
    transformed weight u (16, O, C), plus bias (O,)."""
    n_images, c, o = len(x), x.shape[1], u.shape[1]
    h_out, w_out = y.shape[2], y.shape[3]
    tiles = (h_out // 2) * (w_out // 2)
    for block in prange((n_images + images_per_block - 1) // images_per_block):
        n0 = block * images_per_block
        m = min(images_per_block, n_images - n0)
        v = np.empty((16, m * tiles, c), y.dtype)
        _input_tiles(_channels_last(x, n0, m), v)
        mm = np.empty((16, m * tiles, o), y.dtype)
        for xi in range(16):
            gemm(v[xi], u[xi].T, mm[xi], 0.0)
        yt = np.empty((m, h_out, w_out, o), y.dtype)
        _output_tiles(mm, bias, yt)
        _to_channels_first(yt, n0, y)


@njit(cache=True, parallel=True)
def winograd_backward_numba(x, u, grad, images_per_block, dx, du_lanes, db_lanes):
    """The gradients of ``winograd_forward_numba`` for grad (N, O, 2·TH, 2·TW): dx is written unless it
    is empty; du_lanes (LANES, 16, O, C) and db_lanes (LANES, O), zero on entry, get lane ℓ's sums over
    blocks ℓ, ℓ + LANES, …"""
    n_images, c, o = len(x), x.shape[1], u.shape[1]
    tiles = (grad.shape[2] // 2) * (grad.shape[3] // 2)
    n_blocks = (n_images + images_per_block - 1) // images_per_block
    for lane in prange(LANES):
        for block in range(lane, n_blocks, LANES):
            n0 = block * images_per_block
            m = min(images_per_block, n_images - n0)
            dm = np.empty((16, m * tiles, o), grad.dtype)
            _gradient_tiles(_channels_last(grad, n0, m), dm, db_lanes[lane])
            v = np.empty((16, m * tiles, c), grad.dtype)
            _input_tiles(_channels_last(x, n0, m), v)
            for xi in range(16):
                gemm(dm[xi].T, v[xi], du_lanes[lane, xi], 1.0)
            if len(dx):
                for xi in range(16):  # dV_ξ into v, which is not needed any more
                    gemm(dm[xi], u[xi], v[xi], 0.0)
                dxt = np.empty((m, x.shape[2], x.shape[3], c), grad.dtype)
                _input_gradient_tiles(v, dxt)
                _to_channels_first(dxt, n0, dx)


class Conv2dWinograd(Function):
    """y = conv2d(x, W, b) for a 3 × 3 W with stride 1, by ``winograd_forward_numba``."""

    fresh_gradients = True  # dx, dW and db are allocated by the backward

    @staticmethod
    def forward(ctx, x, weight, bias, padding):
        (ph, pw), (n, c, h, w) = padding, x.shape
        h_out, w_out = h + 2 * ph - 2, w + 2 * pw - 2
        # an odd output size is computed one row or column larger, on one more zero row or column
        pads = ((0, 0), (0, 0), (ph, ph + h_out % 2), (pw, pw + w_out % 2))
        x_pad = np.pad(x, pads) if any(map(any, pads)) else np.ascontiguousarray(x)
        u = np.ascontiguousarray(np.einsum("ai,ocij,bj->aboc", G, weight, G).reshape(16, *weight.shape[:2]),
                                 dtype=x.dtype)
        block = images_per_block(((h_out + 1) // 2) * ((w_out + 1) // 2))
        y = np.empty((n, len(u[0]), x_pad.shape[2] - 2, x_pad.shape[3] - 2), x.dtype)
        winograd_forward_numba(x_pad, u, np.zeros(len(u[0]), x.dtype) if bias is None else bias, block, y)
        ctx.save_for_backward(x_pad, u)
        ctx.padding, ctx.images_per_block, ctx.shape = padding, block, x.shape
        return y[:, :, :h_out, :w_out] if (h_out % 2 or w_out % 2) else y

    @staticmethod
    def backward(ctx, grad):
        x_pad, u = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        (ph, pw), (_, o, c), dtype = ctx.padding, u.shape, x_pad.dtype
        tiled = np.ascontiguousarray(grad, dtype)
        if tiled.shape[2:] != (x_pad.shape[2] - 2, x_pad.shape[3] - 2):  # an odd size: 0 in the extra row or column
            tiled = np.zeros((len(grad), o, x_pad.shape[2] - 2, x_pad.shape[3] - 2), dtype)
            tiled[:, :, :grad.shape[2], :grad.shape[3]] = grad
        dx_pad = np.empty(x_pad.shape if need_x else (0, 1, 1, 1), dtype)
        du_lanes, db_lanes = np.zeros((LANES, 16, o, c), dtype), np.zeros((LANES, o), dtype)
        winograd_backward_numba(x_pad, u, tiled, ctx.images_per_block, dx_pad, du_lanes, db_lanes)
        h, w = ctx.shape[2:]
        dx = dx_pad[:, :, ph:ph + h, pw:pw + w] if need_x else None
        dw = None
        if need_w:  # dW = Gᵀ dU G
            dw = np.einsum("ai,aboc,bj->ocij", G, sum_lanes(du_lanes).reshape(4, 4, o, c), G).astype(dtype)
        db = sum_lanes(db_lanes) if need_b else None
        return dx, dw, db


def images_per_block(tiles: int) -> int:
    """Images whose tiles share one set of products: as many as fit in ``TILES_PER_BLOCK`` tiles, at least one."""
    return max(1, TILES_PER_BLOCK // tiles)


def sum_lanes(lanes: np.ndarray) -> np.ndarray:
    """lanes[0] + lanes[1] + …, added in this order."""
    total = lanes[0].copy()
    for lane in lanes[1:]:
        total += lane
    return total
