"""Lazy per-row Adagrad and Adam for the word2vec kernel (``scratch.optim``'s ``sparse=True`` rule).

An example touches a few rows of E, W and b; only those rows take an optimizer step, with the
gradient g of that row summed over the example (a row may be the target, a repeated sample and,
with shared weights, a context word at once), as torch's ``SparseAdam`` and ``scratch.optim``'s
lazy-sparse mode do:

    Adagrad  G_r += g²,  θ_r −= lr g / (√G_r + ε)                                  (ε = 1e-10)
    Adam     t_r += 1,  m_r ← β₁ m_r + (1 − β₁) g,  v_r ← β₂ v_r + (1 − β₂) g²,
             θ_r −= lr/(1 − β₁^t_r) · m_r / (√v_r / √(1 − β₂^t_r) + ε)               (ε = 1e-8)

with t_r the row's own step count. The state lives in a ``LazyState`` that carries the optimizer
across chunks and epochs; the per-example gradients are ``loss.py``'s (∂L/∂W[r] = Σ δ_s h,
∂L/∂E[c] = s ∂L/∂h), which the tests replay through ``scratch.optim``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from .loss import FASTMATH, example_forward

OPTIMIZER_SGD = 0
OPTIMIZER_ADAGRAD = 1
OPTIMIZER_ADAM = 2
LAZY_OPTIMIZERS = {"sgd": OPTIMIZER_SGD, "adagrad": OPTIMIZER_ADAGRAD, "adam": OPTIMIZER_ADAM}
DEFAULT_EPS = {OPTIMIZER_SGD: 0.0, OPTIMIZER_ADAGRAD: 1e-10, OPTIMIZER_ADAM: 1e-8}
INPUT_TABLE = 0
OUTPUT_TABLE = 1


class LazyState(NamedTuple):
    """The optimizer ``kind`` (an OPTIMIZER_* constant), its hyper-parameters and, per table, the
    moments m, v (Adagrad keeps G in m) with E's / W's shape and a step count per row: E_*, W_* (the
    same arrays as E_* when the output layer is ``shared``) and b_* as ``(V+1, 1)`` columns. SGD
    keeps empty arrays."""

    kind: int
    shared: bool
    beta1: float
    beta2: float
    eps: float
    E_m: np.ndarray
    E_v: np.ndarray
    E_step: np.ndarray
    W_m: np.ndarray
    W_v: np.ndarray
    W_step: np.ndarray
    b_m: np.ndarray
    b_v: np.ndarray
    b_step: np.ndarray


MOMENTS = LazyState._fields[5:]  # the arrays a checkpoint saves


def lazy_state(optimizer: str, E: np.ndarray, W: np.ndarray | None, b: np.ndarray | None, *,
               betas: tuple[float, float] = (0.9, 0.999), eps: float | None = None) -> LazyState:
    """A fresh ``LazyState`` of ``optimizer`` ("sgd", "adagrad" or "adam") for tables E ``(V+1, d)``
    and the optional W ``(V+1, d)``, b ``(V+1,)`` (None: shared output layer, no bias); ε defaults to
    torch's (1e-10 Adagrad, 1e-8 Adam)."""
    if optimizer not in LAZY_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {sorted(LAZY_OPTIMIZERS)}")
    kind = LAZY_OPTIMIZERS[optimizer]
    eps = DEFAULT_EPS[kind] if eps is None else float(eps)

    def moments(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        table = table if kind != OPTIMIZER_SGD else table[:0]
        return np.zeros_like(table), np.zeros_like(table), np.zeros(len(table), np.int64)

    bias = (np.zeros(0, E.dtype) if b is None else b).reshape(-1, 1)
    inputs = moments(E)
    outputs = inputs if W is None else moments(W)
    return LazyState(kind, W is None, float(betas[0]), float(betas[1]), eps, *inputs, *outputs, *moments(bias))


@njit(cache=True, fastmath=FASTMATH)
def lazy_row_step(theta, m, v, step, r, g, lr, lazy):
    """One Adagrad or Adam step (``lazy.kind``) on row r of ``theta`` with gradient g ``(d,)``."""
    real = theta.dtype.type  # constants in the table's dtype, so float32 rows stay in float32 arithmetic
    if lazy.kind == OPTIMIZER_ADAGRAD:
        rate, tiny = real(lr), real(lazy.eps)
        for k in range(theta.shape[1]):
            m[r, k] += g[k] * g[k]
            theta[r, k] -= rate * g[k] / (math.sqrt(m[r, k]) + tiny)
        return
    step[r] += 1
    rate, root = real(lr / (1.0 - lazy.beta1 ** step[r])), real(math.sqrt(1.0 - lazy.beta2 ** step[r]))
    b1, b2, tiny = real(lazy.beta1), real(lazy.beta2), real(lazy.eps)
    for k in range(theta.shape[1]):
        m[r, k] = b1 * m[r, k] + (1 - b1) * g[k]
        v[r, k] = b2 * v[r, k] + (1 - b2) * g[k] * g[k]
        theta[r, k] -= rate * m[r, k] / (math.sqrt(v[r, k]) / root + tiny)


@njit(cache=True)
def _entry(tables, rows, count, table, row):
    """Index of (table, row) among the first ``count`` entries, or −1."""
    for e in range(count):
        if rows[e] == row and tables[e] == table:
            return e
    return -1


@njit(cache=True)
def _new_entry(work, count, table, row):
    """Index of (table, row) in ``work``'s gradient rows, appended zeroed when new; returns (index, count)."""
    e = _entry(work.entry_table, work.entry_row, count, table, row)
    if e >= 0:
        return e, count
    work.entry_table[count], work.entry_row[count] = table, row
    work.grads[count, :] = 0.0
    work.bias_grads[count] = 0.0
    return count, count + 1


@njit(cache=True, fastmath=FASTMATH)
def example_update_lazy(tables, objective, context, n_context, scale, sample, valid, lr, work, lazy):
    """One lazy Adagrad/Adam step on one example, in place; returns its loss.

    Arguments as ``update.example_update`` (rate ``lr``), plus the ``LazyState``. The gradient of
    every distinct row the example touches is summed first in ``work``'s gradient rows: output rows
    get Σ_s δ_s h, context rows s · ∂L/∂h with ∂L/∂h = Σ_s δ_s W[S_s]; then each row whose gradient
    is not exactly zero takes one ``lazy_row_step``.
    """
    E, W, b = tables.E, tables.W, tables.b
    h, dh, grads, bias_grads = work.h, work.dh, work.grads, work.bias_grads
    d = E.shape[1]
    n = sample.shape[0]
    value = example_forward(tables, objective, context, n_context, scale, sample, valid, h, work.z, work.delta)
    output = INPUT_TABLE if lazy.shared else OUTPUT_TABLE
    input_scale = h.dtype.type(scale)
    count = 0
    for k in range(d):
        dh[k] = 0.0
    for s in range(n):
        r = sample[s]
        ds = h.dtype.type(work.delta[s])
        for k in range(d):
            dh[k] += ds * W[r, k]
        e, count = _new_entry(work, count, output, r)
        for k in range(d):
            grads[e, k] += ds * h[k]
        bias_grads[e] += ds
    for j in range(n_context):
        e, count = _new_entry(work, count, INPUT_TABLE, context[j])
        for k in range(d):
            grads[e, k] += input_scale * dh[k]
    for e in range(count):
        r = work.entry_row[e]
        touched = False
        for k in range(d):
            touched |= grads[e, k] != 0.0
        if touched and work.entry_table[e] == INPUT_TABLE:
            lazy_row_step(E, lazy.E_m, lazy.E_v, lazy.E_step, r, grads[e], lr, lazy)
        elif touched:
            lazy_row_step(W, lazy.W_m, lazy.W_v, lazy.W_step, r, grads[e], lr, lazy)
        if work.entry_table[e] == OUTPUT_TABLE and b.shape[0] > 0 and bias_grads[e] != 0.0:
            lazy_row_step(b, lazy.b_m, lazy.b_v, lazy.b_step, r, bias_grads[e:e + 1], lr, lazy)
    return value
