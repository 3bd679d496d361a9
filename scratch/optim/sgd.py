"""Stochastic gradient descent with momentum, as ``torch.optim.SGD`` (no dampening)."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..autograd import Tensor
from ..validation import boolean, real
from .optimizer import Optimizer


class SGD(Optimizer):
    """SGD with L2 weight decay λ, momentum μ and optionally Nesterov momentum.

        g = ∇θ + λ θ
        b ← μ b + g                       (b starts at 0, so b = g after the first step)
        d = g + μ b  if nesterov,  else  d = b
        θ ← θ − lr · d

    With μ = 0 this is plain θ ← θ − lr · g and no state is kept.
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False):
        super().__init__(params, lr)
        self.momentum = real("momentum", momentum, minimum=0.0)
        self.weight_decay = real("weight_decay", weight_decay, minimum=0.0)
        self.nesterov = boolean("nesterov", nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError(f"momentum must be > 0 when nesterov=True, got {momentum!r}")

    def init_state(self, p: Tensor) -> dict[str, np.ndarray]:
        return {"momentum_buffer": np.zeros_like(p.data)} if self.momentum else {}

    def update(self, theta: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        mu, lam = self.momentum, self.weight_decay
        g = grad + lam * theta if lam else grad
        d = g
        if mu:
            b = state["momentum_buffer"]
            b *= mu
            b += g
            d = g + mu * b if self.nesterov else b
        theta -= self.lr * d
