"""The perturb-max experiments of spec A.6: classifier heads, calibration, Monte Carlo agreement.

A head is a loss on class scores and the probability map used to read predictions and calibration:
softmax-CE, normal-PM-CE (−log p_t), normal-PM-FY (Φ(μ) − μ_t), and the soft-accuracy losses −p_t
of softmax and of normal perturb-max (the EXACT loss). ``train_head`` trains one MLP per head and
seed on an image set and records the test accuracy, ECE and training curves of every epoch.
``ExperimentConfig`` holds the settings of the comparison (the reproduce script's flags).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import integrate

from ... import nn, optim, validation
from ...autograd import Tensor, no_grad
from ...autograd import functional as F
from ...datasets.mnist import IMAGE_SETS
from ...training.classifier import fit, minibatches
from .distribution import perturb_max_loss, perturb_max_probs
from .laws import LAWS


@dataclass(frozen=True)
class Head:
    """A classifier head: ``loss(scores, targets)`` and ``probs(scores)`` for (N, C) scores."""

    name: str
    loss: Callable[[Tensor, np.ndarray], Tensor]
    probs: Callable[[Tensor], Tensor]


def _softmax_probs(scores: Tensor) -> Tensor:
    return F.softmax(scores, axis=-1)


def _normal_probs(scores: Tensor) -> Tensor:
    return perturb_max_probs(scores, "normal")


HEADS: dict[str, Head] = {head.name: head for head in (
    Head("softmax-ce", lambda s, t: F.cross_entropy(s, t), _softmax_probs),
    Head("normal-pm-ce", lambda s, t: perturb_max_loss(s, t, "normal", "ce"), _normal_probs),
    Head("normal-pm-fy", lambda s, t: perturb_max_loss(s, t, "normal", "fy"), _normal_probs),
    Head("softmax-soft-accuracy", lambda s, t: perturb_max_loss(s, t, "gumbel", "soft_accuracy"), _softmax_probs),
    Head("normal-pm-soft-accuracy", lambda s, t: perturb_max_loss(s, t, "normal", "soft_accuracy"), _normal_probs),
)}


@dataclass(frozen=True)
class ExperimentConfig:
    """The head comparison of spec A.6 (its defaults: MNIST 4k/1k, a 64-unit tanh MLP, Adam 1e-3, batch
    100, 10 epochs, 5 seeds) and the Monte Carlo draws of the reference table; checked on creation."""

    dataset: str = field(default="mnist", metadata={"help": "image set (fashion needs its file under data/)",
                                                    "choices": tuple(IMAGE_SETS)})
    n_train: int = field(default=4000, metadata={"help": "training images"})
    n_test: int = field(default=1000, metadata={"help": "test images"})
    hidden: int = field(default=64, metadata={"help": "width of the tanh hidden layer"})
    epochs: int = field(default=10, metadata={"help": "passes over the training images"})
    batch_size: int = field(default=100, metadata={"help": "minibatch size"})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate"})
    seeds: int = field(default=5, metadata={"help": "number of seeds per head"})
    draws: int = field(default=1_000_000, metadata={"help": "Monte Carlo argmax draws per law"})

    def __post_init__(self) -> None:
        checked = {"dataset": validation.choice("dataset", self.dataset, IMAGE_SETS),
                   "lr": validation.positive_real("lr", self.lr)}
        for name in ("n_train", "n_test", "hidden", "epochs", "batch_size", "seeds", "draws"):
            checked[name] = validation.positive_int(name, getattr(self, name))
        for name, value in checked.items():
            object.__setattr__(self, name, value)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE = Σ_b (|b|/N)·|accuracy(b) − confidence(b)| over equal-width bins of the top probability."""
    bins = validation.positive_int("bins", bins)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def make_mlp(hidden: int, rng: np.random.Generator, inputs: int = 28 * 28, classes: int = 10) -> nn.Module:
    """The spec's 2-layer tanh MLP: inputs → hidden → classes."""
    hidden, inputs, classes = (validation.positive_int(name, value) for name, value in
                               (("hidden", hidden), ("inputs", inputs), ("classes", classes)))
    return nn.Sequential(nn.Flatten(), nn.Linear(inputs, hidden, rng=rng), nn.Tanh(),
                         nn.Linear(hidden, classes, rng=rng))


