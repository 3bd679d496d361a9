"""The vector quantizer of Transformer-VQ's keys: EMA codebook, nearest code, straight-through estimator (spec §2).

Codebook C ∈ R^{S×D_k} kept as EMA statistics (buffers, no gradient):

    C_s = c_sum_s / max(c_count_s, 0.01)                                                    (§2.4)
    z_t = argmin_s ‖k_t − C_s‖² = argmin_s (‖C_s‖² − 2 k_t·C_s)                              (§2.1)
    k̂_t = sg(C_{z_t}) + (k_t − sg(k_t))        forward value C_{z_t}, backward identity     (§2.2)
    l_commit = mean_t ‖k_t − sg(C_{z_t})‖²                                                  (§2.4)
    after each optimizer step:  c_sum_s ← γ c_sum_s + (1−γ) Σ_{z_t=s} k_t,
                                c_count_s ← γ c_count_s + (1−γ) #{t: z_t = s}               (γ = 0.99)

Initialisation as the official code: c_sum ~ N(0, 1/S), c_count = 1. Health metrics: usage perplexity
exp(H(usage of the last batch)), dead codes (EMA count < 1) and the relative quantisation error
‖k − C_z‖ / ‖k‖. ``reseed_dead=True`` is a deviation from the paper (spec §8, off by default): codes
whose EMA count fell below 1 restart from random keys of the last batch (c_sum = k, c_count = 1).
"""
from __future__ import annotations

import numpy as np

from ...autograd import Tensor
from ...nn import Module
from ...validation import boolean, floating_dtype, generator, positive_int, real, shape

COUNT_FLOOR = 0.01
DEAD_COUNT = 1.0


class VectorQuantizer(Module):
    """Nearest-codeword quantization of keys k: (..., D_k) with an EMA codebook of ``num_codes`` rows."""

    def __init__(self, num_codes: int, dim: int, *, gamma: float = 0.99, reseed_dead: bool = False,
                 rng: np.random.Generator | None = None, dtype: np.dtype | type = np.float32):
        super().__init__()
        self.num_codes = positive_int("num_codes", num_codes)
        self.dim = positive_int("dim", dim)
        self.gamma = real("gamma", gamma, minimum=0.0, maximum=1.0, open_above=True)
        self.reseed_dead = boolean("reseed_dead", reseed_dead)
        self.rng = generator("rng", rng)
        dtype = floating_dtype("dtype", dtype)
        self.register_buffer("c_sum", (self.rng.standard_normal((num_codes, dim)) / np.sqrt(num_codes)).astype(dtype))
        self.register_buffer("c_count", np.ones(num_codes, dtype))
        self.last_codes: np.ndarray | None = None
        self.last_keys: np.ndarray | None = None

    @property
    def codebook(self) -> np.ndarray:
        """C = c_sum / max(c_count, 0.01): (S, D_k)."""
        return self.c_sum / np.maximum(self.c_count, COUNT_FLOOR)[:, None]

    def assign(self, k: np.ndarray) -> np.ndarray:
        """Codes z = argmin_s ‖k − C_s‖² of keys k (..., D_k): integer array (...)."""
        codebook = self.codebook
        scores = k @ codebook.T - 0.5 * np.sum(codebook * codebook, axis=1)
        return np.argmax(scores, axis=-1)

    def forward(self, k: Tensor) -> tuple[Tensor, np.ndarray, Tensor]:
        """(k̂, z, l_commit): straight-through keys (..., D_k), codes (...), commitment loss (scalar).

        In training mode the codes and keys are kept for the EMA step ``update``.
        """
        shape("k", k.data, (None,) * (k.ndim - 1) + (self.dim,))
        codes = self.assign(k.data)
        chosen = self.codebook[codes].astype(k.dtype)
        # (k − sg(k)) is exactly 0, so the forward value is exactly C_z
        k_hat = (k - k.detach()) + chosen
        commit = ((k - chosen) ** 2).sum(axis=-1).mean()
        if self.training:
            self.last_codes, self.last_keys = codes.reshape(-1), k.data.reshape(-1, self.dim)
        return k_hat, codes, commit

    def update(self) -> None:
        """One EMA step from the last training batch (sums over the whole batch, §2.4), then optional reseeding."""
        if self.last_codes is None:
            return
        counts = np.bincount(self.last_codes, minlength=self.num_codes)
        sums = np.zeros_like(self.c_sum)
        np.add.at(sums, self.last_codes, self.last_keys.astype(sums.dtype))
        self.c_sum[:] = self.gamma * self.c_sum + (1 - self.gamma) * sums
        self.c_count[:] = self.gamma * self.c_count + (1 - self.gamma) * counts
        if self.reseed_dead:
            dead = np.flatnonzero(self.c_count < DEAD_COUNT)
            if dead.size:
                picks = self.rng.integers(0, len(self.last_keys), dead.size)
                self.c_sum[dead] = self.last_keys[picks]
                self.c_count[dead] = DEAD_COUNT
        self.last_codes = self.last_keys = None

    def health(self, k: np.ndarray, codes: np.ndarray) -> dict[str, float]:
        """Usage perplexity of ``codes``, dead codes (EMA count < 1) and ‖k − C_z‖/‖k‖ for keys k (..., D_k)."""
        usage = np.bincount(codes.reshape(-1), minlength=self.num_codes) / codes.size
        used = usage[usage > 0]
        error = np.linalg.norm(k - self.codebook[codes], axis=-1) / np.maximum(np.linalg.norm(k, axis=-1), 1e-12)
        return {"perplexity": float(np.exp(-np.sum(used * np.log(used)))),
                "dead": int(np.sum(self.c_count < DEAD_COUNT)),
                "quant_error": float(error.mean())}
