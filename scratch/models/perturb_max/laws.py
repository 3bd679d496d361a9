"""Noise laws and quadrature rules for perturb-max distributions (spec Part A.2–A.3).

A perturb-max probability is an integral over the noise ε_i of the winning class (A.2)::

    p_i = ∫ f(ε) Π_{j≠i} F(D_ij + ε) dε,        D_ij = μ_i − μ_j,

and every rule below turns it into  p_i = Σ_k w_k exp(S_ki),  S_ki = Σ_{j≠i} log F(D_ij + e_k),
with nodes ``e`` and log-weights ``log w`` of shape (K,) (fixed nodes) or (B, n, K) (nodes placed
per row and class: at kinks, or on the support of the winning class). A ``NoiseLaw`` supplies
log F, the hazard h = f/F = d log F/dz used by the backward, the quantile functions that place the
nodes, and a sampler for Monte Carlo checks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

from ... import validation

Array = np.ndarray
# Gauss–Hermite nodes of the normal law: ~1e-13 absolute and log p right down to −130 at gaps ≤ 20,
# where 32 nodes fail (A.3).
GAUSS_HERMITE_SIZE = 64
# Gauss–Legendre nodes per panel of the tail-split rule: the smallest count whose Σp − 1 and
# agreement with adaptive quadrature stay below 1e-12 at gaps up to 20 (tests/models).
TAIL_SPLIT_SIZE = 12


@dataclass(frozen=True)
class NoiseLaw:
    """A standard noise law: log CDF and log density at z, quantiles t ↦ F⁻¹(t) and q ↦ F⁻¹(1 − q),
    the CDF and survival function (to place kinks), and ``sample(rng, shape)``."""

    name: str
    log_cdf: Callable[[Array], Array]
    log_pdf: Callable[[Array], Array]
    ppf: Callable[[Array], Array]
    isf: Callable[[Array], Array]
    cdf: Callable[[Array], Array]
    sf: Callable[[Array], Array]
    sample: Callable[[np.random.Generator, tuple], Array]
    direct_hazard: Callable[[Array], Array] | None = None

    def hazard(self, z: Array) -> Array:
        """h(z) = f(z)/F(z), computed as exp(log f − log F); 0 where F and f vanish (below the support)."""
        if self.direct_hazard is not None:
            return self.direct_hazard(z)
        with np.errstate(invalid="ignore"):
            h = np.exp(self.log_pdf(z) - self.log_cdf(z))
        return np.where(np.isnan(h), 0.0, h)


def _log(x: Array) -> Array:
    with np.errstate(divide="ignore"):
        return np.log(x)


def _laplace_log_cdf(z: Array) -> Array:
    # F(z) = e^z/2 for z < 0 and 1 − e^{−z}/2 above.
    return np.where(z < 0, np.minimum(z, 0.0) - math.log(2.0), np.log1p(-0.5 * np.exp(-np.maximum(z, 0.0))))


def _exponential_log_cdf(z: Array) -> Array:
    # log(1 − e^{−z}) = log(−expm1(−z)) keeps precision near z = 0⁺.
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(z > 0, _log(-np.expm1(-np.maximum(z, 0.0))), -np.inf)


def _cauchy_cdf(z: Array) -> Array:
    # ½ + arctan(z)/π loses the digits of a small lower tail; arctan(−1/z)/π keeps them (z < 0).
    with np.errstate(divide="ignore"):
        return np.where(z < 0, np.arctan(-1.0 / np.minimum(z, -1e-300)) / math.pi, 0.5 + np.arctan(z) / math.pi)


LAWS: dict[str, NoiseLaw] = {
    "gumbel": NoiseLaw(
        "gumbel",
        log_cdf=lambda z: -np.exp(-z),
        log_pdf=lambda z: -z - np.exp(-z),
        ppf=lambda t: -np.log(-np.log(t)),
        isf=lambda q: -np.log(-np.log1p(-q)),
        cdf=lambda z: np.exp(-np.exp(-z)),
        sf=lambda z: -np.expm1(-np.exp(-z)),
        sample=lambda rng, shape: rng.gumbel(size=shape),
    ),
    "exponential": NoiseLaw(
        "exponential",
        log_cdf=_exponential_log_cdf,
        log_pdf=lambda z: np.where(z >= 0, -z, -np.inf),
        ppf=lambda t: -np.log1p(-t),
        isf=lambda q: -np.log(q),
        cdf=lambda z: -np.expm1(-np.maximum(z, 0.0)),
        sf=lambda z: np.exp(-np.maximum(z, 0.0)),
        sample=lambda rng, shape: rng.exponential(size=shape),
    ),
    "uniform": NoiseLaw(
        "uniform",
        log_cdf=lambda z: _log(np.clip(z, 0.0, 1.0)),
        log_pdf=lambda z: np.where((z >= 0) & (z <= 1), 0.0, -np.inf),
        ppf=lambda t: t,
        isf=lambda q: 1.0 - q,
        cdf=lambda z: np.clip(z, 0.0, 1.0),
        sf=lambda z: 1.0 - np.clip(z, 0.0, 1.0),
        sample=lambda rng, shape: rng.random(size=shape),
    ),
    "normal": NoiseLaw(
        "normal",
        log_cdf=special.log_ndtr,
        log_pdf=lambda z: -0.5 * z * z - 0.5 * math.log(2 * math.pi),
        ppf=special.ndtri,
        isf=lambda q: -special.ndtri(q),
        cdf=special.ndtr,
        sf=lambda z: special.ndtr(-z),
        sample=lambda rng, shape: rng.standard_normal(size=shape),
        # φ(z)/Φ(z) = √(2/π)/erfcx(−z/√2): one special function, stable in both tails.
        direct_hazard=lambda z: math.sqrt(2 / math.pi) / special.erfcx(-z / math.sqrt(2)),
    ),
    "logistic": NoiseLaw(
        "logistic",
        log_cdf=special.log_expit,
        log_pdf=lambda z: special.log_expit(z) + special.log_expit(-z),
        ppf=special.logit,
        isf=lambda q: -special.logit(q),
        cdf=special.expit,
        sf=lambda z: special.expit(-z),
        sample=lambda rng, shape: rng.logistic(size=shape),
    ),
    "laplace": NoiseLaw(
        "laplace",
        log_cdf=_laplace_log_cdf,
        log_pdf=lambda z: -np.abs(z) - math.log(2.0),
        ppf=lambda t: np.where(t < 0.5, np.log(2 * np.minimum(t, 0.5)), -np.log(2 * (1 - np.maximum(t, 0.5)))),
        isf=lambda q: -np.log(2 * q),
        cdf=lambda z: np.exp(_laplace_log_cdf(z)),
        sf=lambda z: np.exp(_laplace_log_cdf(-z)),
        sample=lambda rng, shape: rng.laplace(size=shape),
    ),
    "cauchy": NoiseLaw(
        "cauchy",
        log_cdf=lambda z: np.log(_cauchy_cdf(z)),
        log_pdf=lambda z: -np.log(math.pi * (1 + z * z)),
        ppf=lambda t: -1.0 / np.tan(math.pi * t),
        isf=lambda q: 1.0 / np.tan(math.pi * q),
        cdf=_cauchy_cdf,
        sf=lambda z: _cauchy_cdf(-z),
        sample=lambda rng, shape: rng.standard_cauchy(size=shape),
    ),
}


@dataclass(frozen=True)
class Quadrature:
    """Fixed nodes e_k and log-weights log w_k, both (K,), of a rule p_i ≈ Σ_k w_k Π_{j≠i} F(D_ij + e_k)."""

    name: str
    nodes: Array
    log_weights: Array


def gauss_hermite(size: int = GAUSS_HERMITE_SIZE) -> Quadrature:
    """Normal noise (A.3): probabilists' Gauss–Hermite nodes, weights w_k/√(2π) (Σw = 1)."""
    size = validation.positive_int("size", size)
    e, w = np.polynomial.hermite_e.hermegauss(size)
    return Quadrature(f"gauss-hermite-{size}", e, np.log(w) - 0.5 * math.log(2 * math.pi))


