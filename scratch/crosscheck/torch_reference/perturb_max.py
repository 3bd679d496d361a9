"""Perturb-max log-probabilities and losses in torch (the cases ``perturb_max/*``), by composite
Gauss–Legendre quadrature with autograd through the integrand.

    log p_i = log ∫ f(e) Π_{j≠i} F(μ_i − μ_j + e) de,     Φ(μ) = Σ_i ∫ (μ_i + e) f(e) Π_{j≠i} F(μ_i − μ_j + e) de

(logits divided by the scale s first; Φ_s(μ) = s Φ(μ/s)). The integral runs over panels of the support
(truncated where the integrand is below 1e-17) split at every kink of F(μ_i − μ_j + e), so each piece is
smooth and 16 nodes per piece reach ~1e-14; Cauchy noise is integrated in θ = arctan e, where f(e) de = dθ/π.
The Gumbel law is log_softmax(μ/s) in closed form, with Φ = s(logsumexp(μ/s) + γ).
"""
import math

import numpy as np
import torch
from torch.nn import functional as F

NODES_PER_PIECE = 16
EULER_GAMMA = 0.5772156649015329


def _where(condition, value, inner, fallback):
    """value(inner') where ``condition`` else ``fallback``, with inner' a harmless stand-in off the condition
    so that neither branch nor its gradient is ever inf or NaN."""
    safe = value(torch.where(condition, inner, torch.full_like(inner, 0.5)))
    return torch.where(condition, safe, torch.full_like(safe, fallback) if isinstance(fallback, float) else fallback)


def _log_cdf_exponential(z):
    return _where(z > 0, lambda t: torch.log(-torch.expm1(-t)), z, -math.inf)


def _log_cdf_uniform(z):
    return _where(z > 0, lambda t: torch.log(t.clamp(max=1.0)), z, -math.inf)


def _log_cdf_laplace(z):
    upper = _where(z >= 0, lambda t: torch.log1p(-0.5 * torch.exp(-t)), z, 0.0)
    return _where(z < 0, lambda t: t - math.log(2.0), z, upper)


def _log_cdf_cauchy(z):
    upper = _where(z >= 0, lambda t: torch.log(0.5 + torch.atan(t) / math.pi), z, 0.0)
    return _where(z < 0, lambda t: torch.log(torch.atan(-1.0 / t) / math.pi), z, upper)


# law → (log F, log f, support interval, number of panels, kinks of F)
LAWS = {
    "exponential": (_log_cdf_exponential, lambda e: -e, (0.0, 40.0), 20, (0.0,)),
    "uniform": (_log_cdf_uniform, torch.zeros_like, (0.0, 1.0), 1, (0.0, 1.0)),
    "normal": (torch.special.log_ndtr, lambda e: -0.5 * e * e - 0.5 * math.log(2 * math.pi), (-15.0, 15.0), 15, ()),
    "logistic": (F.logsigmoid, lambda e: F.logsigmoid(e) + F.logsigmoid(-e), (-40.0, 40.0), 40, ()),
    "laplace": (_log_cdf_laplace, lambda e: -e.abs() - math.log(2.0), (-40.0, 40.0), 40, (0.0,)),
    "cauchy": (_log_cdf_cauchy, None, (-math.pi / 2, math.pi / 2), 40, ()),
}


def quadrature(differences, law):
    """Nodes e and log-weights log(w f(e)) per row and class, (B, n, K), for differences D (B, n, n)."""
    _, log_pdf, (lo, hi), panels, kinks = LAWS[law]
    batch, n, _ = differences.shape
    edges = [torch.linspace(lo, hi, panels + 1, dtype=torch.float64).expand(batch, n, -1)]
    edges += [(kink - differences.detach()).clamp(lo, hi) for kink in kinks]
    edges = torch.cat(edges, dim=-1).sort(dim=-1).values
    x, w = (torch.from_numpy(a) for a in np.polynomial.legendre.leggauss(NODES_PER_PIECE))
    half, middle = (edges[..., 1:] - edges[..., :-1]) / 2, (edges[..., 1:] + edges[..., :-1]) / 2
    nodes = (middle[..., None] + half[..., None] * x).flatten(-2)
    log_w = torch.log(half[..., None] * w).flatten(-2)
    if law == "cauchy":
        return torch.tan(nodes), log_w - math.log(math.pi)
    return nodes, log_w + log_pdf(nodes)


def log_terms(mu, law):
    """log(w_k f(e_k)) + Σ_{j≠i} log F(μ_i − μ_j + e_k): (B, n, K), and the nodes e (B, n, K)."""
    differences = mu[:, :, None] - mu[:, None, :]
    nodes, log_w = quadrature(differences, law)
    log_cdf = LAWS[law][0](differences[..., None] + nodes[:, :, None, :])           # (B, n_i, n_j, K)
    others = ~torch.eye(mu.shape[1], dtype=torch.bool)[None, :, :, None]
    return log_w + torch.where(others, log_cdf, torch.zeros_like(log_cdf)).sum(2), nodes


def log_probs(mu, law, scale):
    if law == "gumbel":
        return torch.log_softmax(mu / scale, dim=-1)
    return torch.logsumexp(log_terms(mu / scale, law)[0], dim=-1)


def potential(mu, law, scale):
    """Φ_s(μ) = E[max_j(μ_j + s ε_j)]: (B,)."""
    mu_s = mu / scale
    if law == "gumbel":
        return scale * (torch.logsumexp(mu_s, dim=-1) + EULER_GAMMA)
    terms, nodes = log_terms(mu_s, law)
    return scale * (torch.exp(terms) * (mu_s[..., None] + nodes)).sum(dim=(1, 2))


def loss(mu, targets, law, kind, scale):
    rows = torch.arange(mu.shape[0])
    if kind == "fy":
        return (potential(mu, law, scale) - mu[rows, targets]).mean()
    chosen = log_probs(mu, law, scale)[rows, targets]
    return (-chosen if kind == "ce" else -chosen.exp()).mean()


LAW_NAMES = ("gumbel", "exponential", "uniform", "normal", "logistic", "laplace", "cauchy")
FUNCTIONS = {f"perturb_max/log_probs_{law}": log_probs for law in LAW_NAMES}
FUNCTIONS["perturb_max/log_probs_normal_scale"] = log_probs
FUNCTIONS.update({f"perturb_max/{kind}_{law}": loss for law in LAW_NAMES for kind in ("ce", "fy", "soft_accuracy")
                  if not (kind == "fy" and law == "cauchy")})
