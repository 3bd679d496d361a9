"""The shared classifier loop: batching, loss decrease, seeded reproducibility, NaN stop."""
import numpy as np
import pytest

from scratch import functional as F, nn, optim
from scratch.progress import NonFiniteLossError
from scratch.training import accuracy, fit, minibatches, predict


def _blobs(rng, n=200):
    """Two Gaussian blobs in 2-D, linearly separable."""
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 2)).astype(np.float32) + 3.0 * (2 * y[:, None] - 1)
    return x, y


def _train(seed, epochs=3, loss_fn=F.cross_entropy):
    rng = np.random.default_rng(seed)
    x, y = _blobs(rng)
    model = nn.Sequential(nn.Linear(2, 8, rng=rng), nn.ReLU(), nn.Linear(8, 2, rng=rng))
    history = fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.05), x, y,
                  epochs=epochs, batch_size=32, rng=rng)
    return model, history, x, y


def test_minibatches_cover_every_index_once(rng):
    batches = list(minibatches(10, 4, rng))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches)) == list(range(10))
    assert [list(b) for b in minibatches(5, 2)] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="batch_size"):
        list(minibatches(5, 0))


def test_fit_reduces_the_loss_and_learns():
    model, history, x, y = _train(seed=0)
    assert history[-1] < 0.5 * history[0]
    assert accuracy(model, x, y) > 0.95
    assert predict(model, x[:7]).shape == (7, 2)


def test_same_seed_same_run():
    model_a, history_a, *_ = _train(seed=3)
    model_b, history_b, *_ = _train(seed=3)
    assert history_a == history_b
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)


def test_nan_loss_stops_the_run():
    with pytest.raises(NonFiniteLossError, match="loss is nan"):
        _train(seed=0, epochs=1, loss_fn=lambda scores, y: F.cross_entropy(scores, y) * np.nan)


def test_fit_rejects_mismatched_data(rng):
    model = nn.Linear(2, 2, rng=rng)
    with pytest.raises(ValueError, match="different lengths"):
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), np.zeros((3, 2), np.float32),
            np.zeros(2, np.int64), epochs=1, batch_size=2, rng=rng)
