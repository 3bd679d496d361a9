"""The LM loop: training reduces the loss, a seed reproduces it, resume continues exactly; evaluation and sampling."""
import numpy as np
import pytest

from scratch import Tensor
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
