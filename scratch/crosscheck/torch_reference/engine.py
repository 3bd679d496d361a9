"""The engine's cases in torch: ``torch.nn.functional`` with the cases' option names."""
import torch
from torch.nn import functional as F

FUNCTIONS = {
    "engine/relu": lambda x: torch.relu(x),
    "engine/sigmoid": lambda x: torch.sigmoid(x),
    "engine/tanh": lambda x: torch.tanh(x),
    "engine/silu": lambda x: F.silu(x),
    "engine/gelu": lambda x, approximate: F.gelu(x, approximate=approximate),
    "engine/gelu_tanh": lambda x, approximate: F.gelu(x, approximate=approximate),
    "engine/softmax": lambda x, dim: torch.softmax(x, dim),
    "engine/log_softmax": lambda x, dim: torch.log_softmax(x, dim),
    "engine/logsumexp": lambda x, dim: torch.logsumexp(x, dim),
    "engine/cross_entropy": lambda logits, targets, reduction: F.cross_entropy(logits, targets, reduction=reduction),
    "engine/nll_loss": lambda log_probs, targets, reduction: F.nll_loss(log_probs, targets, reduction=reduction),
    "engine/binary_cross_entropy_with_logits":
        lambda logits, targets, reduction: F.binary_cross_entropy_with_logits(logits, targets, reduction=reduction),
    "engine/mse_loss": lambda input, target, reduction: F.mse_loss(input, target, reduction=reduction),
    "engine/layer_norm": lambda x, weight, bias, eps: F.layer_norm(x, x.shape[-1:], weight, bias, eps),
    "engine/rms_norm": lambda x, weight, eps: F.rms_norm(x, x.shape[-1:], weight, eps),
    "engine/embedding": lambda weight, ids: F.embedding(ids, weight),
    "engine/linear": lambda x, weight, bias: F.linear(x, weight, bias),
    "engine/matmul": lambda a, b: a @ b,
    "engine/conv2d": lambda x, weight, bias, stride, padding: F.conv2d(x, weight, bias, stride, padding),
    "engine/avg_pool2d": lambda x, kernel_size, stride: F.avg_pool2d(x, kernel_size, stride),
    "engine/max_pool2d": lambda x, kernel_size, stride: F.max_pool2d(x, kernel_size, stride),
}
