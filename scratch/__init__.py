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
import sys as _sys

from .autograd import functional

# ``import scratch.functional`` works as well as ``from scratch import functional``.
_sys.modules[__name__ + ".functional"] = functional

__version__ = "0.1.0"

__all__ = [
    "Function", "GradcheckError", "Tensor", "as_tensor", "broadcast_to", "clip", "concatenate",
    "gather", "gradcheck", "maximum", "minimum", "no_grad", "pad", "stack", "take", "tensor",
    "where", "functional",
]
