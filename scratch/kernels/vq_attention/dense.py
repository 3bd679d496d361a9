"""Dense O(T²) attention with the window bias of VQ attention, from engine ops (spec transformer_vq.md §1, §3.1).

    s(t, j) = (q_t + u)·k_j + [t − j ≤ W] (q_t + w)·r_{t−j},   o_t = Σ_{j ≤ t} softmax_j(s(t, ·)) v_j

The quadratic reference of ``vq_attention`` (with k = k̂) and the model's unquantized baselines; its
gradients come from autograd. The bias matrix is the Transformer-XL "rel-shift" built from pads and
reshapes only.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd import Tensor, as_tensor, pad, where
from ...autograd.functional import MASKED, softmax
from ...validation import integer


def relative_bias_matrix(position: Tensor) -> Tensor:
    """M[.., t, j] = position[.., t, t − j] for 0 ≤ t − j ≤ W, else 0: (.., T, W+1) → (.., T, T).

    The Transformer-XL skew with pads and reshapes only: reverse the distance axis, pad to width T+W+1
    and read the flat rows with stride T+W, which moves row t right by t.
    """
    *lead, T, width = position.shape
    W = width - 1
    reversed_ = position[..., ::-1]
    flat = pad(reversed_, [(0, 0)] * len(lead) + [(0, 0), (0, T)]).reshape(*lead, T * (T + width))
    skewed = flat[..., :T * (T + W)].reshape(*lead, T, T + W)
    return skewed[..., W:W + T]


def windowed_bias_attention(q: Any, k: Any, v: Any, window_bias: tuple[Any, Any, Any] | None = None, *,
                            visible: int | None = None) -> Tensor:
    """Dense causal softmax attention with score (q_t+u)·k_j + [t−j ≤ W](q_t+w)·r_{t−j}, O(T²).

    q, k: (B, T, D_k), v: (B, T, D_v), ``window_bias`` as in ``vq_attention`` (any W; W ≥ T−1 is a bias
    at all distances); ``visible`` limits the keys to distances t−j ≤ visible (a sliding window, None: all).
    Returns o: (B, T, D_v).
    """
    if visible is not None:
        integer("visible", visible, minimum=0)
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    T = q.shape[1]
    scores = q @ k.transpose(0, 2, 1)
    if window_bias is not None:
        u, w, r = (as_tensor(x) for x in window_bias)
        scores = (q + u) @ k.transpose(0, 2, 1) + relative_bias_matrix(((q + w) @ r.T)[:, :, :T])
    distance = np.arange(T)[:, None] - np.arange(T)[None, :]
    allowed = (distance >= 0) & (distance <= (T if visible is None else visible))
    return softmax(where(allowed, scores, MASKED), axis=-1) @ v
