"""VQ attention, the quantizer and the gated attention unit in torch (the cases ``transformer_vq/*``), as
dense O(T²) attention."""
import torch
from torch.nn import functional as F


def vq_attention(q, k_hat, v, u, w, r, codes, codebook, block, blockwise=True):
    """o_t = Σ_{j≤t} softmax_j((q_t + u)·k_j + [t − j ≤ W](q_t + w)·r_{t−j}) v_j. With ``blockwise`` the keys
    older than the previous block are read as codebook[codes] (no k̂ gradient), as the blockwise kernel does."""
    length = q.shape[1]
    positions = torch.arange(length)
    delta = positions[:, None] - positions[None, :]
    content = (q + u) @ k_hat.transpose(1, 2)
    if blockwise:
        recent = (positions[None, :] // block) >= (positions[:, None] // block) - 1
        content = torch.where(recent, content, (q + u) @ codebook[codes].transpose(1, 2))
    window = r.shape[0] - 1
    by_distance = (q + w) @ r.T                                                    # (B, T, W+1)
    in_window = (delta >= 0) & (delta <= window)
    position = torch.gather(by_distance, 2, delta.clamp(0, window).expand(q.shape[0], -1, -1))
    scores = content + torch.where(in_window, position, torch.zeros_like(position))
    return torch.softmax(scores.masked_fill(delta < 0, float("-inf")), dim=-1) @ v


def quantize(k, codebook):
    """(k̂, codes, commit): nearest code, straight-through keys, mean ‖k − sg(C_z)‖²."""
    distance = (k * k).sum(-1, keepdim=True) - 2 * k @ codebook.T + (codebook * codebook).sum(-1)
    codes = distance.argmin(-1)
    chosen = codebook[codes]
    return chosen + (k - k.detach()), codes, ((k - chosen) ** 2).sum(-1).mean()


def gau(x, codebook, block, window, **state):
    """One gated attention unit with VQ keys (the case ``transformer_vq/gau``) from its state dict."""
    d_model, d_k = x.shape[-1], state["u"].shape[0]
    scale = d_k ** -0.25
    h = F.rms_norm(x, (d_model,), state["norm.weight"], 1e-6)
    q = F.rms_norm(h @ state["w_q.weight"].T, (d_k,), None, 1e-6) * scale
    k = F.rms_norm(h @ state["w_k.weight"].T, (d_k,), None, 1e-6) * scale
    v, g = F.silu(h @ state["w_v.weight"].T), F.silu(h @ state["w_g.weight"].T)
    omega = 1e5 ** (-2 * torch.arange(d_model // 2, dtype=torch.float64) / d_model)
    angles = torch.arange(window + 1, dtype=torch.float64)[:, None] * omega
    r = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1) @ state["w_r.weight"].T * scale
    k_hat, codes, commit = quantize(k, codebook)
    o = vq_attention(q, k_hat, v, state["u"] * scale, state["w"] * scale, r, codes, codebook, block)
    return {"y": x + (o * g) @ state["w_o.weight"].T, "commit_loss": commit, "codes": codes}


def _quantizer(k, codebook):
    k_hat, codes, commit = quantize(k, codebook)
    return {"k_hat": k_hat, "codes": codes, "commit_loss": commit}


FUNCTIONS = {
    "transformer_vq/vq_attention": vq_attention,
    "transformer_vq/quadratic_vq_attention": lambda **arrays: vq_attention(**arrays, blockwise=False),
    "transformer_vq/quantizer": _quantizer,
    "transformer_vq/gau": gau,
}
