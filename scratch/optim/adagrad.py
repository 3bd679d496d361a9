"""Adagrad (Duchi et al., 2011), dense or lazy-sparse, as ``torch.optim.Adagrad``."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..autograd import Tensor
from ..validation import positive_real, real
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Per-coordinate step sizes shrinking with the accumulated squared gradient:

        G ← G + g²                 (G starts at ``initial_accumulator_value``)
        θ ← θ − lr · g / (√G + ε)

    A row with a zero gradient is left unchanged by this rule, so lazy-sparse mode
    (``sparse=True``) gives exactly the dense result and only saves the work on untouched rows.
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, eps: float = 1e-10,
                 initial_accumulator_value: float = 0.0, sparse: bool = False):
        super().__init__(params, lr, sparse=sparse)
        self.eps = positive_real("eps", eps)
        self.initial_accumulator_value = real("initial_accumulator_value", initial_accumulator_value, minimum=0.0)

    def init_state(self, p: Tensor) -> dict[str, np.ndarray]:
        return {"sum": np.full_like(p.data, self.initial_accumulator_value)}

    def update(self, theta: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        G = state["sum"]
        G += grad * grad
        denominator = np.sqrt(G)
        denominator += self.eps
        theta -= self.lr * grad / denominator
