"""Sampled-softmax losses for word2vec (spec word_vectors.md §1.2–1.3, §5): reference and fused kernel.

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

``example_loss_and_grads`` is the NumPy reference (a batch, mean loss, dense per-row gradients);
``sgd_step_reference`` applies it one example at a time. The Numba kernel (``train_chunk``)
walks a corpus chunk, builds the examples (window, padding, subsampling), draws the samples with
word2vec.c's LCG and applies the SGD update of each example in place (Hogwild over parts of the
chunk). Each update first snapshots h and sums ∂L/∂h from the rows W[S] before writing any row, so a
row that is at once context, target and sample (shared weights) gets exactly −α ∂L/∂row.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special
from numba import config as numba_config
from numba import njit, prange

LOSSES = {"softmax": 0, "nce": 1}
SAMPLERS = {"uniform": 0, "unigram": 1, "log-uniform": 2}
SUBSAMPLING = {"off": 0, "centre": 1, "both": 2}
# Dot products and row updates may be re-associated (so they vectorise) but keep NaN/inf semantics.
FASTMATH = {"reassoc", "contract"}
LCG_MULTIPLIER = np.uint64(25214903917)
LCG_INCREMENT = np.uint64(11)


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


# --- the Numba kernel -----------------------------------------------------------------------------

@njit(cache=True)
def lcg_next(state: np.uint64) -> np.uint64:
    """word2vec.c's generator: r ← r · 25214903917 + 11 (mod 2^64)."""
    return state * LCG_MULTIPLIER + LCG_INCREMENT


if numba_config.DISABLE_JIT:
    def lcg_next(state: np.uint64) -> np.uint64:  # noqa: F811 -- NumPy warns on uint64 wrap-around; Python ints do not
        """word2vec.c's generator: r ← r · 25214903917 + 11 (mod 2^64)."""
        return np.uint64((int(state) * int(LCG_MULTIPLIER) + int(LCG_INCREMENT)) & 0xFFFF_FFFF_FFFF_FFFF)


@njit(cache=True)
def _below(state: np.uint64, n: int) -> int:
    """A draw in [0, n) from the high bits of the LCG state."""
    return int((state >> np.uint64(16)) % np.uint64(n))


@njit(cache=True)
def _unit(state: np.uint64) -> float:
    """A draw in [0, 1) from the top 53 bits of the LCG state."""
    return float(state >> np.uint64(11)) * (1.0 / 9007199254740992.0)


