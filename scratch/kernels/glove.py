"""GloVe and simpler-GloVe training: one AdaGrad pass over shuffled co-occurrence records.

Spec ``word_vectors.md`` §2.3. A record is an ordered pair (i, j) with a target t_ij and a weight
f_ij. With word vectors W ``(V, d)``, context vectors C ``(V, d)`` (C *is* W for simpler GloVe's
shared model) and optional biases b, c ``(V,)``:

    e_ij = <W_i, C_j> + b_i + c_j - t_ij,        J = 1/2 sum_records f_ij e_ij^2

    classic GloVe:  t_ij = log X_ij,  biases on
    simpler GloVe:  t_ij = m_ij = log X_ij - log T - log n_i - log n_j + 2 log N,  no biases

    f(x) = min(1, (x / x_max)^alpha)   (truncated)   or   (x / x_max)^alpha   (untruncated)

Per record, both gradients come from the pre-update vectors: g_W_i = f e C_j, g_C_j = f e W_i,
g_b_i = g_c_j = f e. Two AdaGrad orders (G starts at 1 for every coordinate):

    "su"        G <- G + g^2;          theta <- theta - eta g / sqrt(G + 1e-8)            (eta 0.1)
    "stanford"  s = eta clip(g, +-grad_clip); theta <- theta - s / sqrt(G); G <- G + s^2   (eta 0.05)
                and for the biases theta <- theta - g / sqrt(G); G <- G + g^2 (no eta, as glove.c)

A record whose f e is not finite is skipped; vector updates are dropped when their sum is not
finite, bias updates when they are not (glove.c). An epoch returns sum 1/2 f e^2 over the records,
measured before each update.

The file reads in the order of its definitions: the weight f and the whole J on the autograd path
(``glove_loss``, for gradient checks); ``glove_epoch_reference``, the NumPy loop that defines an
epoch; its Numba twin (``threads > 1`` runs Hogwild: each thread takes a contiguous slice of the
shuffled records and updates the shared arrays without locks); ``glove_epoch``, the checked entry.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .. import validation
from ..autograd import Tensor, as_tensor
from .prefetch import prefetch_row_start

ADAGRAD_SU = 0          # accumulate g^2, then divide (Su's demo)
ADAGRAD_STANFORD = 1    # divide, then accumulate the clipped step (glove.c)
ADAGRAD_ORDERS = {"su": ADAGRAD_SU, "stanford": ADAGRAD_STANFORD}
# records: while record n is computed, the first lines of the rows of record n + 2 are prefetched
# (``prefetch.py``; whole rows were slower at d = 100)
PREFETCH_AHEAD = 2


class GloVeParams(NamedTuple):
    """Trainable arrays and their AdaGrad accumulators (updated in place).

    W, C, GW, GC: ``(V, d)``; b, c, Gb, Gc: ``(V,)``, or ``(0,)`` when there are no biases.
    For a shared model C is W and GC is GW (the same arrays).
    """

    W: np.ndarray
    C: np.ndarray
    b: np.ndarray
    c: np.ndarray
    GW: np.ndarray
    GC: np.ndarray
    Gb: np.ndarray
    Gc: np.ndarray

    @classmethod
    def init(cls, vocab_size: int, dim: int, *, shared: bool, biases: bool, rng: np.random.Generator,
             dtype: type = np.float64) -> GloVeParams:
        """W, C ~ U(-0.5, 0.5) / d (glove.c); biases 0; every accumulator 1."""
        W = ((rng.random((vocab_size, dim)) - 0.5) / dim).astype(dtype)
        C = W if shared else ((rng.random((vocab_size, dim)) - 0.5) / dim).astype(dtype)
        size = vocab_size if biases else 0
        GW = np.ones_like(W)
        return cls(W=W, C=C, b=np.zeros(size, dtype), c=np.zeros(size, dtype), GW=GW,
                   GC=GW if shared else np.ones_like(C), Gb=np.ones(size, dtype), Gc=np.ones(size, dtype))

    @property
    def shared(self) -> bool:
        return self.C is self.W


class AdaGradSettings(NamedTuple):
    """How an epoch steps: the rate eta, the order (``ADAGRAD_SU`` or ``ADAGRAD_STANFORD``) and the
    clip of Stanford's order."""

    eta: float
    order: int
    grad_clip: float


def glove_weight(x: np.ndarray, x_max: float = 100.0, alpha: float = 0.75, truncate: bool = True) -> np.ndarray:
    """f(x) = min(1, (x / x_max)^alpha), or (x / x_max)^alpha without the cap: ``(n,)`` float64."""
    x_max = validation.positive_real("x_max", x_max)
    alpha = validation.real("alpha", alpha, minimum=0.0)
    f = (np.asarray(x, dtype=np.float64) / x_max) ** alpha
    return np.minimum(f, 1.0) if validation.boolean("truncate", truncate) else f


