"""The fused SGD step of one word2vec example, in place (spec word_vectors.md §1.3).

For one example (``loss.py``: h, the slot logits z and δ = ∂L/∂z) the step is

    W[S_s] ← W[S_s] − α δ_s h,    b[S_s] ← b[S_s] − α δ_s,    E[c_j] ← E[c_j] − α s Σ_s δ_s W[S_s],

with every right-hand side read before this step writes anything: ∂L/∂h needs each row W[S_s] as it
was, and with a shared output layer a row can be at once a context, the target and a sample. The
result must equal ``loss.sgd_step_reference`` (the dense gradient of each example, applied in turn),
which ``sgd_step_kernel`` replays through this kernel for the tests.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from .loss import FASTMATH, Objective, example_forward, tables


class Workspace(NamedTuple):
    """Per-thread buffers of the example kernels: h, dh ``(d,)`` in the tables' dtype; z, delta
    ``(K+1,)`` float64; and, for the lazy optimizers, one gradient row per table row an example
    touches — entry_table, entry_row ``(K+1+C,)`` int64, grads ``(K+1+C, d)`` and bias_grads
    ``(K+1+C,)`` in the tables' dtype (C context slots)."""

    h: np.ndarray
    dh: np.ndarray
    z: np.ndarray
    delta: np.ndarray
    entry_table: np.ndarray
    entry_row: np.ndarray
    grads: np.ndarray
    bias_grads: np.ndarray


@njit(cache=True)
def workspace(E, slots, contexts):
    """A ``Workspace`` for examples of ``slots`` = K+1 sampled ids and up to ``contexts`` context ids."""
    d = E.shape[1]
    entries = slots + contexts
    return Workspace(np.empty(d, E.dtype), np.empty(d, E.dtype), np.empty(slots), np.empty(slots),
                     np.empty(entries, np.int64), np.empty(entries, np.int64), np.empty((entries, d), E.dtype),
                     np.empty(entries, E.dtype))


@njit(cache=True, fastmath=FASTMATH)
def example_update(tables, objective, context, n_context, scale, sample, valid, alpha, work):
    """One SGD step on one example, in place; returns its loss.

    context: ids ``(≥ n_context,)``; sample: ``(K+1,)`` ids, target first; valid: ``(K+1,)``;
    ``work``: a ``Workspace``. When the sampled ids are distinct each row is read (for dh) just before
    it is written, in one pass; a repeated id takes two passes (all reads, then all writes). h is a
    copy, so a context row that is also a sampled row (shared weights) is updated only at the end,
    with dh.
    """
    E, W, b = tables.E, tables.W, tables.b
    h, dh, delta = work.h, work.dh, work.delta
    d = E.shape[1]
    n = sample.shape[0]
    value = example_forward(tables, objective, context, n_context, scale, sample, valid, h, work.z, delta)
    distinct = True
    for s in range(1, n):
        for t in range(s):
            distinct &= sample[s] != sample[t]
    has_bias = b.shape[0] > 0
    dh[:] = 0.0
    for s in range(n):
        a = h.dtype.type(alpha * delta[s])
        r = sample[s]
        for k in range(d):
            dh[k] += a * W[r, k]
        if distinct:
            for k in range(d):
                W[r, k] -= a * h[k]
        if has_bias:
            b[r, 0] -= a
    if not distinct:
        for s in range(n):
            a = h.dtype.type(alpha * delta[s])
            r = sample[s]
            for k in range(d):
                W[r, k] -= a * h[k]
    if scale != 1.0:
        for k in range(d):
            dh[k] *= scale
    for j in range(n_context):
        c = context[j]
        for k in range(d):
            E[c, k] -= dh[k]
    return value


@njit(cache=True)
def _sgd_steps(tables, objective, contexts, scale, samples, valid, alpha):
    total = 0.0
    work = workspace(tables.E, samples.shape[1], contexts.shape[1])
    context = np.empty(contexts.shape[1], dtype=np.int64)
    for i in range(contexts.shape[0]):
        m = 0
        for j in range(contexts.shape[1]):
            if contexts[i, j] >= 0:
                context[m] = contexts[i, j]
                m += 1
        total += example_update(tables, objective, context, m, scale[i], samples[i], valid[i], alpha[i], work)
    return total


def sgd_step_kernel(E: np.ndarray, W: np.ndarray | None, b: np.ndarray | None, contexts: np.ndarray,
                    scale: np.ndarray, samples: np.ndarray, valid: np.ndarray, alpha: np.ndarray,
                    objective: Objective) -> float:
    """``loss.sgd_step_reference`` through ``example_update``: the same arguments (contexts ``(B, C)``
    with −1 for empty slots, W and b None when shared / absent) and the ``objective``; returns Σ_i L_i."""
    return _sgd_steps(tables(E, W, b), objective, contexts, scale, samples, valid, alpha)

