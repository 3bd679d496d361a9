"""Cases of Transformer-VQ (spec transformer_vq.md): VQ attention in its blockwise and quadratic forms
(``scratch.kernels.vq_attention``), the quantizer and one gated attention unit (``scratch.models.transformer_vq``).

VQ attention: s(t, j) = (q_t + u)·k̂_j + [t − j ≤ W] (q_t + w)·r_{t−j} for j ≤ t, o_t = Σ_j softmax_j(s) v_j,
with k̂_j = codebook[codes_j] in value. T = 3·block + 5 crosses the block boundaries. The two forms have
the same outputs and differ in the gradient of k̂: the quadratic form is plain dense attention over k̂ (every
key gets its straight-through gradient); the blockwise form reads the keys older than the previous block as
the constant codebook[codes] (the cache) and gives k̂ a gradient only for query t's own block and the one
before it (block index ⌊j/L⌋ ≥ ⌊t/L⌋ − 1). The codebook and codes are constants in both.
Quantizer: codes = argmin_s ‖k − C_s‖², k̂ = C_codes + (k − sg(k)) (straight-through), commit = mean over
positions of ‖k − sg(C_codes)‖². The GAU: see ``scratch.models.transformer_vq.model``.
"""
from __future__ import annotations

import numpy as np

from ...autograd import as_tensor
from ...kernels.vq_attention import quadratic_vq_attention, vq_attention
from ...models.transformer_vq import GatedAttentionUnit, TransformerVQConfig
from ...models.transformer_vq.quantizer import VectorQuantizer
from .build import build_case, place_parameters

BLOCK, CODES, D_K, D_V, BATCH = 4, 5, 4, 6, 2
LENGTH = 3 * BLOCK + 5
ATTENTION = {"q": "(B, T, D_k)", "k_hat": "(B, T, D_k), equal to codebook[codes]", "v": "(B, T, D_v)",
             "u": "(D_k,) content bias", "w": "(D_k,) position bias", "r": "(W+1, D_k): r_0 … r_W",
             "codes": "(B, T) int64 in [0, S)", "codebook": "(S, D_k) float64 constant", "o": "(B, T, D_v)"}


def _attention_case(name, function, description, seed=1):
    rng = np.random.default_rng(seed)  # the same arrays for both forms
    codebook = rng.standard_normal((CODES, D_K))
    codes = rng.integers(0, CODES, (BATCH, LENGTH))
    inputs = {"q": rng.standard_normal((BATCH, LENGTH, D_K)), "k_hat": codebook[codes],
              "v": rng.standard_normal((BATCH, LENGTH, D_V)), "u": rng.standard_normal(D_K),
              "w": rng.standard_normal(D_K), "r": rng.standard_normal((BLOCK, D_K))}
    return build_case(
        name, lambda q, k_hat, v, u, w, r, codes, codebook, block:
            {"o": function(q, k_hat, v, codes, codebook, block=block, window_bias=(u, w, r))},
        description=description, inputs=inputs, constants={"codes": codes, "codebook": codebook},
        options={"block": BLOCK}, layouts=ATTENTION, seed=seed)


def _quantizer(k, codebook):
    quantizer = VectorQuantizer(*codebook.shape, dtype=np.float64)
    quantizer.c_sum[:] = codebook
    k_hat, codes, commit = quantizer(as_tensor(k))
    return {"k_hat": k_hat, "codes": codes, "commit_loss": commit}


def _gau_case(seed):
    rng = np.random.default_rng(seed)
    config = TransformerVQConfig(vocab=16, d_model=8, d_k=D_K, layers=1, codebook_size=CODES, block=BLOCK, window=3)
    unit = GatedAttentionUnit(config, rng=rng, dtype=np.float64)
    parameters = {k: p.data.astype(np.float64) for k, p in unit.named_parameters()}
    parameters.update(u=0.3 * rng.standard_normal(D_K), w=0.3 * rng.standard_normal(D_K))
    parameters["norm.weight"] = 1 + 0.2 * rng.standard_normal(config.d_model)
    codebook = unit.quantizer.codebook.astype(np.float64)

    def reference(x, codebook, block, window, **arrays):
        place_parameters(unit, arrays)
        unit.quantizer.c_sum, unit.quantizer.c_count = codebook.copy(), np.ones(len(codebook))
        y = unit(as_tensor(x))
        return {"y": y, "commit_loss": unit.commit_loss, "codes": unit.last_codes}
    layouts = {"x": "(B, T, D_m)", "y": "(B, T, D_m) x + branch(x)", "commit_loss": "() the quantizer's",
               "codes": "(B, T) int64 codes of the keys", "codebook": "(S, D_k) float64 constant",
               "norm.weight": "(D_m,) RMSNorm weight, eps 1e-6", "u": "(D_k,)", "w": "(D_k,)",
               "w_q.weight": "(D_k, D_m) nn.Linear.weight, no bias", "w_k.weight": "(D_k, D_m) nn.Linear.weight",
               "w_v.weight": "(2 D_m, D_m) nn.Linear.weight", "w_g.weight": "(2 D_m, D_m) nn.Linear.weight",
               "w_o.weight": "(D_m, 2 D_m) nn.Linear.weight", "w_r.weight": "(D_k, D_m) nn.Linear.weight"}
    return build_case(
        "transformer_vq/gau", reference,
        description="one gated attention unit with VQ keys: x̃ = RMSNorm(x); q, k = D_k^{-1/4}·RMSn(x̃ W) (RMSn "
                    "without weight, eps 1e-6); v, g = silu(x̃ W_v), silu(x̃ W_g); r_d = D_k^{-1/4} W_r φ(d), "
                    "φ(d) = [sin(d ω), cos(d ω)], ω_i = 1e5^{−2i/D_m}; blockwise VQ attention with bias "
                    "(u·D_k^{-1/4}, w·D_k^{-1/4}, r), window 3; y = x + (o ⊙ g) W_o",
        inputs={"x": rng.standard_normal((BATCH, LENGTH, config.d_model))}, parameters=parameters,
        constants={"codebook": codebook}, options={"block": BLOCK, "window": 3}, layouts=layouts, seed=seed,
        straight_through=("x", "norm.weight", "w_k.weight"))


def cases() -> list:
    rng = np.random.default_rng(9)
    return [
        _attention_case("transformer_vq/vq_attention", vq_attention,
                        "blockwise VQ attention (block 4, W = 3): k̂ gets gradients from its own and the next block"),
        _attention_case("transformer_vq/quadratic_vq_attention", quadratic_vq_attention,
                        "dense VQ attention over k̂ (same arrays and outputs, full straight-through gradient of k̂)"),
        build_case("transformer_vq/quantizer", _quantizer,
                   description="nearest code, straight-through keys, commitment loss",
                   inputs={"k": rng.standard_normal((BATCH, 9, D_K))},
                   constants={"codebook": rng.standard_normal((CODES, D_K))},
                   layouts={"k": "(B, T, D_k)", "codebook": "(S, D_k) float64 constant",
                            "k_hat": "(B, T, D_k)", "codes": "(B, T) int64", "commit_loss": "()"}, seed=3,
                   straight_through=("k",)),
        _gau_case(4),
    ]
