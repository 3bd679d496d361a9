"""Cases of word2vec's losses (``scratch.models.word2vec.random_softmax_loss``, spec word_vectors.md §1.2).

A batch of B examples: ``contexts (B, C)`` ids with −1 for an empty slot, ``scale (B,)`` the factor of
h = scale · Σ_c E[c] (1/n for the CBOW mean), ``samples (B, K+1)`` the target in slot 0 then K sampled
ids, ``valid (B, K+1)`` the slots that take part (accidental hits removed) and, with log-Q, ``log_expected
(V+1,)`` = log(K q(id)) subtracted from the logits z_s = <h, W[S_s]> + b[S_s]. The loss is the batch mean
of the softmax cross-entropy with the target in slot 0 ("softmax"), or of −log σ(z_0) − Σ_{s≥1} log σ(−z_s)
("nce"). With a shared output layer W ≡ E and there is no bias. Parameters: ``embedding`` and ``output``
(V+1, d) as ``nn.Embedding.weight``, ``bias`` (V+1,).
"""
from __future__ import annotations

import numpy as np

from ...models.word2vec import random_softmax_loss
from .build import build_case

VOCAB, DIM, BATCH, CONTEXT, NEGATIVE = 12, 5, 4, 4, 5
LAYOUTS = {"embedding": "(V+1, d) nn.Embedding.weight: the input vectors E",
           "output": "(V+1, d) nn.Embedding.weight: the output vectors W",
           "bias": "(V+1,) the output bias b", "contexts": "(B, C) int64, −1 = empty slot",
           "scale": "(B,) float64 constant", "samples": "(B, K+1) int64, the target in slot 0",
           "valid": "(B, K+1) bool", "log_expected": "(V+1,) float64 constant log(K q)", "loss": "() batch mean"}


def _reference(embedding, contexts, scale, samples, valid, objective, output=None, bias=None, log_expected=None):
    return {"loss": random_softmax_loss(embedding, output, bias, contexts, scale, samples, valid, log_expected,
                                        objective)}


def cases() -> list:
    made = []
    settings = [("random_softmax", "softmax", True, False, False), ("random_softmax_separate", "softmax", False, False, False),
                ("sampled_softmax", "softmax", False, True, True), ("nce", "nce", True, True, False),
                ("nce_separate", "nce", False, True, False)]
    for index, (name, objective, shared, log_q, remove_hits) in enumerate(settings):
        rng = np.random.default_rng(100 + index)
        contexts = rng.integers(1, VOCAB + 1, (BATCH, CONTEXT))
        contexts[0, 2:] = -1
        samples = rng.integers(0, VOCAB + 1, (BATCH, NEGATIVE + 1))
        samples[1, 3] = samples[1, 0]  # an accidental hit
        valid = np.ones(samples.shape, bool)
        if remove_hits:
            valid[:, 1:] = samples[:, 1:] != samples[:, :1]
        count = (contexts >= 0).sum(axis=1)
        scale = 1.0 / count if name == "sampled_softmax" else np.ones(BATCH)
        constants = {"contexts": contexts, "scale": scale, "samples": samples, "valid": valid}
        if log_q:
            constants["log_expected"] = np.log(NEGATIVE * rng.dirichlet(np.ones(VOCAB + 1)))
        parameters = {"embedding": 0.5 * rng.standard_normal((VOCAB + 1, DIM))}
        if not shared:
            parameters.update(output=0.5 * rng.standard_normal((VOCAB + 1, DIM)), bias=0.3 * rng.standard_normal(VOCAB + 1))
        what = "shared output layer (W ≡ E, no bias)" if shared else "separate output layer W and bias b"
        extras = ", log-Q" if log_q else ""
        extras += ", accidental hits removed, CBOW mean" if remove_hits else ""
        made.append(build_case(f"word2vec/{name}", _reference,
                               description=f"{objective} loss, {what}{extras}", parameters=parameters,
                               constants=constants, options={"objective": objective},
                               layouts=LAYOUTS, seed=index))
    return made
