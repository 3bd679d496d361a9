"""Inverted dropout."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor
from ...validation import boolean, generator, probability


def dropout(x: Any, p: float, training: bool = True, rng: np.random.Generator | None = None) -> Tensor:
    """y = x ⊙ m / (1 − p) with m_i ~ Bernoulli(1 − p) in training, so E[y] = x; y = x otherwise.

    x: any shape; ``p`` in [0, 1) is the probability of zeroing an entry. The mask comes from
    ``rng`` (a fresh unseeded generator when None); the gradient flows through the kept entries,
    scaled by 1/(1 − p) like the forward.
    """
    p = probability("p", p, allow_one=False)
    x = as_tensor(x)
    if not boolean("training", training) or p == 0:
        return x
    rng = generator("rng", rng)
    mask = (rng.random(x.shape) >= p).astype(x.dtype)
    mask *= 1 / (1 - p)
    return x * mask
