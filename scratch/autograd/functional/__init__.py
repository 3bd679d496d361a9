"""Neural-network functions on Tensors (arrays are accepted as constants), PyTorch's ``F`` vocabulary.

Composite functions are built from the engine's ops; softmax, log-softmax, log-sum-exp, the losses,
the normalisations, convolution and pooling are ``Function``s with a fused backward, which is shorter
and more stable than differentiating their pieces.

=================  ===========================================================================
activation         relu, sigmoid, tanh, silu, gelu (GELU_APPROXIMATIONS)
softmax            softmax, log_softmax, logsumexp
loss               cross_entropy, nll_loss, binary_cross_entropy_with_logits, mse_loss
normalization      layer_norm, rms_norm
conv               conv2d, avg_pool2d, max_pool2d
embedding          embedding
dropout            dropout
attention          dense_attention, causal_attention, attend, attention_scores, causal_mask,
                   relative_positions, split_heads, merge_heads, MASKED (the logit of a forbidden slot)
=================  ===========================================================================
"""
from .activation import GELU_APPROXIMATIONS, gelu, relu, sigmoid, silu, tanh
from .conv import avg_pool2d, conv2d, max_pool2d
from .dropout import dropout
from .embedding import embedding
from .loss import binary_cross_entropy_with_logits, cross_entropy, mse_loss, nll_loss
from .normalization import layer_norm, rms_norm
from .softmax import log_softmax, logsumexp, softmax
from .attention import (MASKED, attend, attention_scores, causal_attention, causal_mask, dense_attention,
                        merge_heads, relative_positions, split_heads)

__all__ = [
    "GELU_APPROXIMATIONS", "gelu", "relu", "sigmoid", "silu", "tanh", "avg_pool2d", "conv2d", "max_pool2d", "dropout",
    "embedding", "binary_cross_entropy_with_logits", "cross_entropy", "mse_loss", "nll_loss",
    "layer_norm", "rms_norm", "log_softmax", "logsumexp", "softmax", "MASKED", "attend", "attention_scores",
    "causal_attention", "causal_mask", "dense_attention", "merge_heads", "relative_positions", "split_heads",
]
