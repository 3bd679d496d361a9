"""Causal sliding-window softmax attention in O(T·w·D) time and O(T) extra memory (spec Part B, B.2).

For one head, queries q_t, keys k_j, values v_j ∈ R^D (t, j = 0..T−1) and a window w, query t
sees the keys at distance δ = t − j ∈ [0, w), itself included, with the logits

    s_tj = c_t · σ · q_t·k_j + β_δ,        c_t = log n_t / log N,   n_t = min(t + 1, w)
    p_tj = softmax_j(s_tj),                 o_t = Σ_j p_tj v_j

σ the scale (1/√D by default), β (H, w) an additive bias per head and distance (ALiBi, KERPLE,
Sandwich: a soft window inside the hard one), and c_t the log-n ("entropy-invariant") factor of the
number n_t of visible keys against the training length N; c_t = 1 without ``log_n``. The factor
multiplies the content term only, so a bias keeps its meaning as a function of distance.

Backward, with ℓ_t = log Σ_j exp s_tj kept from the forward (P is recomputed, never stored),
Δ_t = dO_t·o_t and dS = P ⊙ (dO Vᵀ − Δ):

    dq_t = c_t σ Σ_j dS_tj k_j,   dk_j = Σ_t c_t σ dS_tj q_t,   dv_j = Σ_t p_tj dO_t,
    dβ_δ = Σ_{t − j = δ} dS_tj      (summed over the batch too).

Two implementations. The NumPy reference gathers each query's w keys into a band (T, w, D),
written for reading; the tests treat it as the definition. The Numba kernel walks blocks of queries:
the block [t0, t1) needs the keys [t0 − w + 1, t1), so one product Q_blk K_rangeᵀ (a BLAS call)
computes its logits, the entries outside the band are skipped, and P V_range gives the output;
``prange`` runs over the B·H heads, which are independent, so the result does not depend on the
thread count. Work is ≈ T (w + block) D per product instead of T² D for masked dense attention.
Both the forward and the backward turn a block's logits into probabilities with one helper; its
``lse_mode`` says whether ℓ_t is found and stored (forward) or read back (backward).

Where the time goes (T = 16k, w = 256, D = 64, float32, one thread): the seven products of a block of
``QUERY_BLOCK`` = 48 queries — two forward, five backward, of 48 × (48 + w − 1) × 64 each — are most of
it, and BLAS writes each straight into its place (``gemm``: dk and dv accumulate with β = 1, no
temporary). The softmax of a row is loops that vectorize: logits, their maximum (compared as integer
keys, ``vector_math.row_max``), exponentials (``exp32``, no libm call), the sum and the normalisation;
the backward recomputes the probabilities in one loop from the stored ℓ_t. ``docs/transformer.md`` gives
the measured split.

Non-finite values propagate, identically in both implementations: a NaN or an infinity in q_t, in
a key or value of t's band, or a logit s_tj that is NaN or +∞ (an overflowing q·k included) makes
o_t and ℓ_t NaN or ±∞ exactly as the formulas above give in IEEE arithmetic, and reaches no row
whose band does not hold it; a −∞ logit is a key of weight 0 (all of a row −∞ gives NaN). The
gradients follow the same rule. A model fed a NaN thus produces a NaN loss, which its training loop
stops on.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

from .. import validation
from ..autograd import Function, Tensor, as_tensor
from . import IMPLEMENTATIONS, NUMBA, NUMPY
from .blas import gemm
from .vector_math import all_finite, exp_like, row_dot, row_max, row_sum

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# Queries per block. At w = 256, D = 64 a block's products are 48 × 303 × 64 (≈ 0.93M multiply-adds), inside
# the size up to which OpenBLAS's AVX-512 kernel multiplies without packing (10⁶): 48 was 12–13% faster
# than 64 there, and level or 2% faster with its AVX2 kernel (fwd+bwd at T = 16k, one quiet run each).
QUERY_BLOCK = 48
# lse_mode of _block_probabilities: the forward finds ℓ_t and stores it, the backward reuses it
LSE_COMPUTE = 0
LSE_REUSE = 1


def log_n_factors(seq_len: int, window: int, log_n: float | None) -> np.ndarray:
    """c_t = log min(t + 1, w) / log N for t = 0..T−1 (ones when ``log_n`` is None): (T,) float64.

    seq_len: T ≥ 0;  window: w ≥ 1;  log_n: the training length N > 1, or None.
    """
    seq_len = validation.integer("seq_len", seq_len, minimum=0)
    window = validation.positive_int("window", window)
    if log_n is None:
        return np.ones(seq_len)
    log_n = validation.real("log_n", log_n, minimum=1.0, open_below=True)
    return np.log(np.minimum(np.arange(1, seq_len + 1), window)) / math.log(log_n)


# --- the NumPy reference --------------------------------------------------------------------------

def _band(seq_len: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Key index j = t − δ of every (query t, distance δ) and whether it exists: (T, w) each."""
    j = np.arange(seq_len)[:, None] - np.arange(window)[None, :]
    return np.maximum(j, 0), j >= 0


