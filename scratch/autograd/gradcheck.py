"""Finite-difference gradient checks in float64, with the defaults of ``torch.autograd.gradcheck``.

The output is reduced to the scalar ``L = Σ r ⊙ fn(inputs)`` with a fixed random ``r``, so a single
backward gives every analytic partial ∂L/∂x. ``r`` and every random direction come from a stream of
their own (``SeedSequence(seed, spawn_key=(_STREAM,))``), never the one ``default_rng(seed)`` gives:
tests draw their inputs from that one, and ``r`` equal to the output shape's first draw would make
``r = x`` for a same-shaped input — for a scale-invariant map (RMS or layer norm) the checked gradient
is then ≈ 0 and a missing backward term goes unseen.

Each input that requires a gradient is checked with unit probes v, each comparing the analytic
⟨∇L, v⟩ with the central difference (L(x + ε v) − L(x − ε v)) / 2ε:

* elementwise for small inputs (v = e_i for every entry);
* for large ones, along ``directions`` random Gaussian directions (errors spread over the input) and
  along one random ±1/√k direction per block of a random partition of the entries into blocks of at
  most k = ``block`` entries. A dense direction sees an error on one entry only as a 1/√n share of
  the whole gradient, below ``rtol`` once n is large; inside a block of k entries it is a 1/√k share,
  so a single wrong entry, a few zeroed ones or a wrong sign are caught as they are elementwise.
  A block that fails is re-checked entry by entry to name the wrong entry. The cost is
  2 (directions + ⌈n/k⌉) evaluations instead of 2n.

Tolerance: a probe passes when |analytic − numeric| ≤ a + rtol · |numeric|, with the absolute term

    a = min(atol, max(atol · s, noise)),   s = max |numeric| over the probes of that input,
    noise = 64 ε_mach · ‖r ⊙ fn(inputs)‖₂ / ε   (ε_mach = 2⁻⁵², float64 machine epsilon),

so the absolute term scales with the gradient: a function whose gradient entries are all below
``atol`` (a loss scaled by 1e-8, a term weighted by 0.01) is still checked to ``atol`` relative to its
largest entry, and a zero analytic gradient against a tiny nonzero numeric one fails. ``noise``
bounds the rounding error of the central difference (the rounding errors of the output entries,
each a few ulps, add in quadrature; 64 ulps leave a wide margin), so a truly zero gradient, whose
numeric value is rounding noise, passes. The rule is never looser than torch's
``atol + rtol · |numeric|``.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from ..validation import positive_int
from .function import no_grad
from .tensor import Tensor

# Spawn key of gradcheck's random stream ("grad" in ASCII): any constant ≠ () keeps it apart from
# ``default_rng(seed)``.
_STREAM = 0x67726164
# Rounding error allowed per output entry of the objective, in units of machine epsilon.
_ROUNDING_ULPS = 64


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
    block: int = 16,
    seed: int = 0,
) -> bool:
    """Check the gradients of ``fn(*inputs)`` with respect to every input that requires grad.

    ``inputs`` must be float64 tensors (integer tensors and tensors that do not require grad are
    passed through unchecked). Inputs with at most ``max_elementwise`` entries are checked entry by
    entry; larger ones along ``directions`` random directions plus one random ±1 direction per block
    of at most ``block`` entries (every entry lies in one block; ``block`` trades sensitivity for
    speed). ``seed`` selects gradcheck's own random stream for the output weights and directions.

    A probe passes when |analytic − numeric| ≤ a + rtol·|numeric|, where the absolute term
    a = min(atol, max(atol·s, noise)) scales with s, the largest |numeric| among that input's probes,
    and is floored by ``noise``, the rounding error of the central difference (64 ulps of
    ‖r ⊙ fn(inputs)‖₂, divided by ``eps``): tiny gradients are checked relative to their own size and a
    truly zero gradient still passes. Returns True or raises ``GradcheckError`` naming the input and
    the worst entry (or direction) with its analytic and numeric values.
    """
    block = positive_int("block", block)
    inputs = list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 (float32 "
                            "finite differences are too coarse for these tolerances)")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM,)))

    for x in inputs:
        if isinstance(x, Tensor):
            x.grad = None
    out = fn(*inputs)
    weights = rng.standard_normal(out.shape)
    out.backward(weights)
    noise = _ROUNDING_ULPS * np.finfo(np.float64).eps * float(np.linalg.norm(weights * out.data)) / eps

    def objective() -> float:
        with no_grad():
            return float(np.sum(weights * fn(*inputs).data))

    for i in checked:
        x = inputs[i]
        if x.size == 0:
            continue
        analytic = np.zeros_like(x.data) if x.grad is None else x.grad

        def probe(v: np.ndarray) -> tuple[float, float]:
            return float(np.sum(analytic * v)), _central_difference(objective, x, v, eps)

        results, blocks = [], {}
        if x.size <= max_elementwise:
            results = [(_entry(x.shape, j), *probe(_unit(x.shape, j))) for j in range(x.size)]
        else:
            for d, v in enumerate(rng.standard_normal((directions,) + x.shape)):
                results.append((f"direction {d}", *probe(v / np.linalg.norm(v))))
            parts = np.array_split(rng.permutation(x.size), math.ceil(x.size / block))
            for b, part in enumerate(parts):
                v = np.zeros(x.size)
                v[part] = rng.choice([-1.0, 1.0], part.size) / math.sqrt(part.size)
                label = f"block {b}"
                blocks[label] = part
                results.append((label, *probe(v.reshape(x.shape))))
        scale = min(1.0, max(abs(numeric) for _, _, numeric in results))
        absolute = min(atol, max(atol * scale, noise))

        def worst_of(rows):
            excess = [(abs(exact - numeric) - (absolute + rtol * abs(numeric)), label, exact, numeric)
                      for label, exact, numeric in rows]
            worst = max(excess, key=lambda row: row[0])
            return worst if worst[0] > 0 else None

        worst = worst_of(results)
        if worst is None:
            continue
        _, label, exact, numeric = worst
        if label in blocks:
            # Name the wrong entry of the failing block when one fails on its own.
            part = blocks[label]
            within = worst_of([(_entry(x.shape, j), *probe(_unit(x.shape, j))) for j in part])
            where = f"{label} of {part.size} entries"
            if within is not None:
                _, entry, exact, numeric = within
                label = f"{entry} (in {where})"
            else:
                label = f"{where} {[_entry(x.shape, j) for j in part]}"
        raise GradcheckError(
            f"gradient of input {i} (shape {x.shape}) is wrong; worst at {label}: "
            f"analytic {exact:.10g}, numeric {numeric:.10g}"
        )
    return True


def _entry(shape: tuple[int, ...], flat_index: int) -> tuple[int, ...]:
    return tuple(map(int, np.unravel_index(flat_index, shape)))


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
