"""Cases of the GloVe objectives (``scratch.kernels.glove.glove_loss``, spec word_vectors.md §2.3).

Records n = (i, j) with a target t_n and a weight f_n: J = ½ Σ_n f_n e_n², e_n = <W_i, C_j> + b_i + c_j − t_n.
Classic GloVe: t = log X_ij, f = min(1, (X/x_max)^α), biases on, separate word and context vectors.
Simpler GloVe: one table (C is W), no biases, t = the PMI target m_ij. Parameters as ``nn.Embedding.weight``
(V, d): ``word`` (W), ``context`` (C); biases (V,): ``word_bias``, ``context_bias``.
"""
from __future__ import annotations

import numpy as np

from ...kernels.glove import glove_loss, glove_weight
from .build import build_case

VOCAB, DIM, RECORDS = 9, 4, 20
LAYOUTS = {"word": "(V, d) nn.Embedding.weight: W", "context": "(V, d) nn.Embedding.weight: C",
           "word_bias": "(V,) b", "context_bias": "(V,) c", "rows": "(n,) int64 i", "cols": "(n,) int64 j",
           "target": "(n,) float64 constant t", "weight": "(n,) float64 constant f", "loss": "() J"}


def cases() -> list:
    rng = np.random.default_rng(7)
    rows, cols = rng.integers(0, VOCAB, RECORDS), rng.integers(0, VOCAB, RECORDS)
    counts = rng.integers(1, 300, RECORDS).astype(np.float64)
    records = {"rows": rows, "cols": cols, "weight": glove_weight(counts)}
    classic = build_case(
        "glove/classic",
        lambda word, context, word_bias, context_bias, rows, cols, target, weight:
            {"loss": glove_loss(word, context, word_bias, context_bias, rows, cols, target, weight)},
        description="classic GloVe: separate W, C, biases, t = log X",
        parameters={"word": 0.3 * rng.standard_normal((VOCAB, DIM)), "context": 0.3 * rng.standard_normal((VOCAB, DIM)),
                    "word_bias": 0.1 * rng.standard_normal(VOCAB), "context_bias": 0.1 * rng.standard_normal(VOCAB)},
        constants={**records, "target": np.log(counts)}, layouts=LAYOUTS, seed=1)
    simpler = build_case(
        "glove/simpler",
        lambda word, rows, cols, target, weight: {"loss": glove_loss(word, word, None, None, rows, cols, target, weight)},
        description="simpler GloVe: one table W used on both sides, no biases, t = the PMI target",
        parameters={"word": 0.3 * rng.standard_normal((VOCAB, DIM))},
        constants={**records, "target": rng.standard_normal(RECORDS)}, layouts=LAYOUTS, seed=2)
    return [classic, simpler]