def alias_table(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias tables ``(threshold float64 (n,), alias int64 (n,))`` for drawing i with probability ∝ q_i.

    A draw takes u uniform on [0, n), the bucket i = ⌊u⌋, and returns i when u − i < threshold_i, else
    alias_i: one random number and at most two table reads whatever n, where a binary search over
    the cumulative q costs log2 n dependent, cache-missing reads. Vose's construction pairs an
    under-full bucket (n q_s < 1) with an over-full one, so that for every i
    P(i) = (threshold_i + Σ_{j: alias_j = i} (1 − threshold_j)) / n = q_i / Σ q.
    """
    q = np.asarray(q, dtype=np.float64)
    if q.ndim != 1 or q.size == 0 or not np.all(np.isfinite(q)) or np.any(q < 0) or not q.sum() > 0:
        raise ValueError(f"q must be a non-empty 1-D array of non-negative finite weights, got {q!r}")
    n = q.shape[0]
    scaled = q * (n / q.sum())
    threshold = np.ones(n)
    alias = np.arange(n, dtype=np.int64)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        threshold[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return threshold, alias  # the buckets left over hold 1/n up to rounding: threshold 1


@njit(cache=True)
def _draw(state: np.uint64, sampler: int, low: int, rows: int, threshold: np.ndarray, alias: np.ndarray) -> int:
    """One sampled id: uniform on [low, rows), by the alias tables (unigram), or log-uniform."""
    if sampler == 0:
        return low + _below(state, rows - low)
    if sampler == 1:
        u = _unit(state) * rows
        i = min(int(u), rows - 1)
        return i if u - i < threshold[i] else alias[i]
    # log-uniform over ranks k = 0..V−1 (id k+1): P(k) = log((k+2)/(k+1)) / log(V+1)
    k = int(math.exp(_unit(state) * math.log(rows))) - 1
    return min(max(k, 0), rows - 2) + 1


@njit(cache=True)
def _sigmoid(x: float) -> float:
    """σ(x) without overflow for large |x|."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True)
def _slot_deltas(z, valid, n, loss_kind, delta):
    """Kernel twin of ``slot_deltas_reference`` for one example; returns the loss, fills ``delta``."""
    if loss_kind == 0:
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
def _dot_row(x, W, r):
    """<x, W[r]> accumulated in the arrays' own dtype (float32 tables stay in float32, so it vectorises)."""
    total = x[0] * W[r, 0]
    for k in range(1, x.shape[0]):
        total += x[k] * W[r, k]
    return total


@njit(cache=True, fastmath=FASTMATH)
def _example_forward(E, W, b, context, n_context, scale, sample, valid, log_expected, use_log_q, loss_kind,
                     h, z, delta):
    """h = scale · Σ_j E[context_j], the slot logits z and δ = ∂L/∂z of one example; returns its loss."""
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
        zs = float(_dot_row(h, W, r))
        if b.shape[0] > 0:
            zs += b[r]
        if use_log_q:
            zs -= log_expected[r]
        z[s] = zs
    return _slot_deltas(z, valid, sample.shape[0], loss_kind, delta)


@njit(cache=True, fastmath=FASTMATH)
def example_update(E, W, b, context, n_context, scale, sample, valid, log_expected, use_log_q, loss_kind, alpha,
                   h, z, delta, dh):
    """One SGD step on one example, in place; returns its loss.

    context: ids ``(≥ n_context,)``; sample: ``(K+1,)`` ids, target first; valid: ``(K+1,)``;
    W is E itself when the output layer is shared, b is empty when there is no bias. Work buffers:
    h, dh ``(d,)`` in the tables' dtype, z, delta ``(K+1,)`` float64.
    ∂L/∂h needs each row W[S_s] as it was before this step, so when the sampled ids are distinct each
    row is read (for dh) just before it is written, in one pass; a repeated id takes two passes (all
    reads, then all writes). h is a copy, so a context row that is also a sampled row (shared weights)
    is updated only at the end, with dh.
    """
    d = E.shape[1]
    n = sample.shape[0]
    value = _example_forward(E, W, b, context, n_context, scale, sample, valid, log_expected, use_log_q, loss_kind,
                             h, z, delta)
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
            b[r] -= a
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


@njit(cache=True, fastmath=FASTMATH)
def _lazy_row_step(theta, m, v, t, r, g, lr, kind, beta1, beta2, eps):
    """Adagrad (kind 1) or Adam (kind 2) on row r of ``theta`` with gradient g, as ``scratch.optim``'s
    lazy-sparse mode: Adagrad G_r += g², θ_r −= lr g / (√G_r + ε) (m holds G); Adam with the row's own
    step count t_r: m_r, v_r ← moments, θ_r −= lr/(1 − β₁^t_r) · m_r / (√v_r / √(1 − β₂^t_r) + ε)."""
    real = theta.dtype.type  # constants in the table's dtype, so float32 rows stay in float32 arithmetic
    if kind == 1:
        rate, tiny = real(lr), real(eps)
        for k in range(theta.shape[1]):
            m[r, k] += g[k] * g[k]
            theta[r, k] -= rate * g[k] / (math.sqrt(m[r, k]) + tiny)
        return
    t[r] += 1
    step, root = real(lr / (1.0 - beta1 ** t[r])), real(math.sqrt(1.0 - beta2 ** t[r]))
    b1, b2, tiny = real(beta1), real(beta2), real(eps)
    for k in range(theta.shape[1]):
        m[r, k] = b1 * m[r, k] + (1 - b1) * g[k]
        v[r, k] = b2 * v[r, k] + (1 - b2) * g[k] * g[k]
        theta[r, k] -= step * m[r, k] / (math.sqrt(v[r, k]) / root + tiny)


@njit(cache=True)
def _entry(tables, rows, count, table, row):
    """Index of (table, row) among the first ``count`` entries, or −1."""
    for e in range(count):
        if rows[e] == row and tables[e] == table:
            return e
    return -1


@njit(cache=True, fastmath=FASTMATH)
def example_update_lazy(E, W, b, context, n_context, scale, sample, valid, log_expected, use_log_q, loss_kind,
                        lr, h, z, delta, dh, lazy, entry_table, entry_row, grads, bias_grads):
    """One lazy Adagrad/Adam step on one example, in place; returns its loss.

    The gradient of every distinct row the example touches is summed first (a row may be the target,
    a repeated sample and, with shared weights, a context word at once): output rows get Σ_s δ_s h,
    context rows s · ∂L/∂h with ∂L/∂h = Σ_s δ_s W[S_s]; then each row whose gradient is not exactly
    zero takes one optimizer step (``_lazy_row_step``), which is ``scratch.optim``'s lazy-sparse rule
    applied to this example's gradient. ``lazy`` is the tuple of ``lazy_state`` with the bias column
    appended (``_with_bias``): (kind, shared, (β₁, β₂, ε), E's m, v, t, W's m, v, t, b's m, v, t, b).
    Work buffers: entry_table, entry_row ``(K+1+C,)`` int64, grads ``(K+1+C, d)`` and bias_grads
    ``(K+1+C,)`` in the tables' dtype.
    """
    kind, shared, hyper = lazy[0], lazy[1], lazy[2]
    beta1, beta2, eps = hyper[0], hyper[1], hyper[2]
    d = E.shape[1]
    n = sample.shape[0]
    value = _example_forward(E, W, b, context, n_context, scale, sample, valid, log_expected, use_log_q, loss_kind,
                             h, z, delta)
    output = 0 if shared else 1
    input_scale = h.dtype.type(scale)
    count = 0
    for k in range(d):
        dh[k] = 0.0
    for s in range(n):
        r = sample[s]
        ds = h.dtype.type(delta[s])
        for k in range(d):
            dh[k] += ds * W[r, k]
        e = _entry(entry_table, entry_row, count, output, r)
        if e < 0:
            e, count = count, count + 1
            entry_table[e], entry_row[e] = output, r
            grads[e, :] = 0.0
            bias_grads[e] = 0.0
        for k in range(d):
            grads[e, k] += ds * h[k]
        bias_grads[e] += ds
    for j in range(n_context):
        c = context[j]
        e = _entry(entry_table, entry_row, count, 0, c)
        if e < 0:
            e, count = count, count + 1
            entry_table[e], entry_row[e] = 0, c
            grads[e, :] = 0.0
            bias_grads[e] = 0.0
        for k in range(d):
            grads[e, k] += input_scale * dh[k]
    for e in range(count):
        r = entry_row[e]
        touched = False
        for k in range(d):
            touched |= grads[e, k] != 0.0
        if touched and entry_table[e] == 0:
            _lazy_row_step(E, lazy[3], lazy[4], lazy[5], r, grads[e], lr, kind, beta1, beta2, eps)
        elif touched:
            _lazy_row_step(W, lazy[6], lazy[7], lazy[8], r, grads[e], lr, kind, beta1, beta2, eps)
        if entry_table[e] == 1 and b.shape[0] > 0 and bias_grads[e] != 0.0:
            _lazy_row_step(lazy[12], lazy[9], lazy[10], lazy[11], r, bias_grads[e:e + 1], lr, kind, beta1, beta2,
                           eps)
    return value


@njit(cache=True)
def sgd_step_kernel(E, W, b, contexts, scale, samples, valid, alpha, log_expected, use_log_q, loss_kind):
    """``sgd_step_reference`` through ``example_update`` (contexts ``(B, C)`` with −1 for empty slots)."""
    d = E.shape[1]
    n = samples.shape[1]
    h, dh = np.empty(d, E.dtype), np.empty(d, E.dtype)
    z, delta = np.empty(n), np.empty(n)
    context = np.empty(contexts.shape[1], dtype=np.int64)
    total = 0.0
    for i in range(contexts.shape[0]):
        m = 0
        for j in range(contexts.shape[1]):
            if contexts[i, j] >= 0:
                context[m] = contexts[i, j]
                m += 1
        total += example_update(E, W, b, context, m, scale[i], samples[i], valid[i], log_expected, use_log_q,
                                loss_kind, alpha[i], h, z, delta, dh)
    return total


@njit(cache=True)
def _train_part(ids, offsets, first_line, last_line, seed, E, W, b, config, keep, threshold, alias, log_expected,
                alpha_start, alpha_end, progress_start, span, total_words, trace_contexts, trace_samples,
                trace_alpha, update, lazy):
    """Walk lines [first_line, last_line) of a chunk and train on (or, ``update=False``, only trace) their examples.

    ``config`` int64: sg, window, right_trim, shrink, pad, cbow_mean, subsampling, K, sampler,
    exclude_padding, share, remove_hits, use_log_q, loss_kind. The learning rate decays linearly
    from alpha_start to alpha_end with the progress (progress_start + span · fraction of these lines
    done) / total_words, span being the words this walk stands for. Returns (Σ loss, examples, words,
    kept), kept = the centre positions left after subsampling.
    """
    sg, window, right_trim, shrink, pad, cbow_mean = config[0], config[1], config[2], config[3], config[4], config[5]
    subsampling, K, sampler, exclude_padding = config[6], config[7], config[8], config[9]
    share, remove_hits, use_log_q, loss_kind = config[10], config[11], config[12], config[13]
    rows_total = E.shape[0]
    d = E.shape[1]
    low = 1 if exclude_padding else 0
    h, dh = np.empty(d, E.dtype), np.empty(d, E.dtype)
    z, delta = np.empty(K + 1), np.empty(K + 1)
    sample = np.empty(K + 1, dtype=np.int64)
    valid = np.ones(K + 1, dtype=np.bool_)
    context = np.empty(2 * window, dtype=np.int64)
    entries = K + 1 + 2 * window
    entry_table, entry_row = np.empty(entries, np.int64), np.empty(entries, np.int64)
    grads, bias_grads = np.empty((entries, d), E.dtype), np.empty(entries, E.dtype)
    state = np.uint64(seed)
    part_words = offsets[last_line] - offsets[first_line]
    loss_sum, examples, words, kept = 0.0, 0, 0, 0
    tracing = trace_samples.shape[0] > 0
    # Lines are copied into one buffer and rows are addressed by index: slicing would create array
    # views whose reference counts, shared by the Hogwild threads, cost a contended atomic each.
    longest = 0
    for line in range(first_line, last_line):
        longest = max(longest, offsets[line + 1] - offsets[line])
    tokens = np.empty(longest, dtype=ids.dtype)
    for line in range(first_line, last_line):
        fraction = (progress_start + span * words / max(part_words, 1)) / total_words
        alpha = alpha_start + (alpha_end - alpha_start) * min(fraction, 1.0)
        words += offsets[line + 1] - offsets[line]
        n_tokens = 0
        for position in range(offsets[line], offsets[line + 1]):
            w = ids[position]
            if subsampling == 2:
                state = lcg_next(state)
                if _unit(state) >= keep[w]:
                    continue
            tokens[n_tokens] = w
            n_tokens += 1
        for i in range(n_tokens):
            if subsampling == 1:
                state = lcg_next(state)
                if _unit(state) >= keep[tokens[i]]:
                    continue
            kept += 1
            reach = window
            if shrink:
                state = lcg_next(state)
                reach = window - _below(state, window)
            left, right = reach, reach - right_trim
            n_context = 0
            for j in range(i - left, i + right + 1):
                if j == i:
                    continue
                if 0 <= j < n_tokens:
                    context[n_context] = tokens[j]
                    n_context += 1
                elif pad and not sg:
                    context[n_context] = 0
                    n_context += 1
            if pad and not sg:
                # The TF class pads its window to 2·window slots, the slot the trimmed right word leaves too.
                for _ in range(right_trim):
                    context[n_context] = 0
                    n_context += 1
            if n_context == 0:
                continue
            groups = n_context if sg else 1
            for g in range(groups):
                if share <= 1 or examples % share == 0:
                    for s in range(1, K + 1):
                        state = lcg_next(state)
                        sample[s] = _draw(state, sampler, low, rows_total, threshold, alias)
                sample[0] = tokens[i]
                for s in range(1, K + 1):
                    valid[s] = not (remove_hits and sample[s] == sample[0])
                if sg:
                    context[0], context[g] = context[g], context[0]
                    m, scale = 1, 1.0
                else:
                    m = n_context
                    scale = 1.0 / n_context if cbow_mean else 1.0
                if tracing:
                    trace_contexts[examples, :] = -1
                    trace_contexts[examples, :m] = context[:m]
                    trace_samples[examples] = sample
                    trace_alpha[examples] = alpha
                if update and lazy[0] == 0:
                    loss_sum += example_update(E, W, b, context, m, scale, sample, valid, log_expected, use_log_q,
                                               loss_kind, alpha, h, z, delta, dh)
                elif update:
                    loss_sum += example_update_lazy(E, W, b, context, m, scale, sample, valid, log_expected,
                                                    use_log_q, loss_kind, alpha, h, z, delta, dh, lazy, entry_table,
                                                    entry_row, grads, bias_grads)
                if sg:
                    context[0], context[g] = context[g], context[0]
                examples += 1
    return loss_sum, examples, words, kept


@njit(cache=True, parallel=True)
def _train_parts_parallel(ids, offsets, bounds, seeds, E, W, b, config, keep, threshold, alias, log_expected,
                          alpha_start, alpha_end, progress_start, chunk_words, total_words, results, lazy):
    """Hogwild: the parts run concurrently and update the shared tables without locks (intended races)."""
    empty_i, empty_f = np.empty((0, 0), np.int64), np.empty(0)
    for p in prange(seeds.shape[0]):
        # The parts advance together, so each one's progress through its lines stands for the chunk's.
        loss, count, words, kept = _train_part(ids, offsets, bounds[p], bounds[p + 1], seeds[p], E, W, b, config,
                                               keep, threshold, alias, log_expected, alpha_start, alpha_end,
                                               progress_start, chunk_words, total_words, empty_i, empty_i, empty_f,
                                               True, lazy)
        results[p, 0], results[p, 1], results[p, 2], results[p, 3] = loss, count, words, kept


@njit(cache=True)
def _train_parts_serial(ids, offsets, bounds, seeds, E, W, b, config, keep, threshold, alias, log_expected,
                        alpha_start, alpha_end, progress_start, chunk_words, total_words, results,
                        trace_contexts, trace_samples, trace_alpha, update, lazy):
    """The deterministic path: one part after the other on the calling thread."""
    done = 0.0
    for p in range(seeds.shape[0]):
        span = float(offsets[bounds[p + 1]] - offsets[bounds[p]])
        loss, count, words, kept = _train_part(ids, offsets, bounds[p], bounds[p + 1], seeds[p], E, W, b, config,
                                               keep, threshold, alias, log_expected, alpha_start, alpha_end,
                                               progress_start + done, span, total_words, trace_contexts,
                                               trace_samples, trace_alpha, update, lazy)
        done += span
        results[p, 0], results[p, 1], results[p, 2], results[p, 3] = loss, count, words, kept


# --- entry points ---------------------------------------------------------------------------------

LAZY_OPTIMIZERS = {"sgd": 0, "adagrad": 1, "adam": 2}


def lazy_state(optimizer: str, E: np.ndarray, W: np.ndarray | None, b: np.ndarray | None, *,
               betas: tuple[float, float] = (0.9, 0.999), eps: float | None = None) -> tuple:
    """The ``lazy`` argument of ``train_chunk``/``trace_chunk`` for tables E, W, b (as there).

    "sgd" keeps no state; "adagrad" keeps G per entry (ε 1e-10) and "adam" m, v per entry and a step
    count per row (ε 1e-8), each updated only on the rows an example touches, as ``scratch.optim``'s
    ``Adagrad``/``Adam`` with ``sparse=True`` (torch's defaults). Returns (kind, shared, (β₁, β₂, ε),
    E's m, v, t, W's m, v, t, b's m, v, t), b's as (rows, 1) columns; the arrays live as long as the
    tuple, so one tuple carries the optimizer across chunks and epochs (the kernel receives it with
    the bias column of the call appended).
    """
    if optimizer not in LAZY_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {sorted(LAZY_OPTIMIZERS)}")
    kind = LAZY_OPTIMIZERS[optimizer]
    eps = (0.0, 1e-10, 1e-8)[kind] if eps is None else float(eps)

    def moments(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        table = table if kind else table[:0]
        return np.zeros_like(table), np.zeros_like(table), np.zeros(len(table), np.int64)

    input_state = moments(E)
    output_state = input_state if W is None else moments(W)
    return (kind, W is None, np.array([betas[0], betas[1], eps]), *input_state, *output_state, *moments(_column(b, E)))


def _column(b: np.ndarray | None, E: np.ndarray) -> np.ndarray:
    """The bias as a (rows, 1) view, so the row update of the tables applies to it."""
    return (np.zeros(0, E.dtype) if b is None else b).reshape(-1, 1)


def _with_bias(lazy: tuple | None, E: np.ndarray, W: np.ndarray | None, b: np.ndarray | None) -> tuple:
    """``lazy`` (SGD when None) completed with the current bias array, the kernel's ``lazy`` argument."""
    return (*(lazy_state("sgd", E, W, b) if lazy is None else lazy), _column(b, E))

def split_lines(offsets: np.ndarray, parts: int) -> np.ndarray:
    """Line indices ``(parts' + 1,)`` cutting lines ``offsets`` into up to ``parts`` runs of about equal words."""
    lines = offsets.shape[0] - 1
    targets = np.linspace(0, offsets[-1], parts + 1)
    bounds = np.unique(np.searchsorted(offsets, targets[1:-1], side="right") - 1)
    return np.concatenate([[0], bounds[(bounds > 0) & (bounds < lines)], [lines]]).astype(np.int64)


def part_seeds(seed: int, chunk_index: int, parts: int) -> np.ndarray:
    """One LCG start state per part, derived from (seed, chunk index, part) so a seed reproduces a run."""
    return np.random.SeedSequence([seed, chunk_index]).generate_state(parts, dtype=np.uint64)


def train_chunk(ids: np.ndarray, offsets: np.ndarray, E: np.ndarray, W: np.ndarray | None, b: np.ndarray | None,
                config: np.ndarray, keep: np.ndarray, sampler: tuple[np.ndarray, np.ndarray],
                log_expected: np.ndarray, *,
                alpha: tuple[float, float], progress: float, total_words: float, seed: int, chunk_index: int,
                threads: int = 1, lazy: tuple | None = None) -> tuple[float, int, int, int]:
    """Train on the lines of one chunk (``ids (n,)`` int32, ``offsets (lines+1,)`` int64), in place.

    ``alpha = (start, end)``: the learning rate decays linearly from start to end over
    ``total_words``; ``progress`` is the number of words trained before this chunk. ``threads > 1``
    runs that many Hogwild parts in parallel; ``threads == 1`` is deterministic for a given seed.
    ``sampler = alias_table(q)`` of the sampling distribution q (the unigram sampler draws from it;
    the uniform and log-uniform samplers draw directly). ``lazy = lazy_state(...)`` trains with lazy
    Adagrad/Adam at the rate ``alpha`` instead of SGD. Returns ``(Σ loss, examples, words, kept)``:
    kept counts the centre positions that survived subsampling (gensim's "effective words").
    """
    W_ = E if W is None else W
    b_ = np.empty(0, E.dtype) if b is None else b
    bounds = split_lines(offsets, threads)
    seeds = part_seeds(seed, chunk_index, bounds.shape[0] - 1)
    results = np.zeros((seeds.shape[0], 4))
    args = (ids, offsets, bounds, seeds, E, W_, b_, config, keep, *sampler, log_expected, float(alpha[0]),
            float(alpha[1]), float(progress), float(offsets[-1]), float(total_words), results,
            _with_bias(lazy, E, W, b))
    if threads > 1:
        _train_parts_parallel(*args)
    else:
        empty = np.empty((0, 0), np.int64)
        _train_parts_serial(*args[:-1], empty, empty, np.empty(0), True, args[-1])
    loss, examples, words, kept = results.sum(axis=0)
    return float(loss), int(examples), int(words), int(kept)


def trace_chunk(ids: np.ndarray, offsets: np.ndarray, rows: int, config: np.ndarray, keep: np.ndarray,
                sampler: tuple[np.ndarray, np.ndarray], *, seed: int, chunk_index: int,
                alpha: tuple[float, float] = (0.0, 0.0), progress: float = 0.0, total_words: float = 1.0,
                E: np.ndarray | None = None, W: np.ndarray | None = None, b: np.ndarray | None = None,
                log_expected: np.ndarray | None = None,
                lazy: tuple | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The examples the kernel builds from a chunk on one thread: ``contexts (N, 2·window)`` (−1 = empty
    slot), ``samples (N, K+1)``, the learning rate ``alphas (N,)`` of each, and Σ loss.

    Without ``E`` nothing is trained (the autograd path batches these examples itself); with ``E``
    (and ``W``, ``b``, ``lazy`` as in ``train_chunk``) the kernel also trains on them, so a test can
    replay the trace through ``sgd_step_reference`` (or a lazy optimizer).
    """
    sg, window, K = bool(config[0]), int(config[1]), int(config[7])
    bound = int(offsets[-1]) * (2 * window if sg else 1)
    contexts = np.empty((bound, 2 * window), np.int64)
    samples = np.empty((bound, K + 1), np.int64)
    alphas = np.empty(bound)
    update = E is not None
    E_ = np.zeros((rows, 1)) if E is None else E
    W_ = E_ if W is None else W
    b_ = np.empty(0, E_.dtype) if b is None else b
    log_expected = np.zeros(rows) if log_expected is None else log_expected
    bounds = np.array([0, offsets.shape[0] - 1], np.int64)
    results = np.zeros((1, 4))
    _train_parts_serial(ids, offsets, bounds, part_seeds(seed, chunk_index, 1), E_, W_, b_, config, keep,
                        *sampler, log_expected, float(alpha[0]), float(alpha[1]), float(progress),
                        float(offsets[-1]), float(total_words), results, contexts, samples, alphas, update,
                        _with_bias(lazy, E_, W, b))
    n = int(results[0, 1])
    return contexts[:n], samples[:n], alphas[:n], float(results[0, 0])