def glove_loss(W, C, b, c, rows: np.ndarray, cols: np.ndarray, target: np.ndarray, weight: np.ndarray) -> Tensor:
    """J = 1/2 sum_n f_n e_n^2 with e_n = <W_i, C_j> + b_i + c_j - t_n on the autograd path.

    W, C: ``(V, d)`` Tensors (pass the same Tensor twice for a shared model); b, c: ``(V,)`` or None.
    """
    W, C = as_tensor(W), as_tensor(C)
    e = (W[rows] * C[cols]).sum(axis=1) - target
    if b is not None:
        e = e + as_tensor(b)[rows] + as_tensor(c)[cols]
    return 0.5 * (weight * e * e).sum()


def glove_epoch_reference(params: GloVeParams, rows: np.ndarray, cols: np.ndarray, target: np.ndarray,
                          weight: np.ndarray, *, eta: float, adagrad: str = "su", grad_clip: float = 100.0) -> float:
    """The definition of ``glove_epoch`` in NumPy, one record at a time."""
    settings = _checked_settings(params, rows, cols, target, weight, eta, adagrad, grad_clip)
    eta, grad_clip = settings.eta, settings.grad_clip
    W, C, b, c = params.W, params.C, params.b, params.c
    GW, GC, Gb, Gc = params.GW, params.GC, params.Gb, params.Gc
    biases = b.size > 0
    cost = 0.0
    for i, j, t, f in zip(rows, cols, target, weight):
        e = W[i] @ C[j] - t + (b[i] + c[j] if biases else 0.0)
        fe = f * e
        if not math.isfinite(fe):
            continue
        cost += 0.5 * fe * e
        g_w, g_c = fe * C[j], fe * W[i]
        if settings.order == ADAGRAD_SU:
            GW[i] += g_w**2
            GC[j] += g_c**2
            u_w, u_c = eta * g_w / np.sqrt(GW[i] + 1e-8), eta * g_c / np.sqrt(GC[j] + 1e-8)
        else:
            s_w, s_c = eta * np.clip(g_w, -grad_clip, grad_clip), eta * np.clip(g_c, -grad_clip, grad_clip)
            u_w, u_c = s_w / np.sqrt(GW[i]), s_c / np.sqrt(GC[j])
            GW[i] += s_w**2
            GC[j] += s_c**2
        if np.isfinite(u_w.sum()) and np.isfinite(u_c.sum()):
            W[i] -= u_w
            C[j] -= u_c
        if biases:
            if settings.order == ADAGRAD_SU:
                Gb[i] += fe**2
                Gc[j] += fe**2
                u_b, u_c = eta * fe / np.sqrt(Gb[i] + 1e-8), eta * fe / np.sqrt(Gc[j] + 1e-8)
            else:
                u_b, u_c = fe / np.sqrt(Gb[i]), fe / np.sqrt(Gc[j])
                Gb[i] += fe**2
                Gc[j] += fe**2
            b[i] -= u_b if math.isfinite(u_b) else 0.0
            c[j] -= u_c if math.isfinite(u_c) else 0.0
    return cost


