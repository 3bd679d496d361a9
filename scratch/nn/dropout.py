"""``Dropout``: random zeroing during training, the identity in evaluation."""
from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ..autograd import functional as F
from .module import Module
from ..validation import generator, probability


class Dropout(Module):
    """In training, y = x · m / (1 − p) with m ~ Bernoulli(1 − p) elementwise; in eval, y = x.

    The masks come from ``rng`` (a fresh unseeded Generator when None), so a seeded generator
    reproduces them.
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None):
        super().__init__()
        self.p = probability("p", p, allow_one=False)
        self.rng = generator("rng", rng)

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"
