"""The loss of one word2vec example and its gradients (spec word_vectors.md §1.2–1.3, §5.3).

One example is an input vector h built from context rows of the embedding E (V+1, d),

    h = s · Σ_j E[c_j],    s = 1, or 1/n for the CBOW mean, or h = E[c] for skip-gram,

a target t and K sampled ids, S = (t, n_1, …, n_K) (the target in slot 0). With the output table W
(W ≡ E and b ≡ 0 when shared) the slot logits are

    z_s = <h, W[S_s]> + b[S_s] − [log-Q] log(K q(S_s)),

and slots m_s = 0 (accidental hits, S_s = t for s ≥ 1, when they are removed) are left out. Losses:

    "softmax"  L = −z_0 + log Σ_{s: m_s} exp z_s,            δ_s = p_s − [s = 0]   (p = softmax z)
    "nce"      L = −log σ(z_0) − Σ_{s≥1: m_s} log σ(−z_s),   δ_0 = σ(z_0) − 1, δ_s = σ(z_s)

(the random softmax loss of the post is "softmax" with a uniform sampler, no log-Q, hits kept).
The gradients (§1.3) are ∂L/∂z_s = δ_s, ∂L/∂h = Σ_s δ_s W[S_s], ∂L/∂W[r] = Σ_{s: S_s = r} δ_s h,
∂L/∂b[r] = Σ_{s: S_s = r} δ_s, and ∂L/∂E[c_j] += s · ∂L/∂h once per context slot.

``slot_deltas_reference`` and ``example_loss_and_grads`` are the NumPy reference (a batch, mean
loss, dense per-row gradients); ``sgd_step_reference`` applies it one example at a time, the
definition the fused kernels (``update``, ``lazy``) must equal. ``slot_deltas`` and
``example_forward`` are their Numba twins for one example.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from scipy import special

LOSS_SOFTMAX = 0
LOSS_NCE = 1
LOSSES = {"softmax": LOSS_SOFTMAX, "nce": LOSS_NCE}
# Dot products and row updates may be re-associated (so they vectorise) but keep NaN/inf semantics.
FASTMATH = {"reassoc", "contract"}


# --- the NumPy reference --------------------------------------------------------------------------

def slot_deltas_reference(z: np.ndarray, valid: np.ndarray, loss: str = "softmax") -> tuple[np.ndarray, np.ndarray]:
    """Per-example losses ``(B,)`` and δ = ∂L/∂z ``(B, K+1)`` for logits ``z (B, K+1)``, target in slot 0.

    ``valid (B, K+1)`` bool marks the slots that take part (slot 0 always does).
    """
    if loss == "softmax":
        masked = np.where(valid, z, -np.inf)
        top = masked.max(axis=1, keepdims=True)
        lse = top[:, 0] + np.log(np.exp(masked - top).sum(axis=1))
        p = np.exp(masked - lse[:, None])
        delta = p.copy()
        delta[:, 0] = -p[:, 1:].sum(axis=1)  # = p_0 − 1, accurate when p_0 ≈ 1 (§5.3)
        return lse - z[:, 0], delta
    if loss == "nce":
        sign = np.ones_like(z)
        sign[:, 0] = -1.0
        losses = np.where(valid, np.logaddexp(0.0, sign * z), 0.0)
        delta = np.where(valid, special.expit(z), 0.0)
        delta[:, 0] -= 1.0
        return losses.sum(axis=1), delta
    raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(LOSSES)}")


def example_loss_and_grads(E: np.ndarray, W: np.ndarray | None, b: np.ndarray | None, contexts: np.ndarray,
                           scale: np.ndarray, samples: np.ndarray, valid: np.ndarray,
                           log_expected: np.ndarray | None = None, loss: str = "softmax"):
    """Mean loss over a batch and its dense gradients (§1.3), the reference the other paths must equal.

    E: ``(V+1, d)``; W: ``(V+1, d)`` or None for the shared output layer (W ≡ E, b ≡ 0); b: ``(V+1,)``
    or None; contexts: ``(B, C)`` ids (a slot id −1 is empty); scale: ``(B,)`` the factor s of h;
    samples: ``(B, K+1)`` ids, target first; valid: ``(B, K+1)`` bool; log_expected: ``(V+1,)``
    log(K q(id)) subtracted from the logits (log-Q correction) or None.
    Returns ``(loss, dE, dW, db)``; with a shared output layer dW and db are None and dE holds both
    the input and the output contributions.
    """
    shared = W is None
    W_ = E if shared else W
    B = contexts.shape[0]
    slots = contexts >= 0
    h = scale[:, None] * np.einsum("bc,bcd->bd", slots, E[np.where(slots, contexts, 0)])
    rows = W_[samples]                                           # (B, K+1, d)
    z = np.einsum("bd,bsd->bs", h, rows)
    if b is not None:
        z = z + b[samples]
    if log_expected is not None:
        z = z - log_expected[samples]
    losses, delta = slot_deltas_reference(z, valid, loss)
    delta = delta / B
    dh = np.einsum("bs,bsd->bd", delta, rows)
    dE = np.zeros_like(E)
    np.add.at(dE, contexts[slots], np.repeat(scale[:, None] * dh, slots.sum(axis=1), axis=0))
    dW = np.zeros_like(E) if shared else np.zeros_like(W)
    np.add.at(dW, samples.ravel(), (delta[:, :, None] * h[:, None, :]).reshape(-1, E.shape[1]))
    db = None
    if b is not None:
        db = np.zeros_like(b)
        np.add.at(db, samples.ravel(), delta.ravel())
    if shared:
        return losses.mean(), dE + dW, None, None
    return losses.mean(), dE, dW, db


def sgd_step_reference(E: np.ndarray, W: np.ndarray | None, b: np.ndarray | None, contexts: np.ndarray,
                       scale: np.ndarray, samples: np.ndarray, valid: np.ndarray, alpha: np.ndarray,
                       log_expected: np.ndarray | None = None, loss: str = "softmax") -> float:
    """Apply θ ← θ − α_i ∂L_i/∂θ for the examples i = 0..B−1 in order, in place; returns Σ_i L_i."""
    total = 0.0
    for i in range(contexts.shape[0]):
        one = slice(i, i + 1)
        value, dE, dW, db = example_loss_and_grads(E, W, b, contexts[one], scale[one], samples[one], valid[one],
                                                   log_expected, loss)
        E -= alpha[i] * dE
        if W is not None:
            W -= alpha[i] * dW
        if b is not None:
            b -= alpha[i] * db
        total += value
    return total


# --- what the Numba kernels receive ---------------------------------------------------------------

class Tables(NamedTuple):
    """The trained arrays, updated in place: ``E (V+1, d)``; ``W (V+1, d)``, E itself when the output
    layer is shared; the bias ``b (V+1, 1)`` as a column (so the lazy optimizers' row step applies
    to it), ``(0, 1)`` when there is none."""

    E: np.ndarray
    W: np.ndarray
    b: np.ndarray


def tables(E: np.ndarray, W: np.ndarray | None, b: np.ndarray | None) -> Tables:
    """``Tables`` of E and the optional W ``(V+1, d)`` and b ``(V+1,)`` (None: shared, no bias)."""
    column = (np.zeros(0, E.dtype) if b is None else b).reshape(-1, 1)
    return Tables(E, E if W is None else W, column)


class Objective(NamedTuple):
    """The loss of an example: ``loss`` (LOSS_SOFTMAX or LOSS_NCE) and, when ``log_q``, the log-Q
    correction ``log_expected (V+1,)`` = log(K q(id)) subtracted from the logits."""

    loss: int
    log_q: bool
    log_expected: np.ndarray


# --- the Numba twins for one example --------------------------------------------------------------

@njit(cache=True)
def _sigmoid(x: float) -> float:
    """σ(x) without overflow for large |x|."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True)
