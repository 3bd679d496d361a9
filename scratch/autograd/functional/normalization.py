"""Layer normalisation and RMS normalisation over the last axis, one fused Function for both.

For x (..., D), with means over the last axis,

    layer_norm:  x̂ = (x − mean x) · r,  r = (mean (x − mean x)² + ε)^{−1/2}
    rms_norm:    x̂ = x · r,             r = (mean x² + ε)^{−1/2}
    y = x̂ ⊙ w + b   (w, b of shape (D,), each optional; rms_norm has no b)

and the backward, with ĝ = g ⊙ w the gradient reaching x̂,

    dx = r (ĝ − x̂ · mean(ĝ ⊙ x̂) − mean ĝ)   (the last term only when centring)
    dw = Σ_rows g ⊙ x̂,   db = Σ_rows g.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..ops.linalg import matrix_rows
from ..tensor import Tensor, as_tensor
from ...validation import real


class Normalize(Function):
    """y = x̂ ⊙ w + b over the last axis, x̂ centred (layer norm) or not (RMS norm); see the module docstring."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps, center):
        xc = x - x.mean(axis=-1, keepdims=True) if center else x
        r = 1 / np.sqrt(_row_dot(xc, xc) / x.shape[-1] + eps)
        x_hat = xc * r
        ctx.save_for_backward(x_hat, r, weight)
        ctx.center = center
        if weight is None and bias is None:
            return x_hat
        y = x_hat * weight if weight is not None else x_hat + bias
        if weight is not None and bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x_hat, r, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        dx = dw = db = None
        if need_x:
            g_hat = grad if weight is None else grad * weight
            dx = x_hat * (_row_dot(g_hat, x_hat) / -x_hat.shape[-1])
            dx += g_hat
            if ctx.center:
                dx -= g_hat.mean(axis=-1, keepdims=True)
            dx *= r
        if need_w:
            dw = np.einsum("ni,ni->i", matrix_rows(grad), matrix_rows(x_hat))
        if need_b:
            db = matrix_rows(grad).sum(axis=0)
        return dx, dw, db


def _row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_i a_i b_i over the last axis, kept as an axis of 1 (no (..., D) temporary)."""
    return np.einsum("...i,...i->...", a, b)[..., None]


def layer_norm(x: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Tensor:
    """Layer normalisation over the last axis: x (..., D) → (x − mean) / √(var + ε) ⊙ weight + bias,
    var the biased variance; ``weight`` and ``bias`` of shape (D,) or None."""
    x = as_tensor(x)
    eps = real("eps", eps, minimum=0.0)
    return Normalize.apply(x, _affine(weight, x, "weight"), _affine(bias, x, "bias"), eps=eps, center=True)


def rms_norm(x: Any, weight: Any = None, eps: float = 1e-6) -> Tensor:
    """RMS normalisation over the last axis: x (..., D) → x / √(mean x² + ε) ⊙ weight, weight (D,) or None."""
    x = as_tensor(x)
    return Normalize.apply(x, _affine(weight, x, "weight"), None, eps=real("eps", eps, minimum=0.0), center=False)


def _affine(param: Any, x: Tensor, name: str) -> Tensor | None:
    """An optional per-feature parameter, checked to have shape (D,) for x (..., D)."""
    if param is None:
        return None
    param = as_tensor(param)
    if x.ndim == 0 or param.shape != x.shape[-1:]:
        raise ValueError(f"{name} must have shape {x.shape[-1:]} (the last axis of x {x.shape}), got {param.shape}")
    return param
