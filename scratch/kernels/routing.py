"""Dynamic routing between capsules (spec capsule.md §3), as one autograd node.

For one sample, predictions Û_ji = û_{j|i} ∈ R^D (j = 1..K outputs, i = 1..N inputs) are routed by
R iterations, t = 0..R−1, starting from logits b⁰ = 0:

    c^t_ij = softmax_j(b^t_ij)                 (over the outputs j, for each input i)
    s^t_j  = Σ_i c^t_ij Û_ji
    t = R−1:  v_j = squash_ε(s^t_j), the output
    t < R−1:  o^t_j = φ(s^t_j),  a^t_ij = Û_ji · o^t_j,  b^{t+1} = b^t + a^t  or  a^t

with the three modes of the spec:

    "sabour"  φ = squash_ε, logits accumulated  (Sabour et al. 2017, Procedure 1)
    "su1"     φ = squash_ε, logits replaced     (Su, kexue.fm/archives/4819)
    "su2"     φ = normalise, logits replaced    (Su, kexue.fm/archives/5112; the default)

squash_ε(s) = g·s with n = ‖s‖² + 1e-7 and g = √n/(ε + n), so ‖v‖ = n/(ε + n);
normalise(s) = s/r with r = √max(‖s‖², 1e-12).

Backward ("Routing backward" of the spec): walk the iterations in reverse with δ = ∂L/∂b^{t+1},

    t = R−1:  gs = squash_bwd(ḡ_v)
    t < R−1:  gÛ_ji += δ_ij o^t_j,  go_j = Σ_i δ_ij Û_ji,  gs = φ_bwd(go)
    then      gÛ_ji += c^t_ij gs_j,  gc_ij = Û_ji · gs_j,
              δ ← c^t_ij (gc_ij − Σ_k c^t_ik gc_ik)  (+ δ carried over for "sabour", since b^{t+1} ∋ b^t)

With ``stop_gradient=True`` (the ablation used by several CapsNet ports) the predictions are
treated as constants in all but the last iteration, so only gÛ_ji = c^{R−1}_ij gs_j remains.

Two implementations compute the same forward, tape (c^t, s^t, o^t) and backward: a NumPy reference
written for reading, which the tests treat as the definition, and a Numba kernel with ``prange``
over the batch (float64 accumulation, each sample independent, hence deterministic). Both take the
same arguments, the mode as its code in ``MODES`` (``MODE_SABOUR``, ``MODE_SU1``, ``MODE_SU2``).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit, prange

from ..autograd import Function, Tensor, as_tensor
from . import IMPLEMENTATIONS, NUMBA
from .vector_math import all_finite
from ..validation import boolean, choice, finite, integer, positive_int, positive_real, shape

MODE_SABOUR = 0
MODE_SU1 = 1
MODE_SU2 = 2
MODES = {"sabour": MODE_SABOUR, "su1": MODE_SU1, "su2": MODE_SU2}
DEFAULT_ITERATIONS = 3  # r of Sabour's experiments and of Su's code
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
SQUASH_TINY = 1e-7
NORMALISE_TINY = 1e-12


class RoutingTape(NamedTuple):
    """What the forward keeps for the backward, in float64: c (R, B, K, N), s (R, B, K, D), o (R−1, B, K, D)."""

    c: np.ndarray
    s: np.ndarray
    o: np.ndarray


# --- the NumPy reference --------------------------------------------------------------------------

def squash_forward(s: np.ndarray, eps: float, axis: int = -1) -> np.ndarray:
    """v = g·s, g = √n/(ε + n), n = ‖s‖² + 1e-7 along ``axis``."""
    n = np.sum(s * s, axis=axis, keepdims=True) + SQUASH_TINY
    return s * (np.sqrt(n) / (eps + n))


def squash_backward(s: np.ndarray, grad: np.ndarray, eps: float, axis: int = -1) -> np.ndarray:
    """∂L/∂s = g·ḡ + (ε − n)/(√n (ε + n)²) · (s·ḡ) · s, with ḡ = ``grad`` = ∂L/∂v."""
    n = np.sum(s * s, axis=axis, keepdims=True) + SQUASH_TINY
    root = np.sqrt(n)
    s_dot_g = np.sum(s * grad, axis=axis, keepdims=True)
    return grad * (root / (eps + n)) + s * (s_dot_g * (eps - n) / (root * (eps + n) ** 2))


def normalise_forward(s: np.ndarray, axis: int = -1) -> np.ndarray:
    """o = s/r, r = √max(‖s‖², 1e-12) along ``axis``."""
    return s / np.sqrt(np.maximum(np.sum(s * s, axis=axis, keepdims=True), NORMALISE_TINY))


def normalise_backward(s: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    """∂L/∂s = (ḡ − (o·ḡ) o)/r where ‖s‖² > 1e-12, and ḡ/r (r the constant 1e-6) below it."""
    squared = np.sum(s * s, axis=axis, keepdims=True)
    r = np.sqrt(np.maximum(squared, NORMALISE_TINY))
    o = s / r
    radial = np.where(squared > NORMALISE_TINY, np.sum(o * grad, axis=axis, keepdims=True), 0.0)
    return (grad - radial * o) / r


def _phi_forward(s: np.ndarray, mode: int, eps: float) -> np.ndarray:
    return normalise_forward(s) if mode == MODE_SU2 else squash_forward(s, eps)


def _phi_backward(s: np.ndarray, grad: np.ndarray, mode: int, eps: float) -> np.ndarray:
    return normalise_backward(s, grad) if mode == MODE_SU2 else squash_backward(s, grad, eps)


def route_forward_reference(u_hat: np.ndarray, iterations: int, mode: int,
                            eps: float) -> tuple[np.ndarray, RoutingTape]:
    """u_hat (B, K, N, D) → v (B, K, D) and the tape; ``mode`` is a code of ``MODES`` (``MODE_SU2``, ...)."""
    batch, k, n, d = u_hat.shape
    c_tape = np.empty((iterations, batch, k, n))
    s_tape = np.empty((iterations, batch, k, d))
    o_tape = np.empty((max(iterations - 1, 0), batch, k, d))
    b = np.zeros((batch, k, n))
    for t in range(iterations):
        e = np.exp(b - b.max(axis=1, keepdims=True))
        c = c_tape[t] = e / e.sum(axis=1, keepdims=True)
        s = s_tape[t] = np.einsum("bkn,bknd->bkd", c, u_hat)
        if t == iterations - 1:
            break
        o = o_tape[t] = _phi_forward(s, mode, eps)
        a = np.einsum("bknd,bkd->bkn", u_hat, o)
        b = b + a if mode == MODE_SABOUR else a
    v = squash_forward(s_tape[-1], eps).astype(u_hat.dtype)
    return v, RoutingTape(c_tape, s_tape, o_tape)


def route_backward_reference(grad_v: np.ndarray, u_hat: np.ndarray, tape: RoutingTape, mode: int, eps: float,
                             stop_gradient: bool) -> np.ndarray:
    """∂L/∂Û (B, K, N, D) from ∂L/∂v (B, K, D) and the forward tape (see the module docstring)."""
    iterations = len(tape.c)
    grad_u = np.zeros(u_hat.shape)
    delta = None
    for t in range(iterations - 1, -1, -1):
        if t == iterations - 1:
            gs = squash_backward(tape.s[t], grad_v, eps)
        else:
            grad_u += delta[..., None] * tape.o[t][:, :, None, :]
            go = np.einsum("bkn,bknd->bkd", delta, u_hat)
            gs = _phi_backward(tape.s[t], go, mode, eps)
        c = tape.c[t]
        grad_u += c[..., None] * gs[:, :, None, :]
        if stop_gradient:
            break
        gc = np.einsum("bknd,bkd->bkn", u_hat, gs)
        softmax_grad = c * (gc - np.sum(c * gc, axis=1, keepdims=True))
        delta = softmax_grad + delta if (mode == MODE_SABOUR and delta is not None) else softmax_grad
    return grad_u.astype(u_hat.dtype)


# --- the Numba kernels ----------------------------------------------------------------------------

@njit(cache=True)
def _squash_into(s, eps, out):
    """out = squash_ε(s) for one vector s (D,)."""
    n = SQUASH_TINY
    for d in range(s.shape[0]):
        n += s[d] * s[d]
    g = np.sqrt(n) / (eps + n)
    for d in range(s.shape[0]):
        out[d] = g * s[d]


@njit(cache=True)
def _normalise_into(s, out):
    """out = s/r, r = √max(‖s‖², 1e-12), for one vector s (D,)."""
    squared = 0.0
    for d in range(s.shape[0]):
        squared += s[d] * s[d]
    r = np.sqrt(max(squared, NORMALISE_TINY))
    for d in range(s.shape[0]):
        out[d] = s[d] / r


@njit(cache=True)
def _squash_backward_into(s, grad, eps, out):
    """out = ∂L/∂s of squash_ε for one vector s (D,) and ḡ = grad (D,)."""
    n = SQUASH_TINY
    s_dot_g = 0.0
    for d in range(s.shape[0]):
        n += s[d] * s[d]
        s_dot_g += s[d] * grad[d]
    root = np.sqrt(n)
    g = root / (eps + n)
    radial = s_dot_g * (eps - n) / (root * (eps + n) ** 2)
    for d in range(s.shape[0]):
        out[d] = g * grad[d] + radial * s[d]


@njit(cache=True)
def _normalise_backward_into(s, grad, out):
    """out = ∂L/∂s of normalise for one vector s (D,) and ḡ = grad (D,)."""
    squared = 0.0
    for d in range(s.shape[0]):
        squared += s[d] * s[d]
    r = np.sqrt(max(squared, NORMALISE_TINY))
    o_dot_g = 0.0
    if squared > NORMALISE_TINY:
        for d in range(s.shape[0]):
            o_dot_g += s[d] / r * grad[d]
    for d in range(s.shape[0]):
        out[d] = (grad[d] - o_dot_g * s[d] / r) / r


def route_forward_numba(u_hat: np.ndarray, iterations: int, mode: int, eps: float) -> tuple[np.ndarray, RoutingTape]:
    """Numba twin of ``route_forward_reference``: one sample per ``prange`` step.

    The results are allocated here, by NumPy, which asks the operating system for huge pages on large
    arrays; allocated inside the jitted code, each 4 KB page of them faults on first write, and two
    threads queue for the faults (the tape of B 64, 1152 → 10 capsules is 19 MB)."""
    batch, k_out, n_in, dim = u_hat.shape
    v = np.empty((batch, k_out, dim), dtype=u_hat.dtype)
    tape = RoutingTape(np.empty((iterations, batch, k_out, n_in)), np.empty((iterations, batch, k_out, dim)),
                       np.empty((max(iterations - 1, 0), batch, k_out, dim)))
    _route_forward(u_hat, iterations, mode, eps, v, *tape)
    return v, tape


@njit(cache=True, parallel=True)
def _route_forward(u_hat, iterations, mode, eps, v, c_tape, s_tape, o_tape):
    """The loops of ``route_forward_numba``, writing v and the tape into the arrays given."""
    batch, k_out, n_in, dim = u_hat.shape
    for bi in prange(batch):
        u = u_hat[bi]
        b = np.zeros((k_out, n_in))
        v_row = np.empty(dim)
        for t in range(iterations):
            c = c_tape[t, bi]
            for i in range(n_in):
                top = b[0, i]
                for j in range(1, k_out):
                    top = max(top, b[j, i])
                total = 0.0
                for j in range(k_out):
                    c[j, i] = np.exp(b[j, i] - top)
                    total += c[j, i]
                for j in range(k_out):
                    c[j, i] /= total
            s = s_tape[t, bi]
            s[:] = 0.0
            for j in range(k_out):
                for i in range(n_in):
                    cji = c[j, i]
                    for d in range(dim):
                        s[j, d] += cji * u[j, i, d]
            if t == iterations - 1:
                for j in range(k_out):
                    _squash_into(s[j], eps, v_row)
                    for d in range(dim):
                        v[bi, j, d] = v_row[d]
                break
            o = o_tape[t, bi]
            for j in range(k_out):
                if mode == MODE_SU2:
                    _normalise_into(s[j], o[j])
                else:
                    _squash_into(s[j], eps, o[j])
                for i in range(n_in):
                    a = 0.0
                    for d in range(dim):
                        a += u[j, i, d] * o[j, d]
                    b[j, i] = b[j, i] + a if mode == MODE_SABOUR else a


def route_backward_numba(grad_v: np.ndarray, u_hat: np.ndarray, tape: RoutingTape, mode: int, eps: float,
                         stop_gradient: bool) -> np.ndarray:
    """Numba twin of ``route_backward_reference``; grad_u is allocated by NumPy (see ``route_forward_numba``)."""
    grad_u = np.empty(u_hat.shape, dtype=u_hat.dtype)
    _route_backward(grad_v, u_hat, tape, mode, eps, stop_gradient, grad_u)
    return grad_u


@njit(cache=True, parallel=True)
def _route_backward(grad_v, u_hat, tape, mode, eps, stop_gradient, grad_u):
    """The loops of ``route_backward_numba``, writing into grad_u."""
    batch, k_out, n_in, dim = u_hat.shape
    iterations = tape.c.shape[0]
    for bi in prange(batch):
        u = u_hat[bi]
        g_u = np.zeros((k_out, n_in, dim))
        delta = np.zeros((k_out, n_in))
        gc = np.empty((k_out, n_in))
        go = np.empty(dim)
        gs = np.empty((k_out, dim))
        g_v = np.empty(dim)
        for t in range(iterations - 1, -1, -1):
            if t == iterations - 1:
                for j in range(k_out):
                    for d in range(dim):
                        g_v[d] = grad_v[bi, j, d]
                    _squash_backward_into(tape.s[t, bi, j], g_v, eps, gs[j])
            else:
                o = tape.o[t, bi]
                for j in range(k_out):
                    go[:] = 0.0
                    for i in range(n_in):
                        dji = delta[j, i]
                        for d in range(dim):
                            g_u[j, i, d] += dji * o[j, d]
                            go[d] += dji * u[j, i, d]
                    if mode == MODE_SU2:
                        _normalise_backward_into(tape.s[t, bi, j], go, gs[j])
                    else:
                        _squash_backward_into(tape.s[t, bi, j], go, eps, gs[j])
            c = tape.c[t, bi]
            for j in range(k_out):
                for i in range(n_in):
                    cji = c[j, i]
                    dot = 0.0
                    for d in range(dim):
                        g_u[j, i, d] += cji * gs[j, d]
                        dot += u[j, i, d] * gs[j, d]
                    gc[j, i] = dot
            if stop_gradient:
                break
            for i in range(n_in):
                mean_gc = 0.0
                for j in range(k_out):
                    mean_gc += c[j, i] * gc[j, i]
                for j in range(k_out):
                    softmax_grad = c[j, i] * (gc[j, i] - mean_gc)
                    delta[j, i] = delta[j, i] + softmax_grad if mode == MODE_SABOUR else softmax_grad
        for j in range(k_out):
            for i in range(n_in):
                for d in range(dim):
                    grad_u[bi, j, i, d] = g_u[j, i, d]


@njit(cache=True, parallel=True)
def all_finite_numba(u_hat):
    """Whether C-contiguous predictions u_hat (B, K, N, D) hold no NaN and no infinity: one sample per
    ``prange`` step, so the check of a large batch runs on the kernel's threads."""
    finite = np.empty(u_hat.shape[0], np.bool_)
    for bi in prange(u_hat.shape[0]):
        finite[bi] = all_finite(u_hat[bi])
    return finite.all()


