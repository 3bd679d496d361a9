"""The supervised training loop shared by the classifier scripts and the model families.

``fit`` runs epochs of shuffled minibatches: forward, loss, backward, optimizer step, with progress
on stderr and a NaN guard; ``predict`` and ``accuracy`` evaluate in batches without recording a
graph. Models are ``scratch.nn.Module``s mapping an input batch to scores (N, C).

The loss of a batch is ``loss_fn(model(x), y)`` (``F.cross_entropy``, a margin loss, ...), or, with
``loss_of="inputs"``, ``loss_fn(x, y)`` for an objective that needs more than the scores, such as
``SabourCapsNet.loss`` with its reconstruction of x. Hooks: ``on_step(step, loss)`` after every
optimizer step, ``on_epoch_end(epoch, mean_loss)`` after every epoch (evaluation, checkpoints,
schedules); ``start_epoch`` resumes a run whose generator state was restored from a checkpoint.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd import Tensor, no_grad
from ..progress import Progress, check_finite
from ..validation import boolean, choice, generator, integer, positive_int

LOSS_OF = ("scores", "inputs")


def minibatches(n: int, batch_size: int, rng: np.random.Generator | None = None, *,
                even: bool = False) -> list[np.ndarray]:
    """Index arrays covering ``range(n)`` (shuffled by one ``rng.permutation(n)`` when ``rng`` is given).

    Batches of ``batch_size`` and a shorter last one, or with ``even=True`` ⌈n/batch_size⌉ batches whose
    sizes differ by at most one (the same permutation, cut in other places).
    """
    n = integer("n", n, minimum=0)
    batch_size = positive_int("batch_size", batch_size)
    order = np.arange(n) if rng is None else generator("rng", rng).permutation(n)
    if even:
        return np.array_split(order, -(-n // batch_size)) if n else []
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]


def fit(
    model,
    loss_fn: Callable[[Any, np.ndarray], Tensor],
    optimizer,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    loss_of: str = "scores",
    even_batches: bool = False,
    start_epoch: int = 0,
    on_step: Callable[[int, float], None] | None = None,
    on_epoch_end: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train ``model`` on x (N, ...) and y (N, ...) for epochs start_epoch + 1 … ``epochs``; returns the
    mean training loss of each of them (each batch's loss weighted by its size).

    ``loss_fn(scores, targets)`` (or ``loss_fn(x_batch, y_batch)`` with ``loss_of="inputs"``) returns a
    scalar Tensor. Each epoch draws one permutation from ``rng`` (``minibatches``, ``even=even_batches``).
    ``on_step(step, loss)`` gets the step counted from the first epoch of the run, ``on_epoch_end(epoch,
    mean_loss)`` the epoch counted from 1. A NaN or infinite loss raises ``NonFiniteLossError``.
    """
    if len(x) != len(y):
        raise ValueError(f"x and y have different lengths: {len(x)} and {len(y)}")
    integer("len(x)", len(x), minimum=1)
    epochs = positive_int("epochs", epochs)
    start_epoch = integer("start_epoch", start_epoch, minimum=0, maximum=epochs)
    choice("loss_of", loss_of, LOSS_OF)
    rng = generator("rng", rng)
    steps_per_epoch = len(minibatches(len(x), batch_size, even=boolean("even_batches", even_batches)))
    progress = Progress(total=(epochs - start_epoch) * steps_per_epoch, unit="examples")
    history = []
    for epoch in range(start_epoch, epochs):
        model.train()
        total = 0.0
        for i, idx in enumerate(minibatches(len(x), batch_size, rng, even=even_batches)):
            if loss_of == "inputs":
                loss = loss_fn(x[idx], y[idx])
            else:
                loss = loss_fn(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step = epoch * steps_per_epoch + i + 1
            value = check_finite(loss.item(), step)
            total += value * len(idx)
            progress.update(step - start_epoch * steps_per_epoch, items=len(idx), epoch=epoch + 1, loss=value)
            if on_step is not None:
                on_step(step, value)
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
