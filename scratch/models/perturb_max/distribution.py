"""Perturb-max distributions: p_i = P[argmax_j(μ_j + s·ε_j) = i] for i.i.d. noise ε (spec Part A).

With D_ij = μ_i − μ_j (logits divided by the scale s first: noise sε ⇔ logits μ/s), a quadrature
rule (nodes e_k, weights w_k; see ``perturb_max_laws``) gives, in log space (A.2, A.4)::

    S_ki = Σ_{j≠i} log F(D_ij + e_k),        log p_i = logsumexp_k(log w_k + S_ki).

Backward, with h = f/F and the posterior over nodes r_ki = exp(log w_k + S_ki − log p_i) (A.2)::

    ∂ log p_i/∂μ_m = Σ_k r_ki [δ_im Σ_{j≠i} h(D_ij + e_k) − (1 − δ_im) h(D_im + e_k)],

so for an upstream gradient G_i of log p, A_ij = G_i Σ_k r_ki h(D_ij + e_k) (A_ii = 0) and
∂L/∂μ_m = Σ_j A_mj − Σ_i A_im. The rule is exact (exponential, uniform) or accurate to ~1e-13
(Gauss–Hermite for the normal law, graded composite Gauss–Legendre for the others) for the
derivative's integrand as well, so this is the derivative of the computed p to that accuracy;
for fixed-node rules (Gauss–Hermite, the grids) it is exactly the derivative of the rule.

The Gumbel law is softmax(μ/s) in closed form. The potential Φ(μ) = E[max_j(μ_j + sε_j)] has
∇Φ = p (Danskin), which gives the Fenchel–Young loss Φ(μ) − μ_t with gradient p − onehot(t).
Cost: O(B·K·n²) time. The default backend is a Numba loop (``scratch.kernels.perturb_max``) with O(B·K·n)
memory; the NumPy reference below (``backend="numpy"``) defines it and works in chunks of classes
so its (B, c, n, K) temporaries stay bounded.

The file reads in that order: the quadrature rule of a law, the NumPy reference of T and of the
VJP, the dispatch to the Numba twin, log p and Φ, their ``Function``s, and the checked entries.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ... import validation
from ...autograd import Function, Tensor, as_tensor
from ...autograd import functional as F
from ...autograd.array_api import check_indices
from ...kernels.perturb_max import (LAW_CODES, PARALLEL_WORK, log_probs_vjp_kernel, log_probs_vjp_kernel_parallel,
                                    log_terms_kernel, log_terms_kernel_parallel)
from .laws import (
    GAUSS_HERMITE_SIZE,
    LAWS,
    TAIL_SPLIT_SIZE,
    Quadrature,
    exponential_rule,
    gauss_hermite,
    pieces_rule,
    tail_split_pieces,
    tail_split_rule,
    uniform_rule,
)

Array = np.ndarray
KINDS = ("ce", "fy", "soft_accuracy")
SAMPLE_MODES = ("hard", "straight_through", "relaxed")
REDUCTIONS = ("mean", "sum", "none")
BACKENDS = ("numba", "numpy")
# Laws with an exact rule sized by n (A.2), so a node count has no meaning for them.
EXACT_RULE_LAWS = ("exponential", "uniform")
_CHUNK_ELEMENTS = 1 << 21

Nodes = int | Quadrature | None


@functools.lru_cache(maxsize=None)
def _gauss_hermite(size: int) -> tuple[Array, Array]:
    rule = gauss_hermite(size)
    return rule.nodes, rule.log_weights


def quadrature_rule(law: str, mu: Array, nodes: Nodes = None) -> tuple[Array, Array]:
    """Nodes and log-weights, (K,) or (B, n, K), of ``law``'s rule for logits ``mu`` (B, n) (already
    divided by the scale). ``nodes``: None for the law's default rule, an int for its size (Gauss–
    Hermite nodes for the normal law, Gauss–Legendre nodes per panel for the tail-split laws), or a
    ``Quadrature`` (e.g. ``crude_grid(law, K)``, the post's rule) used as given."""
    if isinstance(nodes, Quadrature):
        return nodes.nodes, nodes.log_weights
    if law in EXACT_RULE_LAWS:
        return exponential_rule(mu) if law == "exponential" else uniform_rule(mu)
    if law == "normal":
        return _gauss_hermite(nodes or GAUSS_HERMITE_SIZE)
    return tail_split_rule(law, mu, nodes or TAIL_SPLIT_SIZE)


def quadrature_size(law: str, n: int, nodes: Nodes = None) -> int:
    """K, the number of nodes per (row, class) of ``quadrature_rule`` for n classes (cost O(B·K·n²))."""
    law = _checked_law(law)
    n = validation.integer("n", n, minimum=2)
    nodes = _checked_nodes(law, nodes)
    if isinstance(nodes, Quadrature):
        return len(nodes.nodes)
    if law == "exponential":
        return n // 2 + 1
    if law == "uniform":
        return n * (n // 2 + 1)
    if law == "normal":
        return nodes or GAUSS_HERMITE_SIZE
    return (nodes or TAIL_SPLIT_SIZE) * tail_split_pieces(law, n)


def _chunks(mu: Array, size: int) -> list[slice]:
    batch, n = mu.shape
    step = max(1, _CHUNK_ELEMENTS // max(1, batch * n * size))
    return [slice(lo, min(lo + step, n)) for lo in range(0, n, step)]


def _pairwise(law: str, mu: Array, e: Array, rows: slice) -> tuple[Array, Array]:
    """Z_bijk = D_ij + e_k for the classes i in ``rows`` (B, c, n, K), and log F(Z) with the j = i terms 0."""
    local = e[:, rows, None, :] if e.ndim == 3 else e
    z = (mu[:, rows, None] - mu[:, None, :])[..., None] + local
    with np.errstate(over="ignore"):                         # Gumbel: e^{−z} → ∞ gives log F = −∞
        log_f = LAWS[law].log_cdf(z)
    i = np.arange(rows.start, rows.stop)
    log_f[:, i - rows.start, i, :] = 0.0
    return z, log_f


def log_terms_reference(law: str, mu: Array, e: Array, log_w: Array) -> Array:
    """T_bik = log w_bik + Σ_{j≠i} log F(D_bij + e_bik), (B, n, K): the NumPy definition, in class chunks."""
    out = np.empty((*mu.shape, e.shape[-1]))
    for rows in _chunks(mu, e.shape[-1]):
        out[:, rows] = (log_w[:, rows] if log_w.ndim == 3 else log_w) + _pairwise(law, mu, e, rows)[1].sum(axis=2)
    return out


def log_probs_vjp_reference(law: str, mu: Array, e: Array, terms: Array, log_p: Array, grad: Array) -> Array:
    """Vector–Jacobian product of log p: ``grad`` (B, n) of log p → gradient of μ (B, n); NumPy definition."""
    law_ = LAWS[law]
    out = np.zeros_like(mu)
    alive = np.isfinite(log_p)
    for rows in _chunks(mu, e.shape[-1]):
        z, log_f = _pairwise(law, mu, e, rows)
        r = np.where(alive[:, rows, None], np.exp(terms[:, rows] - np.where(alive, log_p, 0.0)[:, rows, None]), 0.0)
        # A zero factor F(z) = 0 lies below a bounded support, where f(z) = 0 as well.
        with np.errstate(over="ignore"):
            h = np.where(log_f == -np.inf, 0.0, law_.hazard(z))
        i = np.arange(rows.start, rows.stop)
        h[:, i - rows.start, i, :] = 0.0
        a = grad[:, rows, None] * np.einsum("bck,bcjk->bcj", r, h)                 # A_ij, (B, c, n)
        out[:, rows] += a.sum(axis=2)
        out -= a.sum(axis=1)
    return out


def _full(x: Array, shape: tuple[int, int]) -> Array:
    """Nodes or log-weights as a contiguous (B, n, K) array (fixed rules are shared by every row and class)."""
    return np.ascontiguousarray(np.broadcast_to(x, (*shape, x.shape[-1])))


def _work(mu: Array, e: Array) -> int:
    """B·n²·K, the number of terms of either loop."""
    return mu.shape[0] * mu.shape[1] ** 2 * e.shape[-1]


def log_terms(law: str, mu: Array, e: Array, log_w: Array, backend: str = "numba") -> Array:
    """T (B, n, K) by the Numba loop (default) or the NumPy reference."""
    if validation.choice("backend", backend, BACKENDS) == "numpy":
        return log_terms_reference(law, mu, e, log_w)
    kernel = log_terms_kernel_parallel if _work(mu, e) > PARALLEL_WORK else log_terms_kernel
    return kernel(LAW_CODES[law], np.ascontiguousarray(mu), _full(e, mu.shape), _full(log_w, mu.shape))


def log_probs_vjp(law: str, mu: Array, e: Array, terms: Array, log_p: Array, grad: Array,
                  backend: str = "numba") -> Array:
    """∂L/∂μ (B, n) from ``grad`` of log p, by the Numba loop (default) or the NumPy reference."""
    if validation.choice("backend", backend, BACKENDS) == "numpy":
        return log_probs_vjp_reference(law, mu, e, terms, log_p, grad)
    kernel = log_probs_vjp_kernel_parallel if _work(mu, e) > PARALLEL_WORK else log_probs_vjp_kernel
    return kernel(LAW_CODES[law], np.ascontiguousarray(mu), _full(e, mu.shape), terms, log_p, np.ascontiguousarray(grad))


def _logsumexp(x: Array, axis: int) -> Array:
    """logsumexp that returns −∞ (not NaN) when every term is −∞ (a class with p = 0 exactly)."""
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(top, axis) + np.log(np.sum(np.exp(x - top), axis=axis))


def potential_forward(law: str, mu: Array, nodes: Nodes = None, backend: str = "numba") -> tuple[Array, Array]:
    """Φ(μ) = E[max_j(μ_j + ε_j)] (B,) and p (B, n) at unit scale (A.2 FY loss).

    Generic rules: Φ = Σ_i Σ_k w_k (μ_i + e_k) e^{S_ki}. The exponential law uses the exact
    Φ = max μ + ∫_0^1 (1 − Π_j(1 − ρ_j u))/u du (a polynomial integrand: max(μ + ε) ≥ max μ and
    P[max > max μ − log u] = 1 − Π_j(1 − ρ_j u)), since its generic integrand holds a log t.
    ``backend`` as in ``log_terms``.
    """
    if law == "cauchy":
        raise ValueError("the Cauchy law has no mean, so Φ(μ) = E[max(μ + ε)] and the FY loss are undefined")
    e, log_w = quadrature_rule(law, mu, nodes)
    terms = log_terms(law, mu, e, log_w, backend)
    log_p = _logsumexp(terms, axis=2)
    with np.errstate(invalid="ignore"):
        phi = np.sum(np.where(terms > -np.inf, np.exp(terms) * (mu[..., None] + e), 0.0), axis=(1, 2))
    if law == "exponential" and not isinstance(nodes, Quadrature):
        top = mu.max(axis=1)
        u, log_wu = pieces_rule(np.array([0.0, 1.0]), mu.shape[1] // 2 + 1)
        rho = np.exp(mu - top[:, None])
        none_above = np.exp(np.sum(np.log1p(-rho[:, :, None] * u), axis=1))          # Π_j (1 − ρ_j u_k)
        phi = top + np.sum(np.exp(log_wu) * (1.0 - none_above) / u, axis=1)
    return phi, np.exp(log_p)


class PerturbMaxLogProbs(Function):
    """log p (B, n) of logits μ (B, n) for a noise law at scale s; hand-derived VJP (module docstring)."""

    @staticmethod
    def forward(ctx, mu: Array, *, law: str, scale: float, nodes: Nodes) -> Array:
        mu_s = mu.astype(np.float64) / scale
        e, log_w = quadrature_rule(law, mu_s, nodes)
        terms = log_terms(law, mu_s, e, log_w)
        log_p = _logsumexp(terms, axis=2)
        ctx.save_for_backward(mu_s, e, terms, log_p)
        ctx.law, ctx.scale = law, scale
        return log_p.astype(mu.dtype)

    @staticmethod
    def backward(ctx, grad: Array):
        mu_s, e, terms, log_p = ctx.saved_tensors
        g = log_probs_vjp(ctx.law, mu_s, e, terms, log_p, grad.astype(np.float64)) / ctx.scale
        return g.astype(grad.dtype)


class PerturbMaxPotential(Function):
    """Φ_s(μ) = E[max_j(μ_j + sε_j)] = s·Φ_1(μ/s), (B, n) → (B,); backward g·p (∇Φ = p)."""

    @staticmethod
    def forward(ctx, mu: Array, *, law: str, scale: float, nodes: Nodes) -> Array:
        if law == "gumbel" and nodes is None:
            mu_s = mu.astype(np.float64) / scale
            top = mu_s.max(axis=1, keepdims=True)
            lse = top[:, 0] + np.log(np.sum(np.exp(mu_s - top), axis=1))
            phi, p = lse + np.euler_gamma, np.exp(mu_s - lse[:, None])
        else:
            phi, p = potential_forward(law, mu.astype(np.float64) / scale, nodes)
        ctx.save_for_backward(p)
        return (scale * phi).astype(mu.dtype)

    @staticmethod
    def backward(ctx, grad: Array):
        (p,) = ctx.saved_tensors
        return (grad[:, None] * p).astype(grad.dtype)


def _checked_law(law: str) -> str:
    return validation.choice("law", law, LAWS)


def _checked_nodes(law: str, nodes: Nodes) -> Nodes:
    """None, a Quadrature, or a positive int (not for the laws whose rule is exact)."""
    if nodes is None or isinstance(nodes, Quadrature):
        return nodes
    nodes = validation.positive_int("nodes", nodes)
    if law in EXACT_RULE_LAWS:
        raise ValueError(f"the {law} law uses its exact rule: nodes must be None or a Quadrature, got {nodes}")
    return nodes


def _checked(mu: Any, law: str, scale: float, nodes: Nodes) -> tuple[Tensor, str, float, Nodes]:
    """The logits as a Tensor and the settings, each checked (errors name the argument)."""
    law = _checked_law(law)
    scale = validation.positive_real("scale", scale)
    nodes = _checked_nodes(law, nodes)
    mu = as_tensor(mu)
    if mu.dtype.kind != "f":
        raise TypeError(f"mu must be a floating-point array of logits, got dtype {mu.dtype}")
    if mu.ndim != 2:
        raise ValueError(f"mu must be a (B, n) array of logits, got shape {mu.shape}")
    if mu.shape[1] < 2:
        raise ValueError(f"mu needs at least n = 2 classes per row, got n = {mu.shape[1]}")
    validation.finite("mu", mu.data)
    return mu, law, scale, nodes


def perturb_max_log_probs(mu: Any, law: str = "normal", *, scale: float = 1.0, nodes: Nodes = None) -> Tensor:
    """log P[argmax_j(μ_j + s·ε_j) = i], ε_j i.i.d. from ``law``: mu (B, n) → (B, n).

    ``law`` ∈ {"gumbel", "exponential", "uniform", "normal", "logistic", "laplace", "cauchy"}; the
    Gumbel law is log_softmax(μ/s) unless ``nodes`` asks for a quadrature; ``nodes`` as in
    ``quadrature_rule``. Uniform noise gives −∞ (p = 0 exactly) for classes ≥ s below the maximum.
    """
    mu, law, scale, nodes = _checked(mu, law, scale, nodes)
    if law == "gumbel" and nodes is None:
        return F.log_softmax(mu / scale, axis=-1)
    return PerturbMaxLogProbs.apply(mu, law=law, scale=scale, nodes=nodes)


def perturb_max_probs(mu: Any, law: str = "normal", *, scale: float = 1.0, nodes: Nodes = None) -> Tensor:
    """P[argmax_j(μ_j + s·ε_j) = i]: mu (B, n) → probabilities (B, n), exp of ``perturb_max_log_probs``."""
    return perturb_max_log_probs(mu, law, scale=scale, nodes=nodes).exp()


def perturb_max_potential(mu: Any, law: str = "normal", *, scale: float = 1.0, nodes: Nodes = None) -> Tensor:
    """Φ(μ) = E[max_j(μ_j + s·ε_j)]: mu (B, n) → (B,), with ∇Φ = p (Gumbel: s·(logsumexp(μ/s) + γ))."""
    mu, law, scale, nodes = _checked(mu, law, scale, nodes)
    return PerturbMaxPotential.apply(mu, law=law, scale=scale, nodes=nodes)


def perturb_max_loss(mu: Any, targets: Any, law: str = "normal", kind: str = "ce", *, scale: float = 1.0,
                     nodes: Nodes = None, reduction: str = "mean") -> Tensor:
    """Mean (or sum, or per-row with reduction="none") loss of logits mu (B, n) for class ``targets`` (B,).

    kind "ce": −log p_t; "fy": Fenchel–Young Φ(μ) − μ_t, gradient p − onehot(t); "soft_accuracy": −p_t
    (the EXACT loss). CE is +∞ for a target with p_t = 0 (uniform noise); FY stays finite.
    """
    kind = validation.choice("kind", kind, KINDS)
    reduction = validation.choice("reduction", reduction, REDUCTIONS)
    mu, law, scale, nodes = _checked(mu, law, scale, nodes)
    t = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if t.shape != mu.shape[:1]:
        raise ValueError(f"targets must have shape {mu.shape[:1]} (one class per row of mu), got {t.shape}")
    t = check_indices(t, mu.shape[1], "targets", allow_negative=False)
    rows = np.arange(len(t))
    if kind == "fy":
        loss = perturb_max_potential(mu, law, scale=scale, nodes=nodes) - mu[rows, t]
    elif kind == "ce":
        loss = -perturb_max_log_probs(mu, law, scale=scale, nodes=nodes)[rows, t]
    else:
        loss = -perturb_max_probs(mu, law, scale=scale, nodes=nodes)[rows, t]
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def perturb_max_sample(mu: Any, law: str = "normal", *, scale: float = 1.0, rng: np.random.Generator,
                       mode: str = "hard", temperature: float = 1.0, nodes: Nodes = None) -> Tensor:
    """One sample per row of mu (B, n) as a one-hot (B, n): y = onehot(argmax(μ + s·ε)), ε ~ ``law``.

    mode "hard": no gradient. "straight_through": the value y with the gradient of p (y + p − stop(p)).
    "relaxed": softmax((μ + s·ε)/τ) with ``temperature`` τ, the Gumbel-softmax relaxation for any law
    (a reparameterised, differentiable sample; not one-hot).
    """
    mode = validation.choice("mode", mode, SAMPLE_MODES)
    temperature = validation.positive_real("temperature", temperature)
    rng = validation.generator("rng", rng)
    mu, law, scale, nodes = _checked(mu, law, scale, nodes)
    noisy = mu + Tensor(scale * LAWS[law].sample(rng, mu.shape), dtype=mu.dtype)
    if mode == "relaxed":
        return F.softmax(noisy / temperature, axis=-1)
    onehot = np.zeros(mu.shape, dtype=mu.dtype)
    onehot[np.arange(len(onehot)), noisy.data.argmax(axis=1)] = 1
    if mode == "hard":
        return Tensor(onehot)
    p = perturb_max_probs(mu, law, scale=scale, nodes=nodes)
    return p + Tensor(onehot - p.data)