# --- the autograd node and the checked entry point -----------------------------------------------

class Route(Function):
    """v = route(Û) with the hand-written backward of the module docstring; the tape stays in ctx."""

    fresh_gradients = True  # grad_u is allocated by the backward

    @staticmethod
    def forward(ctx, u_hat, *, iterations, mode, eps, stop_gradient, implementation):
        if implementation == "numba":
            u_hat = np.ascontiguousarray(u_hat)
            v, tape = route_forward_numba(u_hat, iterations, mode, eps)
        else:
            v, tape = route_forward_reference(u_hat, iterations, mode, eps)
        ctx.save_for_backward(u_hat, tape)
        ctx.mode, ctx.eps, ctx.stop_gradient, ctx.implementation = mode, eps, stop_gradient, implementation
        return v

    @staticmethod
    def backward(ctx, grad):
        u_hat, tape = ctx.saved_tensors
        grad = np.ascontiguousarray(grad, dtype=u_hat.dtype)
        backward = route_backward_numba if ctx.implementation == "numba" else route_backward_reference
        return backward(grad, u_hat, tape, ctx.mode, ctx.eps, ctx.stop_gradient)


def route(u_hat: Any, iterations: int = DEFAULT_ITERATIONS, *, mode: str = "su2", eps: float = 0.5,
          stop_gradient: bool = False, implementation: str = "numba") -> Tensor:
    """Dynamic routing: predictions u_hat (B, K, N, D) → output capsules v (B, K, D).

    ``mode`` ∈ {"sabour", "su1", "su2"} (module docstring), ``iterations`` = R ≥ 1, ``eps`` = ε > 0 of
    the squash (0.5 Su, 1 Sabour), ``stop_gradient`` detaches Û in all but the last iteration,
    ``implementation`` ∈ {"numba", "numpy"} picks the kernel or its reference twin (same results).
    A NaN or an infinity in u_hat raises ``NonFiniteError`` (a ValueError) with either implementation:
    one non-finite prediction makes every coupling of its input capsule NaN, and the two would spread
    it through the squash and the norms in different orders.
    """
    u_hat = as_tensor(u_hat)
    shape("u_hat", u_hat, (None, None, None, None))
    integer("u_hat.size", u_hat.size, minimum=1)
    choice("u_hat.dtype", u_hat.dtype, DTYPES)
    implementation = choice("implementation", implementation, IMPLEMENTATIONS)
    # the kernel's own parallel check first (a serial pass over a large batch cost 6% of a two-thread call);
    # NumPy's names the count of bad entries
    if not (implementation == NUMBA and all_finite_numba(np.ascontiguousarray(u_hat.data))):
        finite("u_hat", u_hat.data)
    return Route.apply(u_hat, iterations=positive_int("iterations", iterations),
                       mode=MODES[choice("mode", mode, MODES)], eps=positive_real("eps", eps),
                       stop_gradient=boolean("stop_gradient", stop_gradient), implementation=implementation)
