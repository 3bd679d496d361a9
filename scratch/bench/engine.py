"""Benchmark cases for the engine: per-op overhead and whole training steps, scratch vs torch.

Each case runs the same computation with the same shapes (and, for the training steps, the same
initial weights) in scratch and, when torch is given, in torch CPU eager. The Transformer LM step is
one step of ``scratch.training.lm.train_lm`` (AdamW, clipping by global norm) on the model of the
extrapolation experiment (``TransformerConfig()``, RoPE, full causal attention) at its batch 16 and
length N = 64; the torch peer is ``scratch.crosscheck.torch_reference.lm``. ``time_case`` alternates the
two sides.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import functional as F, nn, optim
from ..autograd import Tensor
from ..models.transformer import TransformerConfig, TransformerLM
from ..training.lm import TrainConfig, lm_loss
from .timing import best_time

# the batch of scripts/reproduce_extrapolation.py (its length is TrainConfig's, N = 64)
LM_BATCH = 16


@dataclass
class Case:
    name: str
    scratch: Callable[[], object]
    torch: Callable[[], object] | None
    flops: float = 0.0


def cases(batch_size: int, rng: np.random.Generator, torch=None) -> list[Case]:
    """The engine benchmark: small-op overhead, an MLP step, a small conv-net step and a Transformer LM step."""
    return [*_small_ops(rng, torch), _mlp_step(batch_size, rng, torch), _convnet_step(batch_size, rng, torch),
            _lm_step(rng, torch)]


def time_case(case: Case, rounds: int = 15, seconds: float = 0.05) -> tuple[float, float]:
    """Best seconds per call of (scratch, torch) over ``rounds`` alternations of the two sides, each a batch
    of calls lasting ≥ ``seconds``, so that a change of load on a shared machine reaches both sides
    alike; torch's is NaN without a peer."""
    sides = [case.scratch] + ([case.torch] if case.torch is not None else [])
    best = [float("inf")] * len(sides)
    for round_ in range(rounds):
        for i, side in enumerate(sides):
            best[i] = min(best[i], best_time(side, repeat=1, min_seconds=seconds, warmup=int(round_ == 0)))
    return best[0], best[1] if len(best) > 1 else float("nan")


def _small_ops(rng, torch) -> list[Case]:
    a_np, b_np = (rng.standard_normal((64, 64), dtype=np.float32) for _ in range(2))
    a, b = Tensor(a_np, requires_grad=True), Tensor(b_np, requires_grad=True)
    ta = tb = None
    if torch is not None:
        ta, tb = (torch.tensor(x, requires_grad=True) for x in (a_np, b_np))

    def both(ours, theirs):
        return ours, (None if torch is None else theirs)

    def tanh_chain(x, y):
        z = x
        for _ in range(10):
            z = (z * y).tanh()
        z.sum().backward()

    return [
        Case("add 64×64 (forward)", *both(lambda: a + b, lambda: ta + tb)),
        Case("matmul 64×64 (forward)", *both(lambda: a @ b, lambda: ta @ tb), flops=2 * 64**3),
        Case("matmul 64×64 (fwd+bwd)", *both(lambda: (a @ b).sum().backward(),
                                             lambda: (ta @ tb).sum().backward()), flops=6 * 64**3),
        Case("20 elementwise ops (fwd+bwd)", *both(lambda: tanh_chain(a, b), lambda: tanh_chain(ta, tb))),
    ]


def _training_step(model, loss_fn, optimizer, x, y):
    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    return step


def _torch_copy(torch, model, torch_model):
    """Copy scratch parameters into the torch model (same order and shapes)."""
    with torch.no_grad():
        for p, tp in zip(model.parameters(), torch_model.parameters()):
            tp.copy_(torch.from_numpy(p.data.copy()))


