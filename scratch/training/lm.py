"""Training, evaluation and sampling for any causal language model: ids (B, T) → logits (B, T, V).

Training minimises the mean next-token cross-entropy ℓ = −(1/BT) Σ log p(y_bt | x_b,≤t) on random
windows of the training stream (``scratch.datasets.lm.random_batches``; with ``copy_fraction > 0`` that
share of each batch is replaced by copy rows, ``copy_mix_batches``) with AdamW, a warm-up +
cosine learning-rate schedule and gradient clipping by global norm. The batches of step s come from
the generator seeded (seed, s), so a run resumed from a checkpoint sees exactly the batches it
would have seen without the interruption.

Two hooks let a model add to the loop without wrapping it. ``extra_loss()`` is called after each
forward and its scalar joins the loss that is differentiated (Transformer-VQ's β Σ l_commit);
``after_step(step)`` is called after each optimizer step and before that step's checkpoint, so a
state it updates (Transformer-VQ's EMA codebook) is saved with the step that produced it and a
resumed run continues exactly.

Evaluation reports, over fixed random windows of a held-out stream at one length T: per-token
accuracy (argmax = next token), loss in nats and bits per token (loss / ln 2; bits per byte for a
byte-level model), and the loss over the last ``tail`` positions. ``repeated_windows`` builds the
copy test of spec B.5: a window of text followed by the same text again, scored on the second copy
only, where a model that copies across the distance T/2 can be nearly perfect.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from .. import checkpoint
from ..autograd import Tensor, no_grad
from ..autograd import functional as F
from ..datasets.lm import copy_mix_batches, random_batches
from ..optim import AdamW, clip_grad_norm, warmup_cosine
from ..progress import NonFiniteLossError, Progress, check_finite
from ..validation import NonFiniteError, integer, positive_int, positive_real, probability, real

Forward = Callable[[np.ndarray], Tensor]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of ``train_lm``."""

    seq_len: int = 64
    batch_size: int = 32
    steps: int = 1000
    lr: float = 3e-3
    final_lr: float = 3e-4
    warmup: int = 100
    betas: tuple[float, float] = (0.9, 0.99)
    weight_decay: float = 0.0
    clip: float = 1.0
    seed: int = 0
    checkpoint_every: int = 200
    copy_fraction: float = 0.0

    def __post_init__(self) -> None:
        for name in ("seq_len", "batch_size", "steps", "checkpoint_every"):
            positive_int(name, getattr(self, name))
        integer("seed", self.seed)
        integer("warmup", self.warmup, 0, self.steps)
        real("final_lr", self.final_lr, minimum=0.0, maximum=positive_real("lr", self.lr), open_below=True)
        if len(self.betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {self.betas!r}")
        for name, beta in zip(("betas[0]", "betas[1]"), self.betas):
            probability(name, beta, allow_one=False)
        positive_real("clip", self.clip)
        real("weight_decay", self.weight_decay, minimum=0.0)
        probability("copy_fraction", self.copy_fraction)


def lm_loss(logits: Tensor, targets: np.ndarray) -> Tensor:
    """Mean next-token cross-entropy: logits (B, T, V), targets (B, T) → scalar (nats)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), np.asarray(targets).reshape(-1))


def train_lm(model, train: np.ndarray, config: TrainConfig, *, checkpoint_path: str | os.PathLike | None = None,
             resume: bool = False, log_every: float = 5.0, extra_loss: Callable[[], Tensor] | None = None,
             after_step: Callable[[int], None] | None = None,
             checkpoint_meta: Mapping[str, Any] | None = None) -> list[float]:
    """Train ``model`` (a Module mapping ids to logits) on the stream ``train``; returns the LM loss per step.

    With ``checkpoint_path`` the model, the optimizer and the step are saved every
    ``config.checkpoint_every`` steps and at the end, with the meta values ``checkpoint_meta`` (a
    script's flags); ``resume=True`` continues from that file. A non-finite loss raises
    ``NonFiniteLossError`` and leaves the last good checkpoint in place; so does a NaN or an infinity
    anywhere in the forward, which reaches the loss or a kernel that refuses it.
    ``extra_loss()``, called after each forward, gives a scalar added to the differentiated loss (the
    returned losses are the cross-entropy alone); ``after_step(step)`` runs after optimizer step
    ``step`` (counted from 1) and before its checkpoint.
    """
    optimizer = AdamW(model.parameters(), lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)
    start = 0
    if resume:
        if checkpoint_path is None or not os.path.exists(checkpoint_path):
            raise FileNotFoundError(f"resume needs an existing checkpoint, got {checkpoint_path!r}")
        start = int(checkpoint.load(checkpoint_path, model, optimizer)["step"])
    progress = Progress(total=config.steps, unit="tokens", every=log_every)
    losses = []
    model.train()
    for step in range(start, config.steps):
        optimizer.lr = warmup_cosine(step, warmup=config.warmup, total=config.steps, peak_lr=config.lr,
                                     final_lr=config.final_lr)
        x, y = copy_mix_batches(train, config.batch_size, config.seq_len, np.random.default_rng([config.seed, step]),
                                config.copy_fraction)
        try:
            loss = lm_loss(model(x), y)
        except NonFiniteError as error:  # a NaN met by a checked kernel or by the loss itself
            raise NonFiniteLossError(f"loss is not finite at step {step + 1} ({error}); stopping "
                                     "(the last checkpoint is kept)") from error
        value = check_finite(loss.item(), step + 1)
        if extra_loss is not None:
            loss = loss + extra_loss()
            check_finite(loss.item(), step + 1, "loss with the extra term")
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(optimizer.params, config.clip)
        optimizer.step()
        if after_step is not None:
            after_step(step + 1)
        losses.append(value)
        progress.update(step + 1, items=x.size, loss=value, bits=value / math.log(2), lr=optimizer.lr)
        if checkpoint_path is not None and ((step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps):
            checkpoint.save(checkpoint_path, model, optimizer, step=step + 1, seed=config.seed,
                            **dict(checkpoint_meta or {}))
    progress.close()
    return losses


def evaluation_windows(data: np.ndarray, seq_len: int, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` fixed random windows of a held-out stream: x, y (count, seq_len), y = x shifted by one."""
    return random_batches(data, count, seq_len, np.random.default_rng(seed))


def repeated_windows(data: np.ndarray, seq_len: int, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The copy test: z = u ‖ u ‖ u₀ for ``count`` random windows u of length T/2, x = z[:T], y = z[1:];
    every target from position T/2 on is a copy of the token T/2 back (score them with ``score_from=T/2``)."""
    if integer("seq_len", seq_len, minimum=4) % 2:
        raise ValueError(f"seq_len must be an even length ≥ 4 for a repeated window, got {seq_len!r}")
    u, _ = random_batches(data, count, seq_len // 2, np.random.default_rng(seed))
    z = np.concatenate([u, u, u[:, :1]], axis=1)
    return z[:, :-1], z[:, 1:]


def evaluate_lm(forward: Forward, x: np.ndarray, y: np.ndarray, *, batch_size: int = 8, tail: int = 64,
                score_from: int = 0) -> dict[str, float]:
    """Accuracy, loss (nats), bits per token and the loss of the last ``tail`` positions of ``forward``
    (a model or a closure selecting an inference variant) on x, y (N, T), scoring positions ≥ ``score_from``."""
    positive_int("batch_size", batch_size)
    positive_int("tail", tail)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"x and y must have one shape (N, T), got {x.shape} and {y.shape}")
    if not 0 <= score_from < x.shape[1]:
        raise ValueError(f"score_from must be in [0, T={x.shape[1]}), got {score_from!r}")
    log_probs, correct = [], []
    with no_grad():
        for start in range(0, len(x), batch_size):
            logits = forward(x[start:start + batch_size]).data.astype(np.float64)
            z = logits - logits.max(axis=-1, keepdims=True)
            lp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
            target = y[start:start + batch_size]
            log_probs.append(np.take_along_axis(lp, target[..., None], axis=-1)[..., 0])
            correct.append(logits.argmax(axis=-1) == target)
    nll, hit = -np.concatenate(log_probs)[:, score_from:], np.concatenate(correct)[:, score_from:]
    loss = float(nll.mean())
    return {"accuracy": float(hit.mean()), "loss": loss, "bits": loss / math.log(2),
            "tail_loss": float(nll[:, -tail:].mean())}


def sample(forward: Forward, prompt: np.ndarray, length: int, *, temperature: float = 1.0,
           context: int | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
    """Extend the 1-D id array ``prompt`` by ``length`` tokens drawn from softmax(logits / temperature),
    feeding at most the last ``context`` ids (all when None); temperature 0 takes the argmax."""
    prompt = np.asarray(prompt, np.int64)
    if prompt.ndim != 1 or prompt.size == 0:
        raise ValueError(f"prompt must be a non-empty 1-D id array, got shape {prompt.shape}")
    integer("length", length, minimum=0)
    if context is not None:
        positive_int("context", context)
    real("temperature", temperature, minimum=0.0)
    rng = np.random.default_rng(0) if rng is None else rng
    ids = list(prompt)
    with no_grad():
        for _ in range(length):
            window = np.asarray(ids[-context:] if context else ids)[None, :]
            logits = forward(window).data[0, -1].astype(np.float64)
            if temperature == 0:
                ids.append(int(logits.argmax()))
                continue
            p = np.exp((logits - logits.max()) / temperature)
            ids.append(int(rng.choice(p.size, p=p / p.sum())))
    return np.asarray(ids[prompt.size:], np.int64)
