"""Benchmark cases for the engine: per-op overhead and whole training steps, scratch vs torch.

Each case runs the same computation with the same shapes (and, for the training steps, the same
initial weights) in scratch and, when torch is given, in torch CPU eager.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import functional as F, nn, optim
from ..autograd import Tensor


@dataclass
class Case:
    name: str
    scratch: Callable[[], object]
    torch: Callable[[], object] | None
    flops: float = 0.0


def cases(batch_size: int, rng: np.random.Generator, torch=None) -> list[Case]:
    """The engine benchmark: small-op overhead, an MLP step and a small conv-net step."""
    return [*_small_ops(rng, torch), _mlp_step(batch_size, rng, torch), _convnet_step(batch_size, rng, torch)]


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
