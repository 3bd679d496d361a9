"""The one place where broadcasting is undone in backward."""
import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, the inverse of NumPy broadcasting ``shape`` to ``grad.shape``.

    Leading axes that broadcasting added are summed away; axes where ``shape`` has size 1 and
    ``grad`` does not are summed with ``keepdims``.
    """
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad
