"""Optimizer trajectories and gradient clipping against torch.optim in float64 (skipped without torch)."""
import numpy as np
import pytest

from scratch.nn import Parameter
from scratch.optim import SGD, Adagrad, Adam, AdamW, clip_grad_norm

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

STEPS = 5


def gradient(theta, target):
    """∇ of Σ ¼(θ − target)⁴ + ½θ²: a gradient that depends on where the trajectory is."""
    return (theta - target) ** 3 + theta


@pytest.mark.parametrize("ours, theirs, hyper", [
    (SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    (Adam, torch.optim.Adam, {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6}),
    (Adam, torch.optim.Adam, {"lr": 0.1, "weight_decay": 0.1}),
    (AdamW, torch.optim.AdamW, {"lr": 0.1, "weight_decay": 0.2}),
    (Adagrad, torch.optim.Adagrad, {"lr": 0.3, "initial_accumulator_value": 0.1}),
])
def test_trajectory_matches_torch(ours, theirs, hyper, rng):
    theta0, target = rng.standard_normal((2, 3, 4))
    p = Parameter(theta0.copy())
    q = torch.tensor(theta0.copy(), requires_grad=True)
    mine, reference = ours([p], **hyper), theirs([q], **hyper)
    for _ in range(STEPS):
        p.grad = gradient(p.data, target)
        q.grad = torch.from_numpy(gradient(q.detach().numpy(), target))
        mine.step()
        reference.step()
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_clip_grad_norm_matches_torch(rng):
    grads = [rng.standard_normal(s) * 3 for s in [(4, 3), (5,), (2, 2, 2)]]
    ours = [Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = g.copy(), torch.from_numpy(g.copy())
    norm = clip_grad_norm(ours, 1.5)
    assert norm == pytest.approx(torch.nn.utils.clip_grad_norm_(theirs, 1.5).item(), rel=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12)
