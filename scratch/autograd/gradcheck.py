"""Finite-difference gradient checks in float64, with the defaults of ``torch.autograd.gradcheck``.

The output is reduced to the scalar ``L = Σ r ⊙ fn(inputs)`` with a fixed random ``r``, so a single
backward gives every analytic partial ∂L/∂x. Each input that requires a gradient is then checked

* elementwise for small inputs: ∂L/∂x_i ≈ (L(x + ε e_i) − L(x − ε e_i)) / 2ε;
* along random unit directions v for large ones: ⟨∇L, v⟩ ≈ (L(x + ε v) − L(x − ε v)) / 2ε,
  two evaluations per direction whatever the input size (as in HIPS autograd's ``check_grads``).

A check passes when |analytic − numeric| ≤ atol + rtol · |numeric| everywhere.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .function import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with finite differences."""


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    max_elementwise: int = 512,
    directions: int = 6,
    seed: int = 0,
) -> bool:
    """Check the gradients of ``fn(*inputs)`` with respect to every input that requires grad.

    ``inputs`` must be float64 tensors (integer tensors and tensors that do not require grad are
    passed through unchecked). Inputs with at most ``max_elementwise`` entries are checked entry by
    entry, larger ones along ``directions`` random directions. Returns True or raises
    ``GradcheckError`` naming the input, the worst entry (or direction) with its analytic and numeric values.
    """
    inputs = list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 (float32 "
                            "finite differences are too coarse for these tolerances)")
    rng = np.random.default_rng(seed)

    for x in inputs:
        if isinstance(x, Tensor):
            x.grad = None
    out = fn(*inputs)
    weights = rng.standard_normal(out.shape)
    out.backward(weights)

    def objective() -> float:
        with no_grad():
            return float(np.sum(weights * fn(*inputs).data))

    for i in checked:
        x = inputs[i]
        analytic = np.zeros_like(x.data) if x.grad is None else x.grad
        if x.size <= max_elementwise:
            basis = (_unit(x.shape, j) for j in range(x.size))
            labels = [tuple(map(int, np.unravel_index(j, x.shape))) for j in range(x.size)]
        else:
            basis = (v / np.linalg.norm(v) for v in rng.standard_normal((directions,) + x.shape))
            labels = [f"direction {d}" for d in range(directions)]
        worst = None
        for label, v in zip(labels, basis):
            numeric = _central_difference(objective, x, v, eps)
            exact = float(np.sum(analytic * v))
            excess = abs(exact - numeric) - (atol + rtol * abs(numeric))
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, label, exact, numeric)
        if worst is not None:
            _, label, exact, numeric = worst
            raise GradcheckError(
                f"gradient of input {i} (shape {x.shape}) is wrong; worst at {label}: "
                f"analytic {exact:.10g}, numeric {numeric:.10g}"
            )
    return True


def _unit(shape: tuple[int, ...], flat_index: int) -> np.ndarray:
    e = np.zeros(int(np.prod(shape)))
    e[flat_index] = 1.0
    return e.reshape(shape)


def _central_difference(objective: Callable[[], float], x: Tensor, v: np.ndarray, eps: float) -> float:
    original = x.data.copy()
    try:
        x.data = original + eps * v
        plus = objective()
        x.data = original - eps * v
        minus = objective()
    finally:
        x.data = original
    return (plus - minus) / (2 * eps)