def crude_grid(law: str, size: int = 64) -> Quadrature:
    """The post's rule (A.1): equal weights 1/K at e_k = F⁻¹(k/(K+1)); O(1/K), loses mass at both ends."""
    law, size = validation.choice("law", law, LAWS), validation.positive_int("size", size)
    t = np.arange(1, size + 1) / (size + 1)
    return Quadrature(f"grid-{size}", LAWS[law].ppf(t), np.full(size, -math.log(size)))


def midpoint_grid(law: str, size: int = 1024) -> Quadrature:
    """Midpoint rule in t = F(ε): e_k = F⁻¹((k − ½)/K), weights 1/K (A.3: ~6–12× better than the grid)."""
    law, size = validation.choice("law", law, LAWS), validation.positive_int("size", size)
    t = (np.arange(size) + 0.5) / size
    return Quadrature(f"midpoint-{size}", LAWS[law].ppf(t), np.full(size, -math.log(size)))


def _legendre_on_unit(size: int) -> tuple[Array, Array]:
    """Gauss–Legendre nodes and weights on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(size)
    return 0.5 * (x + 1.0), 0.5 * w


def _off_diagonal(x: Array) -> Array:
    """The entries j ≠ i of x (B, n, n): (B, n, n − 1)."""
    batch, n, _ = x.shape
    return np.delete(x.reshape(batch, n * n), np.arange(n) * (n + 1), axis=1).reshape(batch, n, n - 1)


def pieces_rule(breaks: Array, size: int) -> tuple[Array, Array]:
    """Gauss–Legendre with ``size`` nodes on every piece between consecutive sorted ``breaks`` (..., P+1).

    Returns nodes and log-weights (..., P·size); a piece of zero length gets weight 0 (log w = −∞).
    """
    x, w = _legendre_on_unit(size)
    lo, length = breaks[..., :-1, None], np.diff(breaks, axis=-1)[..., None]
    nodes = (lo + length * x).reshape(*breaks.shape[:-1], -1)
    log_weights = (_log(length) + np.log(w)).reshape(nodes.shape)
    return nodes, log_weights


def exponential_rule(mu: Array) -> tuple[Array, Array]:
    """Exponential(1) noise, exact (A.2): p_i = ρ_i ∫_0^1 Π_{j≠i}(1 − ρ_j t) dt, ρ_j = e^{μ_j − max μ}.

    The integrand is a polynomial of degree n − 1 in t (the derivative's is lower, Φ's integrand one
    higher), so Gauss–Legendre with ⌊n/2⌋ + 1 nodes is exact. In the generic form the node of
    class i is e = (max μ − μ_i) − log t (so F(D_ij + e) = 1 − ρ_j t) with log-weight log w + μ_i − max μ.
    mu: (B, n) → nodes, log-weights (B, n, K).
    """
    t, w = _legendre_on_unit(mu.shape[1] // 2 + 1)
    gap = mu.max(axis=1, keepdims=True) - mu
    return gap[..., None] - np.log(t), np.log(w) - gap[..., None]


def uniform_rule(mu: Array) -> tuple[Array, Array]:
    """Uniform[0, 1] noise, exact (A.2): p_i = ∫_{g_i}^1 Π_{j≠i} min(ε + D_ij, 1) dε, g_i = max μ − μ_i.

    On [g_i, 1] every factor is positive; the integrand is a polynomial of degree ≤ n − 1 between
    the kinks ε = 1 − D_ij, so Gauss–Legendre with ⌊n/2⌋ + 1 nodes per piece is exact (also for Φ's
    integrand, one degree higher). A class with g_i ≥ 1 has only empty pieces: p_i = 0 exactly.
    mu: (B, n) → nodes, log-weights (B, n, n·K).
    """
    n = mu.shape[1]
    gap = np.minimum(mu.max(axis=1, keepdims=True) - mu, 1.0)[..., None]             # (B, n, 1)
    kinks = _off_diagonal(np.clip(1.0 + mu[:, None, :] - mu[:, :, None], gap, 1.0))   # 1 − D_ij, (B, n, n − 1)
    breaks = np.sort(np.concatenate([gap, kinks, np.ones_like(gap)], axis=2), axis=2)
    return pieces_rule(breaks, n // 2 + 1)


# Panel boundaries ½·4^{-k} (k = 0..20) in the tail coordinate t = F(ε) or q = 1 − F(ε): panels
# about log 4 wide in ε for exponential tails, geometric in ε for the Cauchy tail.
_TAIL_BREAKS = np.concatenate([[0.0], 0.5 * 4.0 ** -np.arange(20, -1, -1)])
# Breakpoints around each kink ε = −D_ij, as offsets in ε: the Cauchy factor F(D_ij + ε) has complex
# singularities at ε = −D_ij ± i, which panels graded by 3 around the kink keep at a fixed relative
# distance; the lighter-tailed laws need only the kink itself.
_KINK_OFFSETS = {"cauchy": np.array([-27.0, -9.0, -3.0, -1.0, 0.0, 1.0, 3.0, 9.0, 27.0])}


def tail_split_pieces(law: str, n: int) -> int:
    """Number of panels of ``tail_split_rule`` for n classes: the graded base panels plus the kink cuts."""
    law, n = validation.choice("law", law, LAWS), validation.integer("n", n, minimum=2)
    return 2 * (len(_TAIL_BREAKS) - 1) + (n - 1) * len(_KINK_OFFSETS.get(law, np.zeros(1)))


def tail_split_rule(law: str, mu: Array, size: int = TAIL_SPLIT_SIZE) -> tuple[Array, Array]:
    """Composite Gauss–Legendre in the probability coordinate, for laws with unbounded support (A.3).

    The line is cut at the median, at panels graded toward both tails, and at the kinks ε = −D_ij
    where a factor F(D_ij + ε) turns from ~0 to ~1 (for the Laplace law a true kink: splitting there
    leaves a smooth integrand on every panel). A panel below the median is integrated in t = F(ε),
    one above it in q = 1 − F(ε) (dt = f dε, so the weights are Gauss–Legendre weights times the
    panel's probability), which keeps full precision for nodes far out in either tail.
    mu: (B, n) → nodes, log-weights (B, n, K).
    """
    noise = LAWS[validation.choice("law", law, LAWS)]
    size = validation.positive_int("size", size)
    batch, n = mu.shape
    median = float(noise.ppf(np.array(0.5)))
    kinks = _off_diagonal(mu[:, None, :] - mu[:, :, None])                              # −D_ij, (B, n, n − 1)
    kinks = (kinks[..., None] + _KINK_OFFSETS.get(law, np.zeros(1))).reshape(batch, n, -1)
    with np.errstate(divide="ignore", over="ignore"):
        base = np.concatenate([noise.ppf(_TAIL_BREAKS), noise.isf(_TAIL_BREAKS[-2::-1])])
    breaks = np.sort(np.concatenate([np.broadcast_to(base, (batch, n, len(base))), kinks], axis=2), axis=2)
    lower = breaks[..., 1:] <= median                                                   # piece lies below the median
    with np.errstate(over="ignore"):
        t, sf = noise.cdf(breaks), noise.sf(breaks)
    start = np.where(lower, t[..., :-1], sf[..., 1:])
    length = np.where(lower, np.diff(t, axis=-1), sf[..., :-1] - sf[..., 1:])
    x, w = _legendre_on_unit(size)
    coord = np.minimum((start[..., None] + length[..., None] * x).reshape(batch, n, -1), 0.5)
    with np.errstate(divide="ignore"):
        nodes = np.where(np.repeat(lower, size, axis=-1), noise.ppf(coord), noise.isf(coord))
    log_weights = (_log(length)[..., None] + np.log(w)).reshape(batch, n, -1)
    return nodes, log_weights
