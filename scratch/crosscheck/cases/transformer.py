"""Cases of the local-attention Transformer (spec Part B): the window-attention kernel with its bias and
log-n options, the position schemes and two Transformer blocks (``scratch.models.transformer``).

Window attention, one head, positions 0-based: query t sees keys j with 0 ≤ t − j < window,
s_tj = c_t σ q_t·k_j + bias[h, t − j], σ = 1/√D, c_t = log min(t+1, window) / log log_n (1 without log-n),
o_t = Σ_j softmax_j(s_tj) v_j. T = 70 crosses the kernel's 64-query blocks and exceeds the window (9).
RoPE rotates the pairs (x_{2i}, x_{2i+1}) of row p by the angle p·10000^{−2i/D}; XPOS then multiplies pair i
of q_p by ζ_i^{(p − ⌊T/2⌋)/512} and divides k_p by it, ζ_i = (2i/D + 0.4)/1.4. ALiBi: bias −λ_h δ,
λ_h = 2^{−8h/H} (h = 1..H). KERPLE: bias −softplus(a_h)·δ^{2σ(b_h)} (power) or −softplus(a_h)·log(1 +
softplus(b_h) δ) (log). Sandwich: bias λ Σ_{i<D/2} cos(δ·10000^{−2i/D}). ReRoPE: the relative position
δ = t − j is used as is below ``window`` and clipped to ``window`` (or to window + (δ − window)/leaky_k) above.
"""
from __future__ import annotations

import numpy as np

from ...autograd import as_tensor
from ...autograd.functional import attend, causal_mask
from ...kernels.window_attention import window_attention
from ...models.transformer import Block, CausalSelfAttention, TransformerConfig
from ...models.transformer import positions as pos
from .build import build_case, place_parameters

HEADS, LENGTH, HEAD_DIM, WINDOW = 2, 70, 4, 9
QKV = {"q": "(B, H, T, D)", "k": "(B, H, T, D)", "v": "(B, H, T, D)", "o": "(B, H, T, D)"}


def _qkv(rng, length=LENGTH):
    return {name: rng.standard_normal((1, HEADS, length, HEAD_DIM)) for name in "qkv"}


def _biased(bias_of):
    def reference(q, k, v, window, **options):
        return {"o": window_attention(q, k, v, window, bias=bias_of(window, **options))}
    return reference


def _block_case(name, config, description, seed, **inference):
    rng = np.random.default_rng(seed)
    attention = CausalSelfAttention(config, config.position, rng=rng, dtype=np.float64)
    block = Block(config, attention, rng=rng, dtype=np.float64)
    parameters = {k: p.data.astype(np.float64) for k, p in block.named_parameters()}
    parameters.update({k: 1 + 0.2 * rng.standard_normal(v.shape) for k, v in parameters.items() if "norm" in k})

    def reference(x, **arrays):
        place_parameters(block, {k: arrays[k] for k in parameters})
        return {"y": block(as_tensor(x), **inference)}
    layouts = {"x": "(B, T, d)", "y": "(B, T, d)",
               "attention.qkv.weight": "(3d, d) nn.Linear.weight, no bias: rows [0, d) q, [d, 2d) k, [2d, 3d) v; "
                                       "head h is features h·D … (h+1)·D − 1 of each",
               "attention.out.weight": "(d, d) nn.Linear.weight, no bias, on the heads concatenated in order",
               "up.weight": "(ffn, d) nn.Linear.weight, no bias", "down.weight": "(d, ffn) nn.Linear.weight, no bias"}
    layouts.update({k: f"(d,) the weight of {config.norm} norm (eps 1e-6 RMSNorm, 1e-5 LayerNorm)"
                    for k in parameters if "norm" in k and k.endswith("weight")})
    layouts.update({k: "(d,) the bias of the LayerNorm" for k in parameters if "norm" in k and k.endswith("bias")})
    return build_case(name, reference, description=description, inputs={"x": rng.standard_normal((2, LENGTH, config.dim))},
                      parameters=parameters, options=dict(inference), layouts=layouts, seed=seed)


