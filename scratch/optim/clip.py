"""Gradient clipping by the global L2 norm, as ``torch.nn.utils.clip_grad_norm_``."""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ..autograd import Tensor
from ..validation import positive_real


def clip_grad_norm(params: Iterable[Tensor], max_norm: float) -> float:
    """Scale all gradients in place so their global norm is at most ``max_norm``; return the norm before.

        n = √(Σ_p ‖∇p‖²)   over the parameters whose grad is not None
        ∇p ← ∇p · max_norm / (n + 10⁻⁶)   for every p, when n > max_norm

    (The 10⁻⁶ is torch's.) A NaN or infinite norm raises FloatingPointError naming the first
    parameter (its position in ``params``) whose gradient is not finite.
    """
    max_norm = positive_real("max_norm", max_norm)
    grads = [(i, p.grad) for i, p in enumerate(params) if p.grad is not None]
    norm = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for _, g in grads))
    if not math.isfinite(norm):
        bad = [i for i, g in grads if not np.all(np.isfinite(g))]
        where = f"params[{bad[0]}] has a non-finite gradient" if bad else "the sum of squares overflows float64"
        raise FloatingPointError(f"gradient norm is {norm}: {where}")
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for _, g in grads:
            g *= scale
    return norm
