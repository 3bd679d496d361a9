"""Adam and AdamW, dense or lazy-sparse, as ``torch.optim.Adam`` / ``torch.optim.AdamW``."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..autograd import Tensor
from ..validation import positive_real, probability, real
from .optimizer import Optimizer, per_row


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with L2 weight decay λ folded into the gradient, as ``torch.optim.Adam``.

    At the t-th step of a parameter (t = 1, 2, ...):

        g = ∇θ + λ θ
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)
        θ ← θ − lr · m̂ / (√v̂ + ε)

    m, v and t are kept per parameter as ``state["exp_avg"]``, ``state["exp_avg_sq"]`` and ``state["step"]``.

    Lazy-sparse mode (``sparse=True``) applies these equations only to the rows with a non-zero
    gradient, and counts steps per row: t_r is the number of steps that touched row r, so a
    row's bias correction is 1 − β^(t_r), and a row seen for the first time gets the fully
    corrected first update of a fresh Adam. (TF's LazyAdam and ``torch.optim.SparseAdam`` update
    the moments the same lazy way but correct the bias with the parameter's global step.) Weight
    decay, too, reaches only the touched rows.
    """

    decoupled_weight_decay = False

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, sparse: bool = False):
        super().__init__(params, lr, sparse=sparse)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (probability("betas[0]", betas[0], allow_one=False),
                      probability("betas[1]", betas[1], allow_one=False))
        self.eps = positive_real("eps", eps)
        self.weight_decay = real("weight_decay", weight_decay, minimum=0.0)

    def init_state(self, p: Tensor) -> dict[str, np.ndarray]:
        return {
            "step": np.zeros((len(p.data),) if self.sparse else (), dtype=np.int64),
            "exp_avg": np.zeros_like(p.data),
            "exp_avg_sq": np.zeros_like(p.data),
        }

    def update(self, theta: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        beta1, beta2 = self.betas
        lam = self.weight_decay
        g = grad
        if lam and self.decoupled_weight_decay:
            theta *= 1 - self.lr * lam
        elif lam:
            g = grad + lam * theta
        m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        t += 1
        # torch's arrangement of the same equations, with fewer passes over the arrays:
        # θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        scratch = np.multiply(g, g)
        scratch *= 1 - beta2
        v += scratch
        denominator = np.sqrt(v, out=scratch)
        denominator /= per_row(np.sqrt(1 - beta2**t), theta)
        denominator += self.eps
        step = np.divide(m, denominator, out=denominator)
        step *= per_row(self.lr / (1 - beta1**t), theta)
        theta -= step

class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``:

        θ ← θ (1 − lr λ)

    then the Adam update of ``Adam`` with g = ∇θ (λ is not folded into the gradient). In
    lazy-sparse mode the decay, too, reaches only the touched rows.
    """

    decoupled_weight_decay = True

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, sparse: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, sparse)
