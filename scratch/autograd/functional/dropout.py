"""Inverted dropout."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor


def dropout(x: Any, p: float, training: bool = True, rng: np.random.Generator | None = None) -> Tensor:
    """y = x ⊙ m / (1 − p) with m_i ~ Bernoulli(1 − p) in training, so E[y] = x; y = x otherwise.

    x: any shape; ``p`` in [0, 1) is the probability of zeroing an entry. The mask comes from
    ``rng`` (a fresh unseeded generator when None); the gradient flows through the kept entries,
    scaled by 1/(1 − p) like the forward.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p < 1:
        raise ValueError(f"p must be a probability in [0, 1), got {p!r}")
    x = as_tensor(x)
    if not training or p == 0:
        return x
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p).astype(x.dtype)
    mask *= 1 / (1 - p)
    return x * mask
