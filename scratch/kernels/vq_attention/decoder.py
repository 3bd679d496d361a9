"""VQ attention one token at a time with a constant-size state: the L = 1 form (spec transformer_vq.md §1, §3.4).

Query t sees three groups of slots:

    the new key (distance 0) and the W keys before it (distances 1 … W), each with its bias:
        s(t, j) = (q_t + u)·k̂_j + (q_t + w)·r_{t−j}
    the cache, one slot per code s holding every key at distance > W:
        s(t, s) = (q_t + u)·c_s + log N_s,   value μ_s                          (``cache``)

and o_t = softmax over all W + 1 + S slots (one joint row max) of the slot values. The state is a ring
of the last W keys k̂, values and codes, the counts N (S,) and means μ (S, D_v): its size does not grow
with t, so decoding costs O((W + S)(D_k + D_v)) per token. After the query the key at distance W —
at distance W + 1 from the next query — leaves the ring and is folded into the cache.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd import Tensor
from ...autograd.functional import MASKED
from ...validation import positive_int, shape
from .cache import WindowBias, cache_logits, check_window_bias, fold_rows


class VQDecoder:
    """Token-by-token VQ attention: o_t from the last W keys/values (with bias) and the per-code cache.

    ``codebook`` C: (S, D_k); ``window_bias = (u, w, r)`` as in ``vq_attention`` (None: no bias, W = 0);
    ``batch`` B samples decoded side by side, values of width ``dim_v``. ``step`` equals row t of
    ``vq_attention`` on the whole sequence.
    """

    def __init__(self, codebook: np.ndarray, window_bias: tuple[Any, Any, Any] | None, batch: int, dim_v: int):
        codebook = np.asarray(codebook)
        shape("codebook", codebook, (None, None))
        dtype, (S, Dk) = codebook.dtype, codebook.shape
        batch, dim_v = positive_int("batch", batch), positive_int("dim_v", dim_v)
        if window_bias is None:
            window_bias = (np.zeros(Dk, dtype), np.zeros(Dk, dtype), np.zeros((1, Dk), dtype))
        self.codebook = codebook
        self.bias = WindowBias(*(np.asarray(x.data if isinstance(x, Tensor) else x, dtype) for x in window_bias))
        check_window_bias(*self.bias, Dk)
        W = self.window = self.bias.r.shape[0] - 1
        self.keys = np.zeros((batch, W, Dk), dtype)
        self.values = np.zeros((batch, W, dim_v), dtype)
        self.codes = np.zeros((batch, W), np.int64)
        self.counts = np.zeros((batch, S), dtype)
        self.means = np.zeros((batch, S, dim_v), dtype)
        self.t = 0

    def step(self, q: np.ndarray, k_hat: np.ndarray, v: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """One token per sample: q, k_hat (B, D_k), v (B, D_v), codes (B,) → o (B, D_v)."""
        B, W, Dk = *self.keys.shape[:2], self.codebook.shape[1]
        expected = ((B, Dk), (B, Dk), (B, self.means.shape[2]), (B,))
        # per token, the full checks (and even np.shape) would cost µs: they run only when a shape is off
        if (getattr(q, "shape", None), getattr(k_hat, "shape", None), getattr(v, "shape", None),
                getattr(codes, "shape", None)) != expected:
            for name, x, wanted in zip(("q", "k_hat", "v", "codes"), (q, k_hat, v, codes), expected):
                shape(name, x, wanted)
        distance = np.arange(1, W + 1)
        ring = (self.t - distance) % max(W, 1)
        keys = np.concatenate([k_hat[:, None], self.keys[:, ring]], axis=1)
        values = np.concatenate([v[:, None], self.values[:, ring]], axis=1)
        seen = np.concatenate([[True], distance <= self.t])
        qu, qw = q + self.bias.u, q + self.bias.w
        s_window = np.einsum("bd,bjd->bj", qu, keys) + qw @ self.bias.r.T
        s_window[:, ~seen] = MASKED
        s_cache = qu @ self.codebook.T + cache_logits(self.counts)
        m = np.maximum(s_window.max(1), s_cache.max(1))[:, None]
        a_window, a_cache = np.exp(s_window - m), np.exp(s_cache - m)
        den = a_window.sum(1, keepdims=True) + a_cache.sum(1, keepdims=True)
        out = np.einsum("bj,bjd->bd", a_window / den, values) + np.einsum("bs,bsd->bd", a_cache / den, self.means)
        self._advance(k_hat, v, np.asarray(codes, np.int64))
        return out

    def _advance(self, k_hat: np.ndarray, v: np.ndarray, codes: np.ndarray) -> None:
        """The new key enters the ring; the key at distance W (with W = 0: the new key) joins the cache."""
        slot = self.t % max(self.window, 1)
        if self.window == 0:
            leaving_codes, leaving_values = codes, v
        else:  # views: the leaving key is folded before its ring slot is overwritten
            leaving_codes, leaving_values = self.codes[:, slot], self.values[:, slot]
        if self.t >= self.window:
            fold_rows(self.counts, self.means, leaving_codes, leaving_values)
        if self.window > 0:
            self.keys[:, slot], self.values[:, slot], self.codes[:, slot] = k_hat, v, codes
        self.t += 1
