"""The LM loop: training reduces the loss, a seed reproduces it, resume continues exactly; evaluation and sampling."""
import numpy as np
import pytest

from scratch import Tensor, checkpoint
from scratch.progress import NonFiniteLossError
from scratch.training.lm import TrainConfig, evaluate_lm, repeated_windows, sample, train_lm
from scratch.models.transformer import TransformerConfig, TransformerLM

TINY = TransformerConfig(vocab_size=5, dim=8, layers=1, heads=2, ffn_dim=16, train_len=8)
STREAM = np.tile(np.array([0, 1, 2, 3, 4, 3, 2, 1]), 200)


def test_training_reduces_loss_and_seed_reproduces(tmp_path):
    config = TrainConfig(seq_len=8, batch_size=8, steps=60, warmup=5, lr=1e-2, final_lr=1e-3)
    losses = train_lm(TransformerLM(TINY), STREAM, config)
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])
    assert train_lm(TransformerLM(TINY), STREAM, config) == losses


def test_resume_matches_uninterrupted(tmp_path):
    config = TrainConfig(seq_len=8, batch_size=4, steps=6, warmup=2, checkpoint_every=3)
    path = tmp_path / "lm.npz"
    full = train_lm(TransformerLM(TINY), STREAM, config)
    train_lm(TransformerLM(TINY), STREAM, TrainConfig(**{**config.__dict__, "steps": 3, "warmup": 2}),
             checkpoint_path=path)
    resumed = train_lm(TransformerLM(TINY), STREAM, config, checkpoint_path=path, resume=True)
    assert len(resumed) == 3 and resumed[0] == pytest.approx(full[3], rel=1e-5)


def test_evaluate_and_copy_windows():
    x, y = repeated_windows(STREAM, 8, 3)
    np.testing.assert_array_equal(y[:, 4:], x[:, 1:5])
    result = evaluate_lm(lambda ids: Tensor(np.eye(5)[y] * 50), x, y)
    assert result["accuracy"] == 1.0 and result["loss"] < 1e-10
    with pytest.raises(ValueError, match="seq_len"):
        repeated_windows(STREAM, 7, 3)


def test_sample_shapes_and_greedy_determinism():
    model = TransformerLM(TINY)
    a = sample(model, np.array([0, 1]), 5, temperature=0)
    assert a.shape == (5,) and np.array_equal(a, sample(model, np.array([0, 1]), 5, temperature=0))
    with pytest.raises(ValueError, match="prompt"):
        sample(model, np.array([]), 3)


def test_copy_fraction_changes_the_batches_and_zero_is_the_default():
    config = TrainConfig(seq_len=8, batch_size=4, steps=3, warmup=1)
    plain = train_lm(TransformerLM(TINY), STREAM, config)
    assert train_lm(TransformerLM(TINY), STREAM, TrainConfig(**{**config.__dict__, "copy_fraction": 0.0})) == plain
    assert train_lm(TransformerLM(TINY), STREAM, TrainConfig(**{**config.__dict__, "copy_fraction": 0.5})) != plain
    with pytest.raises(ValueError, match="copy_fraction"):
        TrainConfig(copy_fraction=-0.1)


def test_extra_loss_joins_the_gradient_but_not_the_returned_losses():
    config = TrainConfig(seq_len=8, batch_size=4, steps=3, warmup=1)
    plain_model, pulled_model = TransformerLM(TINY), TransformerLM(TINY)
    plain = train_lm(plain_model, STREAM, config)
    head = dict(pulled_model.named_parameters())["embedding.weight"]
    pulled = train_lm(pulled_model, STREAM, config, extra_loss=lambda: (head * head).sum() * 10.0)
    assert pulled[0] == plain[0] and pulled[1:] != plain[1:]
    assert np.linalg.norm(head.data) < np.linalg.norm(dict(plain_model.named_parameters())["embedding.weight"].data)
    with pytest.raises(NonFiniteLossError, match="extra term"):
        train_lm(TransformerLM(TINY), STREAM, config, extra_loss=lambda: Tensor(np.array(np.nan)))


def test_after_step_runs_after_the_optimizer_step_and_before_that_steps_checkpoint(tmp_path):
    path = tmp_path / "lm.npz"
    model = TransformerLM(TINY)
    first = next(iter(model.parameters()))
    calls, previous = [], [first.data.copy()]

    def after_step(step):
        saved = checkpoint.load(path)["step"] if path.exists() else 0
        calls.append((step, saved, not np.array_equal(first.data, previous[-1])))
        previous.append(first.data.copy())

    train_lm(model, STREAM, TrainConfig(seq_len=8, batch_size=4, steps=4, warmup=0, checkpoint_every=2),
             checkpoint_path=path, after_step=after_step)
    assert calls == [(1, 0, True), (2, 0, True), (3, 2, True), (4, 2, True)]


@pytest.mark.parametrize("name, value", [("steps", True), ("seq_len", True), ("batch_size", 0), ("warmup", True),
                                         ("lr", float("inf")), ("final_lr", 1.0), ("clip", float("nan")),
                                         ("weight_decay", -1.0), ("copy_fraction", True), ("seed", True),
                                         ("checkpoint_every", True)])
def test_bad_train_config_is_named(name, value):
    with pytest.raises(ValueError, match=name):
        TrainConfig(**{name: value})
