"""The shared classifier loop: batching, loss decrease, seeded reproducibility, hooks, resuming, NaN stop,
bad input."""
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


def _mlp(rng):
    return nn.Sequential(nn.Linear(2, 8, rng=rng), nn.ReLU(), nn.Linear(8, 2, rng=rng))


def _train(seed, epochs=3, loss_fn=F.cross_entropy, **options):
    rng = np.random.default_rng(seed)
    x, y = _blobs(rng)
    model = _mlp(rng)
    history = fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.05), x, y,
                  epochs=epochs, batch_size=32, rng=rng, **options)
    return model, history, x, y


def test_minibatches_cover_every_index_once(rng):
    batches = list(minibatches(10, 4, rng))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches)) == list(range(10))
    assert [list(b) for b in minibatches(5, 2)] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="batch_size"):
        list(minibatches(5, 0))


def test_even_minibatches_cut_the_same_permutation_into_near_equal_batches():
    batches = minibatches(10, 4, np.random.default_rng(1), even=True)
    assert [len(b) for b in batches] == [4, 3, 3]
    np.testing.assert_array_equal(np.concatenate(batches), np.random.default_rng(1).permutation(10))
    assert [len(b) for b in minibatches(12, 4, even=True)] == [4, 4, 4]
    assert minibatches(0, 4, even=True) == []


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


@pytest.mark.parametrize("even_batches", [False, True])
def test_epoch_loss_is_the_size_weighted_mean_of_its_steps(even_batches):
    """200 examples in batches of 32 and a last one of 8 (or seven of 29 and 28): each loss is weighted by
    the size of its batch."""
    steps, epochs = [], []
    _, history, *_ = _train(seed=2, epochs=2, even_batches=even_batches,
                            on_step=lambda step, loss: steps.append((step, loss)),
                            on_epoch_end=lambda epoch, loss: epochs.append((epoch, loss)))
    assert [step for step, _ in steps] == list(range(1, 15))
    sizes = [29, 29, 29, 29, 28, 28, 28] if even_batches else [32, 32, 32, 32, 32, 32, 8]
    for epoch in range(2):
        losses = [loss for _, loss in steps[7 * epoch:7 * epoch + 7]]
        assert history[epoch] == pytest.approx(np.dot(sizes, losses) / 200, rel=1e-12)
    assert epochs == [(1, history[0]), (2, history[1])]


def test_resuming_at_an_epoch_continues_the_same_run():
    """One epoch, then epochs 2–3 with start_epoch=1 on the same model, optimizer and generator, equals
    three epochs in one run."""
    _, history, *_ = _train(seed=5, epochs=3)
    rng = np.random.default_rng(5)
    x, y = _blobs(rng)
    model = _mlp(rng)
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    first = fit(model, F.cross_entropy, optimizer, x, y, epochs=1, batch_size=32, rng=rng)
    seen = []
    rest = fit(model, F.cross_entropy, optimizer, x, y, epochs=3, batch_size=32, rng=rng, start_epoch=1,
               on_step=lambda step, loss: seen.append(step), on_epoch_end=lambda epoch, loss: seen.append(-epoch))
    assert first + rest == history
    assert seen == list(range(8, 15)) + [-2] + list(range(15, 22)) + [-3]


def test_loss_of_inputs_trains_an_objective_of_the_batch():
    """loss_of="inputs": the loss function gets the batch itself, here the same cross-entropy of model(x)."""
    rng = np.random.default_rng(4)
    x, y = _blobs(rng)
    model = _mlp(rng)
    history = fit(model, lambda xb, yb: F.cross_entropy(model(xb), yb), optim.SGD(model.parameters(), lr=0.05),
                  x, y, epochs=3, batch_size=32, rng=rng, loss_of="inputs")
    _, expected, *_ = _train(seed=4)
    assert history == expected


def test_nan_loss_stops_the_run():
    with pytest.raises(NonFiniteLossError, match="loss is nan"):
        _train(seed=0, epochs=1, loss_fn=lambda scores, y: F.cross_entropy(scores, y) * np.nan)


def test_fit_rejects_mismatched_data(rng):
    model = nn.Linear(2, 2, rng=rng)
    with pytest.raises(ValueError, match="different lengths"):
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), np.zeros((3, 2), np.float32),
            np.zeros(2, np.int64), epochs=1, batch_size=2, rng=rng)


@pytest.mark.parametrize("bad, match", [
    (dict(epochs=True), "epochs"),
    (dict(epochs=0), "epochs"),
    (dict(epochs=2.0), "epochs"),
    (dict(batch_size=True), "batch_size"),
    (dict(batch_size=0), "batch_size"),
    (dict(start_epoch=3), "start_epoch"),
    (dict(start_epoch=True), "start_epoch"),
    (dict(loss_of="logits"), "loss_of"),
    (dict(even_batches="yes"), "even_batches"),
    (dict(x=np.zeros((0, 2), np.float32), y=np.zeros(0, np.int64)), "len"),
])
def test_fit_rejects_bad_settings(rng, bad, match):
    model = nn.Linear(2, 2, rng=rng)
    kwargs = dict(x=np.zeros((3, 2), np.float32), y=np.zeros(3, np.int64), epochs=2, batch_size=2, rng=rng)
    kwargs.update(bad)
    with pytest.raises(ValueError, match=match):
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), **kwargs)


def test_fit_needs_a_generator(rng):
    model = nn.Linear(2, 2, rng=rng)
    with pytest.raises(TypeError, match="rng"):
        fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), np.zeros((3, 2), np.float32),
            np.zeros(3, np.int64), epochs=1, batch_size=2, rng=0)
