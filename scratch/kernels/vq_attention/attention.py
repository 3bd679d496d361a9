"""The autograd ``Function`` of blockwise VQ attention and the checked entry points (spec transformer_vq.md §3).

``vq_attention`` pads T to a multiple of the block (padded keys come after every real query, so they
change nothing), runs the Numba kernel or its NumPy reference, and records ``VQAttention`` for the
backward: gradients reach q, k̂ (window slots only, §2.5), v, u, w and r; the codes and the codebook
are constants. ``quadratic_vq_attention`` is the same function in O(T²) from engine ops (``dense``),
where every key comes from k̂, so the k̂-gradient reaches every key (the full straight-through one).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd import Function, Tensor, as_tensor
from ...validation import choice, finite, positive_int, shape
from .. import IMPLEMENTATIONS, NUMBA, NUMPY
from .cache import WindowBias, check_window_bias
from .dense import windowed_bias_attention
from .kernel import blockwise_backward_numba, blockwise_forward_numba
from .reference import backward_reference, forward_reference

KERNELS = {NUMBA: (blockwise_forward_numba, blockwise_backward_numba), NUMPY: (forward_reference, backward_reference)}
DEFAULT_IMPLEMENTATION = NUMBA


def _padded(x: np.ndarray, extra: int) -> np.ndarray:
    """``x`` (B, T, ...) extended by ``extra`` zero rows along T, C-contiguous (a copy only where needed)."""
    if extra == 0:
        return np.ascontiguousarray(x)
    width = [(0, 0)] * x.ndim
    width[1] = (0, extra)
    return np.ascontiguousarray(np.pad(x, width))


class VQAttention(Function):
    """o = blockwise VQ attention(q, k̂, v; u, w, r) with keyword settings ``codes`` (B, T), ``codebook`` (S, D_k),
    ``block`` and ``implementation``; gradients to q, k̂ (window), v, u, w, r."""

    @staticmethod
    def forward(ctx, q, k_hat, v, u, w, r, *, codes, codebook, block, implementation):
        ctx.length, ctx.block, ctx.implementation = q.shape[1], block, implementation
        extra = -ctx.length % block
        q, k_hat, v, codes = (_padded(x, extra) for x in (q, k_hat, v, codes))
        codebook = np.ascontiguousarray(codebook, dtype=q.dtype)
        bias = WindowBias(*(np.ascontiguousarray(x, dtype=q.dtype) for x in (u, w, r)))
        forward, _ = KERNELS[implementation]
        tape = forward(q, k_hat, v, codes, codebook, bias, block)
        ctx.save_for_backward(q, k_hat, v, codes, codebook, bias, tape)
        return tape.out[:, :ctx.length]

    @staticmethod
    def backward(ctx, grad):
        q, k_hat, v, codes, codebook, bias, tape = ctx.saved_tensors
        _, backward = KERNELS[ctx.implementation]
        T = ctx.length
        dq, dk, dv, du, dw, dr = backward(_padded(grad, q.shape[1] - T), q, k_hat, v, codes, codebook, bias,
                                          ctx.block, tape)
        return dq[:, :T], dk[:, :T], dv[:, :T], du, dw, dr


def _check_inputs(q, k_hat, v, codes, codebook, block, window_bias):
    """Shapes, dtypes and ranges of the entry points' arguments; returns (q, k̂, v, codes, C, u, w, r)."""
    positive_int("block", block)
    q, k_hat, v = as_tensor(q), as_tensor(k_hat), as_tensor(v)
    shape("q", q.data, (None, None, None))
    B, T, Dk = q.shape
    shape("k_hat", k_hat.data, (B, T, Dk))
    shape("v", v.data, (B, T, None))
    for name, x in (("q", q), ("k_hat", k_hat), ("v", v)):
        if x.dtype not in (np.float32, np.float64) or x.dtype != q.dtype:
            raise ValueError(f"{name} must be float32 or float64 like q ({q.dtype}), got {x.dtype}")
    codebook = np.asarray(codebook.data if isinstance(codebook, Tensor) else codebook)
    shape("codebook", codebook, (None, Dk))
    codes = np.asarray(codes.data if isinstance(codes, Tensor) else codes)
    shape("codes", codes, (B, T))
    if not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"codes must be an integer array, got {codes.dtype}")
    if codes.size and (codes.min() < 0 or codes.max() >= codebook.shape[0]):
        raise ValueError(f"codes must lie in [0, {codebook.shape[0]}), got [{codes.min()}, {codes.max()}]")
    if window_bias is None:
        zero = np.zeros(Dk, q.dtype)
        u, w, r = Tensor(zero), Tensor(zero), Tensor(zero[None])
    else:
        if len(window_bias) != 3:
            raise ValueError("window_bias must be a tuple (u, w, r) with u, w (D_k,) and r (W+1, D_k)")
        u, w, r = (as_tensor(x) for x in window_bias)
        check_window_bias(u.data, w.data, r.data, Dk)
    if r.shape[0] - 1 > block:
        raise ValueError(f"the bias range W = {r.shape[0] - 1} must not exceed block = {block}")
    for name, x in (("q", q.data), ("k_hat", k_hat.data), ("v", v.data), ("codebook", codebook),
                    ("window_bias u", u.data), ("window_bias w", w.data), ("window_bias r", r.data)):
        finite(name, x)
    return q, k_hat, v, codes.astype(np.int64), codebook.astype(q.dtype), u, w, r