def slot_deltas(z, valid, n, loss, delta):
    """``slot_deltas_reference`` for the first ``n`` slots of one example; returns the loss, fills ``delta``."""
    if loss == LOSS_SOFTMAX:
        top = z[0]
        for s in range(1, n):
            if valid[s] and z[s] > top:
                top = z[s]
        total = 0.0
        for s in range(n):
            delta[s] = math.exp(z[s] - top) if valid[s] else 0.0
            total += delta[s]
        lse = top + math.log(total)
        rest = 0.0
        for s in range(1, n):
            delta[s] = delta[s] / total
            rest += delta[s]
        delta[0] = -rest
        return lse - z[0]
    value = 0.0
    for s in range(n):
        if not valid[s]:
            delta[s] = 0.0
            continue
        x = -z[s] if s == 0 else z[s]
        value += max(x, 0.0) + math.log1p(math.exp(-abs(x)))  # softplus(x) = −log σ(−x)
        delta[s] = _sigmoid(z[s])
    delta[0] -= 1.0
    return value


@njit(cache=True, fastmath=FASTMATH)
def dot_row(x, W, r):
    """<x, W[r]> accumulated in the arrays' own dtype (float32 tables stay in float32, so it vectorises)."""
    total = x[0] * W[r, 0]
    for k in range(1, x.shape[0]):
        total += x[k] * W[r, k]
    return total


@njit(cache=True, fastmath=FASTMATH)
def example_forward(tables, objective, context, n_context, scale, sample, valid, h, z, delta):
    """h = scale · Σ_j E[context_j], the slot logits z and δ = ∂L/∂z of one example; returns its loss.

    context: ids ``(≥ n_context,)``; sample: ``(K+1,)`` ids, target first; valid: ``(K+1,)`` bool;
    h ``(d,)`` in the tables' dtype and z, delta ``(K+1,)`` float64 are filled.
    """
    E, W, b = tables.E, tables.W, tables.b
    d = E.shape[1]
    h[:] = 0.0
    for j in range(n_context):
        c = context[j]
        for k in range(d):
            h[k] += E[c, k]
    if scale != 1.0:
        for k in range(d):
            h[k] *= scale
    for s in range(sample.shape[0]):
        r = sample[s]
        zs = float(dot_row(h, W, r))
        if b.shape[0] > 0:
            zs += b[r, 0]
        if objective.log_q:
            zs -= objective.log_expected[r]
        z[s] = zs
    return slot_deltas(z, valid, sample.shape[0], objective.loss, delta)