def _gather_band(x, j, exists):
    """x (B, H, T, D) gathered into the band (B, H, T, w, D); missing keys (t − δ < 0) are exact zeros,
    so a NaN or an infinity at j = 0 never reaches the rows that merely point there."""
    return np.where(exists[..., None], x[:, :, j], 0.0)


@np.errstate(invalid="ignore", over="ignore")
def window_attention_forward_reference(q, k, v, bias, window, scale, c):
    """o (B, H, T, D) and ℓ (B, H, T) of the module docstring; the band layout puts distance on the last axis."""
    seq_len = q.shape[2]
    j, exists = _band(seq_len, window)
    logits = np.einsum("bhtd,bhtwd->bhtw", q, _gather_band(k, j, exists)) * (scale * c)[:, None] + bias[:, None, :]
    logits = np.where(exists, logits, -np.inf)
    m = logits.max(axis=-1, keepdims=True)
    lse = m + np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))
    p = np.exp(logits - lse)
    return np.einsum("bhtw,bhtwd->bhtd", p, _gather_band(v, j, exists)).astype(q.dtype), lse[..., 0]


@np.errstate(invalid="ignore", over="ignore")
def window_attention_backward_reference(grad, q, k, v, bias, window, scale, c, o, lse):
    """(dq, dk, dv, dβ) from dO = ``grad`` (B, H, T, D) and the forward's o and ℓ."""
    seq_len = q.shape[2]
    j, exists = _band(seq_len, window)
    k_band, v_band = _gather_band(k, j, exists), _gather_band(v, j, exists)
    logits = np.einsum("bhtd,bhtwd->bhtw", q, k_band) * (scale * c)[:, None] + bias[:, None, :]
    p = np.where(exists, np.exp(logits - lse[..., None]), 0.0)
    delta = (grad * o).sum(axis=-1, keepdims=True)
    ds = np.where(exists, p * (np.einsum("bhtd,bhtwd->bhtw", grad, v_band) - delta), 0.0)
    ds_scaled = ds * (scale * c)[:, None]
    dq = np.einsum("bhtw,bhtwd->bhtd", ds_scaled, k_band)
    dk, dv = np.zeros(k.shape), np.zeros(v.shape)
    # missing keys point at j = 0 with exact-zero contributions, so they add nothing there
    in_band = exists[..., None]
    np.add.at(dk, (slice(None), slice(None), j), np.where(in_band, np.einsum("bhtw,bhtd->bhtwd", ds_scaled, q), 0.0))
    np.add.at(dv, (slice(None), slice(None), j), np.where(in_band, np.einsum("bhtw,bhtd->bhtwd", p, grad), 0.0))
    dbias = ds.sum(axis=(0, 2))
    return tuple(g.astype(q.dtype) for g in (dq, dk, dv, dbias))


# --- the Numba kernel -----------------------------------------------------------------------------

