"""The autograd loss with one negative set for the whole batch: its product form h Sᵀ equals the loss
written here with NumPy (softmax and NCE, log-Q, output bias, removed hits), its gradients check, and
a batch whose negatives differ in one row takes the per-row form with the same result."""
import numpy as np
import pytest

from scratch import Tensor, gradcheck
from scratch.models.word2vec import random_softmax_loss


def _batch(rng, shared=True, vocab=30, batch=6, k=7, context=3):
    contexts = rng.integers(1, vocab + 1, (batch, context))
    contexts[0, -1] = -1
    negatives = rng.integers(1, vocab + 1, k)
    samples = np.empty((batch, k + 1), dtype=np.int64)
    samples[:, 0] = rng.integers(1, vocab + 1, batch)
    samples[:, 1:] = negatives
    samples[2, 3] = samples[2, 0]  # an accidental hit
    if not shared:
        samples[4, 1:] = rng.integers(1, vocab + 1, k)
    return contexts, samples


def _numpy_loss(E, W, b, contexts, scale, samples, valid, log_expected, objective):
    h = np.array([E[[c for c in row if c >= 0]].sum(axis=0) for row in contexts]) * scale[:, None]
    z = np.einsum("bd,bkd->bk", h, (E if W is None else W)[samples])
    if b is not None:
        z = z + b[samples]
    if log_expected is not None:
        z = z - log_expected[samples]
    if objective == "softmax":
        z = np.where(valid, z, -np.inf)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[:, 0]))
    labels = np.zeros(samples.shape)
    labels[:, 0] = 1
    losses = np.logaddexp(0, z) - labels * z
    return float((losses * valid).sum(axis=1).mean())


@pytest.mark.parametrize("objective", ["softmax", "nce"])
@pytest.mark.parametrize("separate", [False, True])
@pytest.mark.parametrize("shared", [True, False])
def test_shared_negatives_equal_the_numpy_loss_and_gradcheck(objective, separate, shared):
    rng = np.random.default_rng(3)
    vocab, d = 30, 5
    E = Tensor(rng.standard_normal((vocab + 1, d)) * 0.5, requires_grad=True)
    W = Tensor(rng.standard_normal((vocab + 1, d)) * 0.5, requires_grad=True) if separate else None
    b = Tensor(rng.standard_normal(vocab + 1) * 0.1, requires_grad=True) if separate else None
    contexts, samples = _batch(rng, shared)
    scale = 1.0 / (contexts >= 0).sum(axis=1)
    valid = np.ones(samples.shape, dtype=bool)
    valid[:, 1:] = samples[:, 1:] != samples[:, :1]
    log_expected = np.log(rng.uniform(0.01, 2.0, vocab + 1))
    loss = random_softmax_loss(E, W, b, contexts, scale, samples, valid, log_expected, objective)
    expected = _numpy_loss(E.data, None if W is None else W.data, None if b is None else b.data, contexts, scale,
                           samples, valid, log_expected, objective)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    params = [E] + ([W, b] if separate else [])
    assert gradcheck(lambda *p: random_softmax_loss(p[0], p[1] if separate else None, p[2] if separate else None,
                                                    contexts, scale, samples, valid, log_expected, objective), params)
