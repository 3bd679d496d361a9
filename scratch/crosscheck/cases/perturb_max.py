"""Cases of the perturb-max distributions (spec Part A, ``scratch.models.perturb_max``): for every noise law,
the log-probabilities and the three losses.

p_i = P[argmax_j (μ_j + s·ε_j) = i] = ∫ f(e) Π_{j≠i} F((μ_i − μ_j)/s + e) de for i.i.d. standard noise ε
with density f and CDF F: Gumbel (F = exp(−e^{−z})), exponential (F = 1 − e^{−z}, z ≥ 0), uniform on [0, 1],
standard normal, logistic (F = σ(z)), Laplace (f = e^{−|z|}/2), Cauchy (F = ½ + arctan(z)/π).
Losses, averaged over the rows: "ce" −log p_t; "fy" (Fenchel–Young) Φ(μ) − μ_t with Φ(μ) = E[max_j(μ_j +
s·ε_j)], whose gradient is p − onehot(t) (undefined for Cauchy noise, which has no mean); "soft_accuracy" −p_t.
The reference integrates to ~1e-13, so an implementation passes with any rule accurate to ~1e-9
(hence the looser tolerances of these cases).
"""
from __future__ import annotations

import numpy as np

from ...models.perturb_max import LAWS, perturb_max_log_probs, perturb_max_loss
from .build import build_case

ATOL, RTOL = 1e-8, 1e-6
ROWS, CLASSES = 3, 5
LAYOUTS = {"mu": "(B, n) logits", "targets": "(B,) int64 class ids", "log_probs": "(B, n)", "loss": "() row mean"}


def _mu(rng, law):
    # Uniform noise gives p = 0 to classes ≥ s below the maximum; keep every class reachable.
    return (0.25 if law == "uniform" else 1.0) * rng.standard_normal((ROWS, CLASSES))


def cases() -> list:
    made = []
    for index, law in enumerate(LAWS):
        rng = np.random.default_rng(200 + index)
        mu, targets = _mu(rng, law), rng.integers(0, CLASSES, ROWS)
        made.append(build_case(
            f"perturb_max/log_probs_{law}",
            lambda mu, law, scale: {"log_probs": perturb_max_log_probs(mu, law, scale=scale)},
            description=f"log p of {law} noise", inputs={"mu": mu}, options={"law": law, "scale": 1.0},
            layouts=LAYOUTS, atol=ATOL, rtol=RTOL, seed=index))
        for kind in ("ce", "fy", "soft_accuracy"):
            if kind == "fy" and law == "cauchy":
                continue
            made.append(build_case(
                f"perturb_max/{kind}_{law}",
                lambda mu, targets, law, kind, scale: {"loss": perturb_max_loss(mu, targets, law, kind, scale=scale)},
                description=f"the {kind} loss of {law} noise", inputs={"mu": mu}, constants={"targets": targets},
                options={"law": law, "kind": kind, "scale": 1.0}, layouts=LAYOUTS, atol=ATOL, rtol=RTOL, seed=index))
    rng = np.random.default_rng(300)
    made.append(build_case(
        "perturb_max/log_probs_normal_scale",
        lambda mu, law, scale: {"log_probs": perturb_max_log_probs(mu, law, scale=scale)},
        description="log p of normal noise at scale s = 0.7 (logits divided by s)", inputs={"mu": rng.standard_normal((ROWS, CLASSES))},
        options={"law": "normal", "scale": 0.7}, layouts=LAYOUTS, atol=ATOL, rtol=RTOL, seed=30))
    return made