@njit(cache=True)
def _block_probabilities(s, t0, lo, window, row_scale, bias_reversed, lse, lse_mode):
    """In place on s = Q_blk K_rangeᵀ (rows t0.., columns lo..): the probabilities exp(s_tj − ℓ_t), with ℓ
    computed into ``lse`` (``LSE_COMPUTE``) or read from it (``LSE_REUSE``); entries outside the
    band become exact zeros. ``bias_reversed`` is β of the head from distance w − 1 down to 0, so the band
    of a row, keys in increasing order, meets its bias in increasing order too.

    NaN and ±inf logits (non-finite inputs, an overflowing q·k, a −inf bias) go through IEEE arithmetic
    as in the reference, which is why no value-changing ``fastmath`` flag is set here. Every loop over a
    band vectorizes: the loops run from 0 over slices, the exponential is ``exp_like`` (``exp32`` in
    float32), and the maximum and the sum are ``vector_math.row_max`` and ``row_sum``."""
    for i in range(s.shape[0]):
        t = t0 + i
        first = max(t - window + 1, lo) - lo
        last = t - lo + 1
        ct = row_scale[t]
        s[i, :first] = 0.0
        s[i, last:] = 0.0
        band = s[i, first:last]
        bias = bias_reversed[window - band.shape[0]:]  # distances t − j, j = first … last − 1
        if lse_mode == LSE_REUSE:
            shift = band.dtype.type(lse[t])
            for j in range(band.shape[0]):
                band[j] = exp_like(band[j] * ct + bias[j] - shift)
        else:
            for j in range(band.shape[0]):
                band[j] = band[j] * ct + bias[j]
            shift = row_max(band)
            for j in range(band.shape[0]):
                band[j] = exp_like(band[j] - shift)
            total = row_sum(band)
            inverse = band.dtype.type(1.0 / total)
            for j in range(band.shape[0]):
                band[j] *= inverse
            lse[t] = shift + math.log(total)


@njit(cache=True)
def _band_rows(s, x_range, t0, lo, window):
    """Σ_j s[t, j] x_j over the band of each row t of the block only: (rows of s, D). ``np.dot(s, x_range)``
    equals it when x_range is finite; with a NaN or an infinity in x_j, 0 · x_j of the out-of-band zeros
    would spread it to rows that never see key j."""
    out = np.zeros((s.shape[0], x_range.shape[1]), x_range.dtype)
    for i in range(s.shape[0]):
        t = t0 + i
        for jj in range(max(t - window + 1, lo) - lo, t - lo + 1):
            for d in range(x_range.shape[1]):
                out[i, d] += s[i, jj] * x_range[jj, d]
    return out


@njit(cache=True)
def _band_columns(s, y_block, t0, lo, window):
    """Σ_t s[t, j] y_t over the rows t whose band holds key j only: (columns of s, D); ``np.dot(s.T, y_block)``
    with out-of-band 0 · y_t left out, as in ``_band_rows``."""
    out = np.zeros((s.shape[1], y_block.shape[1]), y_block.dtype)
    for i in range(s.shape[0]):
        t = t0 + i
        for jj in range(max(t - window + 1, lo) - lo, t - lo + 1):
            for d in range(y_block.shape[1]):
                out[jj, d] += s[i, jj] * y_block[i, d]
    return out


@njit(cache=True, parallel=True)
def window_attention_forward_numba(q, k, v, bias, window, row_scale, block, o, lse):
    """q, k, v (BH, T, D) C-contiguous, bias (H, w), row_scale c_t σ (T,) → o (BH, T, D), ℓ (BH, T), written
    into the arrays given (allocated by NumPy: see ``WindowAttention``) and returned.

    A head whose v holds a NaN or an infinity takes ``_band_rows`` instead of the BLAS product, so
    non-finite values reach exactly the rows the reference gives them to."""
    heads_total, seq_len, _ = q.shape
    heads = bias.shape[0]
    for bh in prange(heads_total):
        bias_reversed = bias[bh % heads, ::-1].copy()
        buffer = np.empty(block * (block + window - 1), q.dtype)
        finite = all_finite(v[bh])
        for t0 in range(0, seq_len, block):
            t1 = min(t0 + block, seq_len)
            lo = max(0, t0 - window + 1)
            s = buffer[:(t1 - t0) * (t1 - lo)].reshape((t1 - t0, t1 - lo))
            gemm(q[bh, t0:t1], k[bh, lo:t1].T, s, 0.0)
            _block_probabilities(s, t0, lo, window, row_scale, bias_reversed, lse[bh], LSE_COMPUTE)
            if finite:
                gemm(s, v[bh, lo:t1], o[bh, t0:t1], 0.0)
            else:
                o[bh, t0:t1] = _band_rows(s, v[bh, lo:t1], t0, lo, window)
    return o, lse


