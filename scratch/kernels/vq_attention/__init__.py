"""VQ attention: causal softmax attention over vector-quantized keys in linear time (spec transformer_vq.md §1, §3).

Keys are codewords, k̂_j = C[z_j] (C: (S, D_k) codebook, z_j ∈ [0, S) the code of key j). The score of
query t on key j ≤ t is

    s(t, j) = (q_t + u)·k̂_j + [t − j ≤ W] (q_t + w)·r_{t−j}                                    (§1)

with a Transformer-XL-style relative bias r_0 … r_W (r: (W+1, D_k)) that vanishes beyond distance W,
and o_t = Σ_j softmax_j(s(t, ·)) v_j. Beyond the window every key sharing a code adds the same score,
so exp(s)·v summed over them is exp((q_t+u)·c_s)·U_s with U_s their value sum: everything old
collapses into per-code counts N_s and means μ_s = U_s / N_s (§3.2). The output does not depend on how
the sequence is cut into blocks (§1): the block length L is a compute knob.

Read the modules in this order, simplest first:

- ``cache``: the per-code cache (N, μ), the one formula that folds keys into it, its logits log N;
- ``decoder``: ``VQDecoder``, the L = 1 form: one token at a time with a constant-size state;
- ``reference``: the blockwise form in NumPy, forward and backward (the definition of the kernel);
- ``kernel``: its Numba twin (``prange`` over the batch, each sample independent, so deterministic), built on
  ``scratch.kernels.blas.gemm`` (a BLAS matrix product into a given array, on column blocks and
  transposed views) and ``scratch.kernels.vector_math.exp32`` (a vectorized e^x for float32), both
  shared with the window-attention kernel;
- ``attention``: the autograd ``Function`` and the checked entry points ``vq_attention`` and
  ``quadratic_vq_attention``;
- ``dense``: dense O(T²) attention with the window bias from engine ops (``windowed_bias_attention``),
  the quadratic reference and the model's unquantized baselines.
"""
from .attention import DEFAULT_IMPLEMENTATION, IMPLEMENTATIONS, VQAttention, quadratic_vq_attention, vq_attention
from .cache import WindowBias, cache_logits, fold_into_cache
from .decoder import VQDecoder
from .dense import relative_bias_matrix, windowed_bias_attention
from .kernel import blockwise_backward_numba, blockwise_forward_numba
from .reference import ForwardTape, blockwise_backward_reference, blockwise_forward_reference

__all__ = ["DEFAULT_IMPLEMENTATION", "IMPLEMENTATIONS", "ForwardTape", "VQAttention", "VQDecoder", "WindowBias",
           "blockwise_backward_numba", "blockwise_backward_reference", "blockwise_forward_numba",
           "blockwise_forward_reference", "cache_logits", "fold_into_cache", "quadratic_vq_attention",
           "relative_bias_matrix", "vq_attention", "windowed_bias_attention"]