def _mlp_step(batch_size, rng, torch) -> Case:
    sizes = (784, 256, 256, 10)
    x = rng.random((batch_size, sizes[0]), dtype=np.float32)
    y = rng.integers(0, 10, batch_size)
    model = nn.Sequential(nn.Linear(784, 256, rng=rng), nn.ReLU(), nn.Linear(256, 256, rng=rng), nn.ReLU(),
                          nn.Linear(256, 10, rng=rng))
    ours = _training_step(model, F.cross_entropy, optim.Adam(model.parameters()), x, y)
    flops = 6 * batch_size * sum(m * n for m, n in zip(sizes, sizes[1:]))
    theirs = None
    if torch is not None:
        tm = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                 torch.nn.ReLU(), torch.nn.Linear(256, 10))
        _torch_copy(torch, model, tm)
        theirs = _training_step(tm, torch.nn.functional.cross_entropy, torch.optim.Adam(tm.parameters()),
                                torch.from_numpy(x), torch.from_numpy(y))
    return Case(f"MLP 784-256-256-10 step, batch {batch_size}", ours, theirs, flops)


def _convnet_step(batch_size, rng, torch) -> Case:
    """conv 3×3 1→16, ReLU, maxpool 2, conv 3×3 16→32, ReLU, maxpool 2, linear 800→10 on 28×28."""
    x = rng.random((batch_size, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch_size)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, rng=rng), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, rng=rng),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 5 * 5, 10, rng=rng))
    ours = _training_step(model, F.cross_entropy, optim.Adam(model.parameters()), x, y)
    forward_flops = 2 * batch_size * (16 * 9 * 26 * 26 + 32 * 16 * 9 * 11 * 11 + 800 * 10)
    theirs = None
    if torch is not None:
        tnn = torch.nn
        tm = tnn.Sequential(tnn.Conv2d(1, 16, 3), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(16, 32, 3), tnn.ReLU(),
                            tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(800, 10))
        _torch_copy(torch, model, tm)
        theirs = _training_step(tm, tnn.functional.cross_entropy, torch.optim.Adam(tm.parameters()),
                                torch.from_numpy(x), torch.from_numpy(y))
    return Case(f"conv-net step, batch {batch_size}", ours, theirs, 3 * forward_flops)


def _lm_step(rng, torch) -> Case:
    """One ``train_lm`` step of ``TransformerLM(TransformerConfig())`` on random bytes, B 16, T 64."""
    config, train = TransformerConfig(), TrainConfig()
    seq_len, d, ffn = train.seq_len, config.dim, config.ffn_dim
    windows = rng.integers(0, config.vocab_size, (LM_BATCH, seq_len + 1))
    x, y = windows[:, :-1], windows[:, 1:]
    model = TransformerLM(config, rng=rng)
    ours = _lm_training_step(model, lm_loss, optim.AdamW(model.parameters(), **_adamw(train)), optim.clip_grad_norm,
                             train.clip, x, y)
    tokens = LM_BATCH * seq_len
    forward_flops = 2 * tokens * (config.layers * (4 * d * d + 2 * d * ffn + 2 * seq_len * d) + d * config.vocab_size)
    theirs = None
    if torch is not None:
        from ..crosscheck.torch_reference.lm import TorchTransformerLM

        tm = TorchTransformerLM(config)
        tm.load_from(model)
        vocab = config.vocab_size

        def torch_loss(logits, targets):
            return torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))

        theirs = _lm_training_step(tm, torch_loss, torch.optim.AdamW(tm.parameters(), **_adamw(train)),
                                   torch.nn.utils.clip_grad_norm_, train.clip, torch.from_numpy(x),
                                   torch.from_numpy(y))
    return Case(f"Transformer LM step, B {LM_BATCH} T {seq_len}", ours, theirs, 3 * forward_flops)


def _adamw(train: TrainConfig) -> dict:
    return {"lr": train.lr, "betas": train.betas, "weight_decay": train.weight_decay}


def _lm_training_step(model, loss_fn, optimizer, clip, max_norm, x, y):
    def step():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        clip(model.parameters(), max_norm)
        optimizer.step()
    return step
