"""Numba loops of the perturb-max forward and backward (twins of the NumPy reference in ``perturb_max``).

Forward, per row b, class i and node k (spec A.2, A.4)::

    T_bik = log w_bik + Σ_{j≠i} log F(μ_bi − μ_bj + e_bik)

Backward, with r_bik = exp(T_bik − log p_bi) and upstream gradient G of log p::

    A_bij = G_bi Σ_k r_bik h(μ_bi − μ_bj + e_bik),    ∂L/∂μ_bm = Σ_j A_bmj − Σ_i A_bim.

One pass over (b, i, k, j) each, without the (B, n, n, K) temporaries of the NumPy version. Each
loop has a serial form and a ``_parallel`` one that shares the rows b among Numba's threads: a
minibatch call is small, and on a shared 2-core machine a parallel launch cost more than it saved
(80 ms vs 1 ms per small call when the other core was busy), so the caller takes the parallel form
only above ``PARALLEL_WORK`` terms B·n²·K.
The law is a named integer code (``LAW_GUMBEL`` … ``LAW_CAUCHY``, by name in ``LAW_CODES``) so one
compiled loop serves every law; ``log_cdf`` and ``hazard`` below are the scalar forms of
``scratch.models.perturb_max.laws.LAWS[law].log_cdf`` and ``.hazard``, and the NumPy reference of
both loops (``log_terms_reference``, ``log_probs_vjp_reference``) is in
``scratch.models.perturb_max.distribution``, next to those laws.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

LAW_GUMBEL = 0
LAW_EXPONENTIAL = 1
LAW_UNIFORM = 2
LAW_NORMAL = 3
LAW_LOGISTIC = 4
LAW_LAPLACE = 5
LAW_CAUCHY = 6
LAW_CODES = {"gumbel": LAW_GUMBEL, "exponential": LAW_EXPONENTIAL, "uniform": LAW_UNIFORM, "normal": LAW_NORMAL,
             "logistic": LAW_LOGISTIC, "laplace": LAW_LAPLACE, "cauchy": LAW_CAUCHY}
PARALLEL_WORK = 1 << 22  # B·n²·K above which the rows are shared among threads
_LOG_2PI_HALF = 0.5 * math.log(2 * math.pi)
_SQRT_HALF = math.sqrt(0.5)


@njit(cache=True)
def _normal_log_cdf(z: float) -> float:
    if z > 0:
        return math.log1p(-0.5 * math.erfc(z * _SQRT_HALF))
    if z > -37.0:
        return math.log(0.5 * math.erfc(-z * _SQRT_HALF))
    # Asymptotic series of Φ(z)·√(2π)·(−z)·e^{z²/2}: relative error < 3e-13 below −37, where erfc
    # nears underflow.
    u = 1.0 / (z * z)
    return -0.5 * z * z - math.log(-z) - _LOG_2PI_HALF + math.log1p(u * (-1.0 + u * (3.0 + u * (-15.0 + u * 105.0))))


@njit(cache=True)
def log_cdf(law: int, z: float) -> float:
    """log F(z) of the law with code ``law``."""
    if law == LAW_GUMBEL:
        return -math.exp(-z) if z > -700.0 else -math.inf
    if law == LAW_EXPONENTIAL:
        return math.log(-math.expm1(-z)) if z > 0 else -math.inf
    if law == LAW_UNIFORM:
        return -math.inf if z <= 0 else (math.log(z) if z < 1 else 0.0)
    if law == LAW_NORMAL:
        return _normal_log_cdf(z)
    if law == LAW_LOGISTIC:
        return -math.log1p(math.exp(-z)) if z > 0 else z - math.log1p(math.exp(z))
    if law == LAW_LAPLACE:
        return z - math.log(2.0) if z < 0 else math.log1p(-0.5 * math.exp(-z))
    # LAW_CAUCHY
    if z < 0:
        return math.log(math.atan(-1.0 / z) / math.pi)
    return math.log(0.5 + math.atan(z) / math.pi)


@njit(cache=True)
def hazard(law: int, z: float) -> float:
    """h(z) = f(z)/F(z) of the law with code ``law``, straight from f and F (no logarithm); 0 where F(z) = 0."""
    if law == LAW_GUMBEL:
        return math.exp(-z) if z > -700.0 else 0.0
    if law == LAW_EXPONENTIAL:
        return 1.0 / math.expm1(z) if z > 0 else 0.0
    if law == LAW_UNIFORM:
        return 1.0 / z if 0 < z < 1 else 0.0
    if law == LAW_NORMAL:
        if z > -37.0:
            return math.exp(-0.5 * z * z - _LOG_2PI_HALF) / (0.5 * math.erfc(-z * _SQRT_HALF))
        u = 1.0 / (z * z)                     # φ/Φ from the asymptotic series of Φ (see _normal_log_cdf)
        return -z / (1.0 + u * (-1.0 + u * (3.0 + u * (-15.0 + u * 105.0))))
    if law == LAW_LOGISTIC:
        return 1.0 / (1.0 + math.exp(z))
    if law == LAW_LAPLACE:
        return 1.0 if z < 0 else 0.5 * math.exp(-z) / (1.0 - 0.5 * math.exp(-z))
    # LAW_CAUCHY
    cdf = math.atan(-1.0 / z) / math.pi if z < 0 else 0.5 + math.atan(z) / math.pi
    return 1.0 / (math.pi * (1.0 + z * z) * cdf)


@njit(cache=True)
def _log_terms_row(law, mu, e, log_w, out, b):
    """Row b of T: out[b, i, k] = log w_bik + Σ_{j≠i} log F(μ_bi − μ_bj + e_bik)."""
    n, size = mu.shape[1], e.shape[2]
    for i in range(n):
        for k in range(size):
            s = log_w[b, i, k]
            for j in range(n):
                if j != i:
                    s += log_cdf(law, mu[b, i] - mu[b, j] + e[b, i, k])
            out[b, i, k] = s


@njit(cache=True)
def _vjp_row(law, mu, e, terms, log_p, grad, out, b):
    """Row b of ∂L/∂μ: Σ_j A_bmj − Σ_i A_bim into out[b] (zeros on entry)."""
    n, size = mu.shape[1], e.shape[2]
    for i in range(n):
        if log_p[b, i] == -math.inf or grad[b, i] == 0.0:
            continue
        for k in range(size):
            r = math.exp(terms[b, i, k] - log_p[b, i])
            if r == 0.0:
                continue
            for j in range(n):
                if j != i:
                    z = mu[b, i] - mu[b, j] + e[b, i, k]
                    a = grad[b, i] * r * hazard(law, z)
                    out[b, i] += a
                    out[b, j] -= a


@njit(cache=True)
def log_terms_kernel(law: int, mu: np.ndarray, e: np.ndarray, log_w: np.ndarray) -> np.ndarray:
    """T (B, n, K) from mu (B, n), nodes e and log-weights log_w (B, n, K)."""
    out = np.empty((mu.shape[0], mu.shape[1], e.shape[2]))
    for b in range(mu.shape[0]):
        _log_terms_row(law, mu, e, log_w, out, b)
    return out


@njit(cache=True, parallel=True)
def log_terms_kernel_parallel(law: int, mu: np.ndarray, e: np.ndarray, log_w: np.ndarray) -> np.ndarray:
    """``log_terms_kernel`` with the rows shared among Numba's threads (rows are independent)."""
    out = np.empty((mu.shape[0], mu.shape[1], e.shape[2]))
    for b in prange(mu.shape[0]):
        _log_terms_row(law, mu, e, log_w, out, b)
    return out


@njit(cache=True)
def log_probs_vjp_kernel(law: int, mu: np.ndarray, e: np.ndarray, terms: np.ndarray, log_p: np.ndarray,
                         grad: np.ndarray) -> np.ndarray:
    """∂L/∂μ (B, n) from the upstream gradient ``grad`` (B, n) of log p (B, n) and the forward's T."""
    out = np.zeros(mu.shape)
    for b in range(mu.shape[0]):
        _vjp_row(law, mu, e, terms, log_p, grad, out, b)
    return out


@njit(cache=True, parallel=True)
def log_probs_vjp_kernel_parallel(law: int, mu: np.ndarray, e: np.ndarray, terms: np.ndarray, log_p: np.ndarray,
                                  grad: np.ndarray) -> np.ndarray:
    """``log_probs_vjp_kernel`` with the rows shared among Numba's threads."""
    out = np.zeros(mu.shape)
    for b in prange(mu.shape[0]):
        _vjp_row(law, mu, e, terms, log_p, grad, out, b)
    return out