def head_scores(model: nn.Module, head: Head, x: np.ndarray, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Scores (N, C) and the head's probabilities (N, C) of ``model`` on ``x``, without a graph."""
    batch_size = validation.positive_int("batch_size", batch_size)
    model.eval()
    with no_grad():
        scores = np.concatenate([model(x[idx]).data for idx in minibatches(len(x), batch_size)])
        return scores, head.probs(Tensor(scores.astype(np.float64))).data


def train_head(head: Head, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *,
               hidden: int, epochs: int, batch_size: int, lr: float, seed: int) -> tuple[nn.Module, dict]:
    """Train one MLP with ``head``'s loss (Adam); returns the model and per-epoch curves
    (train loss, test accuracy, test ECE) with the final test scores."""
    epochs = validation.positive_int("epochs", epochs)
    batch_size = validation.positive_int("batch_size", batch_size)
    lr = validation.positive_real("lr", lr)
    rng = np.random.default_rng(validation.integer("seed", seed, minimum=0))
    model = make_mlp(hidden, rng, inputs=int(np.prod(x_train.shape[1:])), classes=int(y_train.max()) + 1)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    curves: dict[str, list[float]] = {"test_accuracy": [], "test_ece": []}

    def evaluate(epoch: int, train_loss: float) -> None:
        _, probs = head_scores(model, head, x_test)
        curves["test_accuracy"].append(float(np.mean(probs.argmax(axis=1) == y_test)))
        curves["test_ece"].append(expected_calibration_error(probs, y_test))

    curves["train_loss"] = fit(model, head.loss, optimizer, x_train, y_train, epochs=epochs,
                               batch_size=batch_size, rng=rng, on_epoch_end=evaluate)
    return model, curves


def uniform_zero_fraction(scores: np.ndarray, scale: float = 1.0) -> float:
    """Fraction of the entries of the uniform-noise perturb-max distribution of ``scores`` that are exactly 0."""
    return float(np.mean(perturb_max_probs(scores.astype(np.float64), "uniform", scale=scale).data == 0))


def monte_carlo_table(mu: np.ndarray, draws: int, seed: int,
                      chunk: int = 200_000) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For every law: (quadrature p, argmax frequencies over ``draws`` noisy copies of ``mu`` (n,))."""
    draws, chunk = validation.positive_int("draws", draws), validation.positive_int("chunk", chunk)
    seed = validation.integer("seed", seed, minimum=0)
    table = {}
    for law, noise in LAWS.items():
        rng = np.random.default_rng(seed)
        counts = np.zeros(len(mu))
        for start in range(0, draws, chunk):
            noisy = mu + noise.sample(rng, (min(chunk, draws - start), len(mu)))
            counts += np.bincount(noisy.argmax(axis=1), minlength=len(mu))
        table[law] = (perturb_max_probs(mu[None], law).data[0], counts / draws)
    return table


def loser_probability_curves(gaps: np.ndarray) -> dict[str, np.ndarray]:
    """p_loser(d) for n = 2 logits (d, 0) per law: the tail shapes of A.2 (log-scale plot)."""
    mu = np.stack([gaps, np.zeros_like(gaps)], axis=1)
    return {law: perturb_max_probs(mu, law).data[:, 1] for law in LAWS}


def adaptive_probs(mu: np.ndarray, law: str) -> np.ndarray:
    """Reference p (n,) for logits ``mu`` (n,): p_i = ∫ f(ε) Π_{j≠i} F(μ_i − μ_j + ε) dε by scipy's adaptive
    quadrature (QUADPACK), split at the kinks ε = −D_ij and 1 − D_ij and at 0."""
    noise = LAWS[validation.choice("law", law, LAWS)]
    lo, hi = {"uniform": (0.0, 1.0), "exponential": (0.0, np.inf)}.get(law, (-np.inf, np.inf))
    out = []
    for i in range(len(mu)):
        d = mu[i] - np.delete(mu, i)

        def integrand(e: float) -> float:
            with np.errstate(over="ignore"):          # Gumbel: e^{−ε} overflows where F = 0
                return float(np.exp(noise.log_pdf(np.array(e)) + np.sum(noise.log_cdf(d + e))))

        cuts = sorted({float(x) for x in np.concatenate([-d, 1 - d, [0.0]]) if lo < x < hi})
        edges = [lo, *cuts, hi]
        out.append(sum(integrate.quad(integrand, a, b, epsabs=1e-16, epsrel=1e-13, limit=500)[0]
                       for a, b in zip(edges[:-1], edges[1:])))
    return np.array(out)
