"""scratch: NumPy-only reference implementations of a family of models, with a small autograd engine."""
from .autograd import (
    Function,
    GradcheckError,
    Tensor,
    as_tensor,
    broadcast_to,
    clip,
    concatenate,
    gather,
    gradcheck,
    maximum,
    minimum,
    no_grad,
    pad,
    stack,
    take,
    tensor,
    where,
)
from .autograd import functional

__version__ = "0.1.0"

__all__ = [
    "Function", "GradcheckError", "Tensor", "as_tensor", "broadcast_to", "clip", "concatenate",
    "gather", "gradcheck", "maximum", "minimum", "no_grad", "pad", "stack", "take", "tensor",
    "where", "functional",
]