# Only re-association and contraction: without "nnan"/"ninf" the finiteness checks survive, and with
# "arcp", "afn" or "nsz" as well a NaN accumulator dropped other updates than the reference does.
# error_model="numpy" drops the zero-division checks that would keep the update loop from vectorizing.
@njit(cache=True, fastmath={"reassoc", "contract"}, error_model="numpy")
def _epoch_slice(params, rows, cols, target, weight, start, stop, settings):
    """Records start..stop of ``glove_epoch`` (the arithmetic of ``glove_epoch_reference``)."""
    W, C, b, c = params.W, params.C, params.b, params.c
    GW, GC, Gb, Gc = params.GW, params.GC, params.Gb, params.Gc
    eta, order, grad_clip = settings.eta, settings.order, settings.grad_clip
    dim = W.shape[1]
    biases = b.size > 0
    u_w = np.empty(dim, dtype=np.float64)
    u_c = np.empty(dim, dtype=np.float64)
    cost = 0.0
    for n in range(start, stop):
        if n + PREFETCH_AHEAD < stop:  # the rows of a record ahead start loading while this one is computed
            ahead_i, ahead_j = rows[n + PREFETCH_AHEAD], cols[n + PREFETCH_AHEAD]
            prefetch_row_start(W, ahead_i)
            prefetch_row_start(GW, ahead_i)
            prefetch_row_start(C, ahead_j)
            prefetch_row_start(GC, ahead_j)
        i, j = rows[n], cols[n]
        e = -target[n]
        for k in range(dim):
            e += W[i, k] * C[j, k]
        if biases:
            e += b[i] + c[j]
        fe = weight[n] * e
        if not math.isfinite(fe):
            continue
        cost += 0.5 * fe * e
        sum_w = 0.0
        sum_c = 0.0
        for k in range(dim):
            g_w = fe * C[j, k]
            g_c = fe * W[i, k]
            if order == ADAGRAD_SU:
                GW[i, k] += g_w * g_w
                GC[j, k] += g_c * g_c
                u_w[k] = eta * g_w / math.sqrt(GW[i, k] + 1e-8)
                u_c[k] = eta * g_c / math.sqrt(GC[j, k] + 1e-8)
            else:
                s_w = eta * min(max(g_w, -grad_clip), grad_clip)
                s_c = eta * min(max(g_c, -grad_clip), grad_clip)
                u_w[k] = s_w / math.sqrt(GW[i, k])
                u_c[k] = s_c / math.sqrt(GC[j, k])
                GW[i, k] += s_w * s_w
                GC[j, k] += s_c * s_c
            sum_w += u_w[k]
            sum_c += u_c[k]
        if math.isfinite(sum_w) and math.isfinite(sum_c):
            for k in range(dim):
                W[i, k] -= u_w[k]
                C[j, k] -= u_c[k]
        if biases:
            if order == ADAGRAD_SU:
                Gb[i] += fe * fe
                Gc[j] += fe * fe
                u_b = eta * fe / math.sqrt(Gb[i] + 1e-8)
                u_cb = eta * fe / math.sqrt(Gc[j] + 1e-8)
            else:
                u_b = fe / math.sqrt(Gb[i])
                u_cb = fe / math.sqrt(Gc[j])
                Gb[i] += fe * fe
                Gc[j] += fe * fe
            if math.isfinite(u_b):
                b[i] -= u_b
            if math.isfinite(u_cb):
                c[j] -= u_cb
    return cost


@njit(cache=True, parallel=True)
def _epoch_hogwild(params, rows, cols, target, weight, settings, threads):
    """Thread t trains on records [n t / threads, n (t + 1) / threads); the shared arrays race (Hogwild)."""
    n = rows.size
    costs = np.zeros(threads)
    for t in prange(threads):
        costs[t] = _epoch_slice(params, rows, cols, target, weight, n * t // threads, n * (t + 1) // threads,
                                settings)
    return costs.sum()


def glove_epoch(params: GloVeParams, rows: np.ndarray, cols: np.ndarray, target: np.ndarray, weight: np.ndarray,
                *, eta: float, adagrad: str = "su", grad_clip: float = 100.0, threads: int = 1) -> float:
    """One pass over the records in order (Numba); returns sum 1/2 f e^2. ``threads > 1`` is Hogwild.

    rows, cols: ``(n,)`` int32 ids; target, weight: ``(n,)`` float64.
    """
    settings = _checked_settings(params, rows, cols, target, weight, eta, adagrad, grad_clip)
    threads = validation.positive_int("threads", threads)
    if threads == 1:
        return _epoch_slice(params, rows, cols, target, weight, 0, rows.size, settings)
    return _epoch_hogwild(params, rows, cols, target, weight, settings, threads)


def _checked_settings(params: GloVeParams, rows: np.ndarray, cols: np.ndarray, target: np.ndarray,
                      weight: np.ndarray, eta: float, adagrad: str, grad_clip: float) -> AdaGradSettings:
    """The AdaGrad settings of an epoch, after checking every argument (ValueError naming it)."""
    order = ADAGRAD_ORDERS[validation.choice("adagrad", adagrad, ADAGRAD_ORDERS)]
    settings = AdaGradSettings(eta=validation.positive_real("eta", eta), order=order,
                               grad_clip=validation.positive_real("grad_clip", grad_clip))
    W, C, b, c = params.W, params.C, params.b, params.c
    if W.ndim != 2 or C.shape != W.shape or W.dtype != C.dtype:
        raise ValueError(f"W and C must be (V, d) arrays of one dtype, got {W.shape} {W.dtype}, {C.shape} {C.dtype}")
    if b.shape != c.shape or b.size not in (0, W.shape[0]):
        raise ValueError(f"biases b, c must both have shape (0,) or ({W.shape[0]},), got {b.shape}, {c.shape}")
    n = rows.shape[0] if rows.ndim == 1 else -1
    for name, array, dtype in (("rows", rows, np.int32), ("cols", cols, np.int32),
                               ("target", target, np.float64), ("weight", weight, np.float64)):
        if array.shape != (n,) or array.dtype != dtype:
            raise ValueError(f"{name} must be a ({n},) {np.dtype(dtype).name} array, got {array.shape} {array.dtype}")
    if n and (min(rows.min(), cols.min()) < 0 or max(rows.max(), cols.max()) >= W.shape[0]):
        raise ValueError(f"rows and cols must be ids in [0, {W.shape[0]})")
    return settings
