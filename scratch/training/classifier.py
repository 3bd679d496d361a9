"""A minimal supervised training loop shared by the classifier scripts.

``fit`` runs epochs of shuffled minibatches: forward, loss, backward, optimizer step, with progress
on stderr and a NaN guard; ``predict`` and ``accuracy`` evaluate in batches without recording a
graph. Models are ``scratch.nn.Module``s mapping an input batch to scores (N, C).
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from ..autograd import Tensor, no_grad
from ..progress import Progress, check_finite


def minibatches(n: int, batch_size: int, rng: np.random.Generator | None = None) -> Iterator[np.ndarray]:
    """Index arrays covering ``range(n)`` in batches of ``batch_size`` (shuffled when ``rng`` is given)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def fit(
    model,
    loss_fn: Callable[[Tensor, np.ndarray], Tensor],
    optimizer,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    on_epoch_end: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train ``model`` on (x, y) for ``epochs``; returns the mean training loss of each epoch.

    ``loss_fn(scores, targets)`` returns a scalar Tensor; ``on_epoch_end(epoch, mean_loss)`` is
    called after every epoch (for evaluation, checkpoints or schedules).
    """
    if len(x) != len(y):
        raise ValueError(f"x and y have different lengths: {len(x)} and {len(y)}")
    steps_per_epoch = -(-len(x) // batch_size)
    progress = Progress(total=epochs * steps_per_epoch, unit="examples")
    history = []
    step = 0
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for idx in minibatches(len(x), batch_size, rng):
            loss = loss_fn(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            value = check_finite(loss.item(), step)
            total += value * len(idx)
            progress.update(step, items=len(idx), epoch=epoch + 1, loss=value)
        history.append(total / len(x))
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, history[-1])
    return history


def predict(model, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Scores of ``model`` on ``x`` (N, ...) → (N, C), in evaluation mode and without a graph."""
    model.eval()
    with no_grad():
        return np.concatenate([model(x[idx]).data for idx in minibatches(len(x), batch_size)])


def accuracy(model, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    """Fraction of examples whose highest score is the label."""
    return float(np.mean(predict(model, x, batch_size).argmax(axis=1) == y))
