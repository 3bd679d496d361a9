"""The autograd engine: ``Tensor``, ``Function``, the primitive ops and ``gradcheck``."""
from .tensor import Tensor, as_tensor, tensor  # first: the ops import Function, which builds Tensors
from .array_api import broadcast_to, clip, concatenate, gather, maximum, minimum, pad, stack, take, where
from .function import Context, Function, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck

__all__ = [
    "Tensor", "as_tensor", "tensor", "broadcast_to", "clip", "concatenate", "gather", "maximum",
    "minimum", "pad", "stack", "take", "where", "Context", "Function", "is_grad_enabled", "no_grad",
    "GradcheckError", "gradcheck",
]