def vq_attention(q: Any, k_hat: Any, v: Any, codes: Any, codebook: Any, *, block: int,
                 window_bias: tuple[Any, Any, Any] | None = None,
                 implementation: str = DEFAULT_IMPLEMENTATION) -> Tensor:
    """Blockwise linear-time VQ attention (package docstring), O(T (L + S)(D_k + D_v)).

    q, k_hat: (B, T, D_k) with k_hat = C[codes] in the forward (the straight-through keys); v: (B, T, D_v);
    codes: (B, T) integers in [0, S); codebook C: (S, D_k), a constant; block L ≥ W, any T (the last block
    is padded). ``window_bias = (u, w, r)``: u, w (D_k,), r (W+1, D_k) the relative vectors r_0 … r_W;
    None means no bias (u = w = 0, W = 0). ``implementation`` ∈ IMPLEMENTATIONS picks the Numba kernel or
    its NumPy reference. Returns o: (B, T, D_v). A NaN or an infinity in any array argument raises
    ``NonFiniteError`` (a ValueError) naming it, whichever the implementation: the blockwise form sums
    0 · x terms (padding, cached codes) that would spread it where the quadratic form does not.
    """
    choice("implementation", implementation, IMPLEMENTATIONS)
    q, k_hat, v, codes, codebook, u, w, r = _check_inputs(q, k_hat, v, codes, codebook, block, window_bias)
    return VQAttention.apply(q, k_hat, v, u.astype(q.dtype), w.astype(q.dtype), r.astype(q.dtype), codes=codes,
                             codebook=codebook, block=block, implementation=implementation)


def quadratic_vq_attention(q: Any, k_hat: Any, v: Any, codes: Any, codebook: Any, *, block: int,
                           window_bias: tuple[Any, Any, Any] | None = None) -> Tensor:
    """The quadratic reference of ``vq_attention``: dense attention over k̂ with the same window bias.

    Same arguments and checks; ``block`` does not change the result (§1) and ``codes``/``codebook``
    are only checked: every key comes from k̂, so the k̂-gradient reaches all keys (full STE).
    """
    q, k_hat, v, codes, codebook, u, w, r = _check_inputs(q, k_hat, v, codes, codebook, block, window_bias)
    return windowed_bias_attention(q, k_hat, v, None if window_bias is None else (u, w, r))