@njit(cache=True, parallel=True)
def window_attention_backward_numba(grad, q, k, v, bias, window, row_scale, block, o, lse, dq, dk, dv, dbias):
    """Gradients dq, dk, dv (BH, T, D) and dβ per head slice (BH, w), see the module docstring, written into
    the arrays given (any contents: each key's dk, dv rows are zeroed by the block where the key enters,
    while in cache, then accumulated by the later blocks that see it) and returned.

    As in the forward, a head with a non-finite value in grad, q or k takes the band-only products."""
    heads_total, seq_len, _ = q.shape
    heads = bias.shape[0]
    for bh in prange(heads_total):
        bias_reversed = bias[bh % heads, ::-1].copy()
        dbias_reversed = np.zeros(window)
        p_buffer = np.empty(block * (block + window - 1), q.dtype)
        ds_buffer = np.empty_like(p_buffer)
        finite = all_finite(grad[bh]) and all_finite(q[bh]) and all_finite(k[bh])
        delta = np.empty(seq_len)
        for t in range(seq_len):
            delta[t] = row_dot(grad[bh, t], o[bh, t])
        for t0 in range(0, seq_len, block):
            t1 = min(t0 + block, seq_len)
            lo = max(0, t0 - window + 1)
            # the keys [t0, t1) enter here (earlier blocks end at t0): their dk, dv start from zero
            dk[bh, t0:t1] = 0.0
            dv[bh, t0:t1] = 0.0
            p = p_buffer[:(t1 - t0) * (t1 - lo)].reshape((t1 - t0, t1 - lo))
            gemm(q[bh, t0:t1], k[bh, lo:t1].T, p, 0.0)
            _block_probabilities(p, t0, lo, window, row_scale, bias_reversed, lse[bh], LSE_REUSE)
            ds = ds_buffer[:(t1 - t0) * (t1 - lo)].reshape((t1 - t0, t1 - lo))
            gemm(grad[bh, t0:t1], v[bh, lo:t1].T, ds, 0.0)
            for i in range(ds.shape[0]):
                t = t0 + i
                first = max(t - window + 1, lo) - lo
                last = t - lo + 1
                # outside the band p = 0 exactly; dO·v there may be NaN, and 0 · NaN must not leak
                ds[i, :first] = 0.0
                ds[i, last:] = 0.0
                p_band, ds_band = p[i, first:last], ds[i, first:last]
                dbias_band = dbias_reversed[window - ds_band.shape[0]:]
                ct, delta_t = row_scale[t], delta[t]
                for j in range(ds_band.shape[0]):
                    d = p_band[j] * (ds_band[j] - delta_t)
                    dbias_band[j] += d
                    ds_band[j] = d * ct
            if finite:  # dv += pᵀ dO, dq = ds k, dk += dsᵀ q, summed in place by BLAS
                gemm(p.T, grad[bh, t0:t1], dv[bh, lo:t1], 1.0)
                gemm(ds, k[bh, lo:t1], dq[bh, t0:t1], 0.0)
                gemm(ds.T, q[bh, t0:t1], dk[bh, lo:t1], 1.0)
            else:
                dv[bh, lo:t1] += _band_columns(p, grad[bh, t0:t1], t0, lo, window)
                dq[bh, t0:t1] = _band_rows(ds, k[bh, lo:t1], t0, lo, window)
                dk[bh, lo:t1] += _band_columns(ds, q[bh, t0:t1], t0, lo, window)
        dbias[bh] = dbias_reversed[::-1]
    return dq, dk, dv, dbias


# --- the autograd Function and the public entry point ---------------------------------------------

def _flat_heads(x: np.ndarray) -> np.ndarray:
    """(B, H, T, D) → (B·H, T, D), C-contiguous, the layout of the Numba kernels."""
    batch, heads, seq_len, dim = x.shape
    return np.ascontiguousarray(x).reshape(batch * heads, seq_len, dim)


class WindowAttention(Function):
    """o = window_attention(q, k, v, β) as one node; β may be a constant array.

    The settings are keywords of ``apply`` kept on ``ctx``: ``window`` w, ``scale`` σ, ``c`` the
    log-n factors (T,) and ``implementation`` (``NUMBA`` or ``NUMPY``).
    """

    fresh_gradients = True  # dq, dk, dv and dβ are allocated by the backward

    @staticmethod
    def forward(ctx, q, k, v, bias, *, window, scale, c, implementation):
        ctx.window, ctx.scale, ctx.c, ctx.implementation = window, scale, c, implementation
        if implementation == NUMPY:
            o, lse = window_attention_forward_reference(q, k, v, bias, window, scale, c)
        else:
            # the outputs come from NumPy, which asks the operating system for huge pages on large arrays;
            # an array allocated in jitted code is faulted in 4 KB pages, ~15 ms per 32 MB here on every call
            o, lse = np.empty(q.shape, q.dtype), np.empty(q.shape[:3])
            window_attention_forward_numba(_flat_heads(q), _flat_heads(k), _flat_heads(v), np.ascontiguousarray(bias),
                                           window, (scale * c).astype(q.dtype), QUERY_BLOCK,
                                           _flat_heads(o), lse.reshape(q.shape[0] * q.shape[1], q.shape[2]))
        ctx.save_for_backward(q, k, v, bias, o, lse)
        return o

    @staticmethod
    def backward(ctx, grad):
        q, k, v, bias, o, lse = ctx.saved_tensors
        if ctx.implementation == NUMPY:
            return window_attention_backward_reference(grad, q, k, v, bias, ctx.window, ctx.scale, ctx.c, o, lse)
        batch, heads = q.shape[:2]
        dq, dk, dv = (np.empty(q.shape, q.dtype) for _ in range(3))
        dbias = np.empty((batch * heads, ctx.window))
        window_attention_backward_numba(
            _flat_heads(grad), _flat_heads(q), _flat_heads(k), _flat_heads(v), np.ascontiguousarray(bias),
            ctx.window, (ctx.scale * ctx.c).astype(q.dtype), QUERY_BLOCK, _flat_heads(o),
            lse.reshape(batch * heads, -1), _flat_heads(dq), _flat_heads(dk), _flat_heads(dv), dbias)
        dbias = dbias.reshape(batch, heads, ctx.window).sum(axis=0).astype(q.dtype)
        return dq, dk, dv, dbias


def window_attention(q: Any, k: Any, v: Any, window: int, *, bias: Any = None, scale: float | None = None,
                     log_n: float | None = None, implementation: str = NUMBA) -> Tensor:
    """Causal sliding-window attention: query t attends to keys t − window + 1 … t.

    q, k, v: (B, H, T, D) of one dtype, float32 or float64, D ≥ 1;  window: w ≥ 1;  bias: (H, window),
    the additive logit of distance 0 … window − 1 (a Tensor to learn it), or None;  scale: σ, a finite
    real, default 1/√D;  log_n: the length N > 1 of the log-n factor log min(t + 1, window) / log N on
    q·k, or None.  Returns o: (B, H, T, D). ``window ≥ T`` is full causal attention.
    ``implementation`` picks the Numba kernel (``NUMBA``) or the NumPy reference (``NUMPY``).
    """
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    validation.shape("q", q, (None, None, None, None))
    validation.shape("k", k, q.shape)
    validation.shape("v", v, q.shape)
    validation.choice("q.dtype", q.dtype, DTYPES)
    validation.choice("k.dtype", k.dtype, (q.dtype,))
    validation.choice("v.dtype", v.dtype, (q.dtype,))
    heads, seq_len, dim = q.shape[1:]
    validation.positive_int("q.shape[3], the head size D,", dim)
    window = validation.positive_int("window", window)
    implementation = validation.choice("implementation", implementation, IMPLEMENTATIONS)
    bias = as_tensor(np.zeros((heads, window), q.dtype) if bias is None else bias)
    validation.shape("bias", bias, (heads, window))
    validation.choice("bias.dtype", bias.dtype, (q.dtype,))
    scale = 1 / math.sqrt(dim) if scale is None else validation.real("scale", scale)
    c = log_n_factors(seq_len, window, log_n)
    return WindowAttention.apply(q, k, v, bias, window=window, scale=scale, c=c, implementation=implementation)