def cases() -> list:
    rng = np.random.default_rng(5)
    made = [build_case(
        "transformer/window_attention", lambda q, k, v, window: {"o": window_attention(q, k, v, window)},
        description="causal sliding-window attention, window 9, T = 70", inputs=_qkv(rng),
        options={"window": WINDOW}, layouts=QKV, seed=1)]
    made.append(build_case(
        "transformer/window_attention_bias",
        lambda q, k, v, bias, window: {"o": window_attention(q, k, v, window, bias=bias)},
        description="window attention with a learned additive bias per head and distance",
        inputs={**_qkv(rng), "bias": rng.standard_normal((HEADS, WINDOW))}, options={"window": WINDOW},
        layouts={**QKV, "bias": "(H, window): bias[h, δ] for distance δ = t − j"}, seed=2))
    made.append(build_case(
        "transformer/window_attention_log_n",
        lambda q, k, v, window, log_n: {"o": window_attention(q, k, v, window, log_n=log_n)},
        description="window attention with the log-n factor log min(t+1, window)/log log_n on q·k",
        inputs=_qkv(rng), options={"window": WINDOW, "log_n": 16}, layouts=QKV, seed=3))
    made.append(build_case(
        "transformer/rope", lambda x, base: {"out": pos.rope(x, np.arange(x.shape[-2]), base)},
        description="RoPE at positions 0..T−1", inputs={"x": rng.standard_normal((2, HEADS, 10, 6))},
        options={"base": 10000.0}, layouts={"x": "(B, H, T, D)", "out": "(B, H, T, D)"}, seed=4))

    def xpos(q, k):
        scales = pos.xpos_scales(q.shape[-2], q.shape[-1])
        positions = np.arange(q.shape[-2])
        return {"q_out": pos.rope(q, positions) * scales, "k_out": pos.rope(k, positions) / scales}
    made.append(build_case(
        "transformer/xpos", xpos, description="XPOS: RoPE, then the per-pair decay ζ^{±(p − ⌊T/2⌋)/512}",
        inputs={"q": rng.standard_normal((1, HEADS, 11, 6)), "k": rng.standard_normal((1, HEADS, 11, 6))},
        layouts={"q": "(B, H, T, D)", "k": "(B, H, T, D)", "q_out": "(B, H, T, D)", "k_out": "(B, H, T, D)"}, seed=5))
    made.append(build_case(
        "transformer/alibi", _biased(lambda window: pos.alibi_bias(HEADS, window)),
        description="window attention with the ALiBi bias", inputs=_qkv(rng), options={"window": WINDOW},
        layouts=QKV, seed=6))
    for form, seed in ((pos.KERPLE_POWER, 7), (pos.KERPLE_LOG, 8)):
        made.append(build_case(
            f"transformer/kerple_{form}",
            lambda q, k, v, a, b, window, form: {"o": window_attention(q, k, v, window,
                                                                       bias=pos.kerple_bias(a, b, window, form))},
            description=f"window attention with the KERPLE {form} bias of the raw per-head parameters a, b",
            inputs=_qkv(rng), parameters={"a": rng.standard_normal(HEADS), "b": rng.standard_normal(HEADS)},
            options={"window": WINDOW, "form": form}, layouts={**QKV, "a": "(H,)", "b": "(H,)"}, seed=seed))
    made.append(build_case(
        "transformer/sandwich", _biased(lambda window, scale: pos.sandwich_bias(HEADS, window, HEAD_DIM, scale)),
        description="window attention with the Sandwich bias", inputs=_qkv(rng),
        options={"window": WINDOW, "scale": 0.5}, layouts=QKV, seed=9))
    for name, leaky_k, seed in (("rerope", None, 10), ("leaky_rerope", 2.0, 11)):
        made.append(build_case(
            f"transformer/{name}",
            lambda q, k, v, window, leaky_k: {"o": attend(pos.rerope_scores(q, k, window, leaky_k), v,
                                                          causal_mask(q.shape[-2]))},
            description=f"causal softmax attention on the {name} logits σ q·k (σ = 1/√D)", inputs=_qkv(rng, 12),
            options={"window": 4, "leaky_k": leaky_k}, layouts=QKV, seed=seed))
    made.append(_block_case(
        "transformer/block_rope", TransformerConfig(vocab_size=16, dim=8, heads=2, ffn_dim=12, position="rope"),
        "pre-norm block: x + Attn(RMSNorm(x)), then + MLP(RMSNorm(·)), RoPE, full causal attention, GELU (erf)", 12))
    made.append(_block_case(
        "transformer/block_alibi_window",
        TransformerConfig(vocab_size=16, dim=8, heads=2, ffn_dim=12, position="alibi", norm="layer", prenorm=False,
                          activation="silu"),
        "post-norm block: LayerNorm(x + Attn(x)), then LayerNorm(· + MLP(·)), ALiBi, causal window 9, SiLU", 13,
        window=WINDOW))
    return made
