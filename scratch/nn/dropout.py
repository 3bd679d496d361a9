"""``Dropout``: random zeroing during training, the identity in evaluation."""
from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ..autograd import functional as F
from .module import Module
from ..validation import generator


class Dropout(Module):
    """In training, y = x · m / (1 − p) with m ~ Bernoulli(1 − p) elementwise; in eval, y = x.

    The masks come from ``rng`` (a fresh unseeded Generator when None), so a seeded generator
    reproduces them.
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p < 1:
            raise ValueError(f"p must be a probability in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = generator("rng", rng)

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"
