"""Losses: softmax cross-entropy, negative log-likelihood, binary cross-entropy on logits, squared error.

Each returns the per-element losses reduced by ``reduction``: "mean" (the default), "sum", or "none"
(no reduction). A loss that comes out NaN or infinite raises ``NonFiniteError`` (a ``ValueError``
and a ``FloatingPointError``) naming the input that holds NaN or infinity: the forms below are
stable, so a non-finite loss can only come from a non-finite input (a −∞ logit on the target, say)
or from overflow, and a loss is where such values would otherwise vanish into one meaningless
number. The mean over an empty batch, which has no value, raises ``ValueError`` naming the empty input.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from .. import ops
from ..array_api import check_indices
from ..function import Function
from ..tensor import Tensor, as_tensor
from ...validation import NonFiniteError, choice

REDUCTIONS = ("mean", "sum", "none")


class SoftmaxCrossEntropy(Function):
    """ℓ = logsumexp(x) − x_t for each row x of logits (..., C) and its target class t;
    ∂ℓ/∂x = softmax(x) − onehot(t)."""

    @staticmethod
    def forward(ctx, logits, targets):
        t = targets[..., None]
        p = logits - logits.max(axis=-1, keepdims=True)  # z, turned into the probabilities in place
        z_target = np.take_along_axis(p, t, axis=-1)
        np.exp(p, out=p)
        total = p.sum(axis=-1, keepdims=True)
        p /= total
        ctx.save_for_backward(p, t)
        return (np.log(total) - z_target)[..., 0]

    @staticmethod
    def backward(ctx, grad):
        p, t = ctx.saved_tensors
        g = grad[..., None]
        dlogits = p * g
        np.put_along_axis(dlogits, t, np.take_along_axis(dlogits, t, axis=-1) - g, axis=-1)
        return dlogits, None


class BinaryCrossEntropyWithLogits(Function):
    """ℓ = −t log σ(x) − (1 − t) log(1 − σ(x)) = max(x, 0) − x t + log(1 + e^{−|x|});
    ∂ℓ/∂x = σ(x) − t,  ∂ℓ/∂t = −x."""

    @staticmethod
    def forward(ctx, x, t):
        ctx.save_for_backward(x, t)
        return np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        dx, dt = ctx.needs_input_grad
        return (grad * (special.expit(x) - t) if dx else None), (-grad * x if dt else None)


def cross_entropy(logits: Any, targets: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy with integer class targets.

    logits: (..., C) scores, targets: (...) integers in [0, C). Per position
    ℓ = −log softmax(logits)_target = logsumexp(logits) − logits[target], computed from the
    max-shifted logits so any finite scores give a finite loss. Returns a scalar ("mean", "sum")
    or shape (...) ("none").
    """
    _check_reduction(reduction)
    logits = as_tensor(logits)
    targets = _class_targets(targets, logits)
    return _reduce(SoftmaxCrossEntropy.apply(logits, targets), reduction, logits=logits)


def nll_loss(log_probs: Any, targets: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: ℓ = −log_probs[..., target] for log_probs (..., C) (e.g. from
    ``log_softmax``) and integer targets (...) in [0, C). Returns a scalar or shape (...) ("none")."""
    _check_reduction(reduction)
    log_probs = as_tensor(log_probs)
    targets = _class_targets(targets, log_probs, name="log_probs")
    picked = ops.Gather.apply(log_probs, targets[..., None], axis=-1).reshape(targets.shape)
    return _reduce(-picked, reduction, log_probs=log_probs)


def binary_cross_entropy_with_logits(logits: Any, targets: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of σ(logits) against probabilities ``targets`` in [0, 1], same shape.

    ℓ = max(x, 0) − x t + log(1 + e^{−|x|}), the stable form of −t log σ(x) − (1 − t) log(1 − σ(x)).
    Targets may require grad (∂ℓ/∂t = −x). Returns a scalar or, with "none", the logits' shape.
    """
    _check_reduction(reduction)
    logits = as_tensor(logits)
    targets = _same_shape_operand(targets, logits, "targets", "logits")
    loss = BinaryCrossEntropyWithLogits.apply(logits, targets)
    return _reduce(loss, reduction, logits=logits, targets=targets)


def mse_loss(pred: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Squared error ℓ = (pred − target)², elementwise over two tensors of the same shape."""
    _check_reduction(reduction)
    pred = as_tensor(pred)
    target = _same_shape_operand(target, pred, "target", "pred")
    diff = pred - target
    return _reduce(diff * diff, reduction, pred=pred, target=target)


def _check_reduction(reduction: str) -> None:
    choice("reduction", reduction, REDUCTIONS)


def _class_targets(targets: Any, scores: Tensor, name: str = "logits") -> np.ndarray:
    """Integer class targets of shape scores.shape[:-1], each in [0, C)."""
    if scores.ndim == 0:
        raise ValueError(f"{name} must have a class axis (..., C), got a scalar")
    targets = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if targets.shape != scores.shape[:-1]:
        raise ValueError(f"targets must have shape {scores.shape[:-1]} ({name} without its class axis), "
                         f"got {targets.shape}")
    return check_indices(targets, scores.shape[-1], "targets", allow_negative=False)


def _same_shape_operand(value: Any, like: Tensor, name: str, like_name: str) -> Tensor:
    """``value`` as the second operand of an elementwise loss, checked to have ``like``'s shape: a
    Tensor as it is, anything else as a constant of ``like``'s dtype (so 0/1 integer labels keep a
    float32 loss float32)."""
    if not isinstance(value, Tensor):
        value = Tensor(value, dtype=like.dtype)
    if value.shape != like.shape:
        raise ValueError(f"{name} must have the shape of {like_name} {like.shape}, got {value.shape}")
    return value


def _reduce(loss: Tensor, reduction: str, **inputs: Tensor) -> Tensor:
    """Reduce the per-element ``loss``; raise naming the first of ``inputs`` if a mean has no element,
    and the non-finite ``inputs`` if the result is NaN or infinite."""
    if reduction == "mean" and loss.size == 0:
        name, first = next(iter(inputs.items()))
        raise ValueError(f"{name} is an empty batch (shape {first.shape}): its mean loss is undefined")
    out = loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss
    if not np.isfinite(out.data).all():
        culprits = [name for name, x in inputs.items() if not np.isfinite(x.data).all()]
        cause = f"{' and '.join(culprits)} contain NaN or infinity" if culprits else "it overflows"
        raise NonFiniteError(f"the loss is {'NaN' if np.isnan(out.data).any() else 'infinite'}: {cause}")
    return out
