"""word2vec's sampled losses and the GloVe objective in torch (the cases ``word2vec/*`` and ``glove/*``)."""
import torch
from torch.nn import functional as F


def word2vec_loss(embedding, contexts, scale, samples, valid, objective, output=None, bias=None, log_expected=None):
    """Mean loss of a batch: h = scale·Σ E[contexts] (−1 slots skipped), z = h·W[samples] (+ b, − log K q),
    softmax cross-entropy with the target in slot 0 over the valid slots, or the NCE sigmoid loss."""
    present = (contexts >= 0).to(embedding.dtype)
    h = (embedding[contexts.clamp(min=0)] * present[..., None]).sum(1) * scale[:, None]
    table = embedding if output is None else output
    z = torch.einsum("bd,bsd->bs", h, table[samples])
    if bias is not None:
        z = z + bias[samples]
    if log_expected is not None:
        z = z - log_expected[samples]
    if objective == "softmax":
        z = z.masked_fill(~valid, float("-inf"))
        return (torch.logsumexp(z, dim=1) - z[:, 0]).mean()
    sign = torch.ones_like(z)
    sign[:, 0] = -1.0
    return (F.softplus(sign * z) * valid).sum(1).mean()


def glove_loss(word, rows, cols, target, weight, context=None, word_bias=None, context_bias=None):
    """½ Σ f (W_i·C_j + b_i + c_j − t)², C = W when no context table is given (simpler GloVe)."""
    table = word if context is None else context
    e = (word[rows] * table[cols]).sum(1) - target
    if word_bias is not None:
        e = e + word_bias[rows] + context_bias[cols]
    return 0.5 * (weight * e * e).sum()


FUNCTIONS = {**{f"word2vec/{name}": word2vec_loss for name in
                ("random_softmax", "random_softmax_separate", "sampled_softmax", "nce", "nce_separate")},
             "glove/classic": glove_loss, "glove/simpler": glove_loss}
