"""The perturb-max experiment helpers: heads train, ECE is the binned gap, tables agree with the model."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratch.models.perturb_max import perturb_max_probs
from scratch.models.perturb_max.experiment import (
    HEADS,
    ExperimentConfig,
    expected_calibration_error,
    loser_probability_curves,
    monte_carlo_table,
    train_head,
    uniform_zero_fraction,
)


def blobs(n, seed):
    """Three well-separated Gaussian classes in 6 dimensions."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centres = 3.0 * np.eye(3, 6)
    return (centres[y] + rng.normal(size=(n, 6))).astype(np.float32), y


@pytest.mark.parametrize("head", list(HEADS))
def test_every_head_trains_and_a_seed_reproduces_it(head):
    x, y = blobs(120, 0)
    xt, yt = blobs(60, 1)
    runs = [train_head(HEADS[head], x, y, xt, yt, hidden=8, epochs=3, batch_size=30, lr=0.03, seed=5)[1]
            for _ in range(2)]
    assert runs[0]["train_loss"][-1] < runs[0]["train_loss"][0]
    assert runs[0]["test_accuracy"][-1] > 0.8
    assert runs[0] == runs[1]


def test_ece_is_the_weighted_gap_between_accuracy_and_confidence():
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    labels = np.array([0, 1, 0, 1])
    # bins: 0.9 (two rows, accuracy ½), 0.6 (one row, right), 0.7 (one row, right)
    expected = 0.5 * abs(0.5 - 0.9) + 0.25 * abs(1 - 0.6) + 0.25 * abs(1 - 0.7)
    assert expected_calibration_error(probs, labels, bins=10) == pytest.approx(expected, abs=1e-15)


def test_uniform_zero_fraction_counts_classes_a_gap_of_one_below_the_top():
    scores = np.array([[0.0, -0.5, -1.0, -3.0], [2.0, 1.9, 1.5, 0.0]])
    assert uniform_zero_fraction(scores) == 3 / 8
    assert uniform_zero_fraction(scores, scale=4.0) == 0.0


def test_tables_use_the_model():
    mu = np.array([0.5, 0.0, -1.0])
    for law, (p, freq) in monte_carlo_table(mu, 20_000, seed=0).items():
        np.testing.assert_array_equal(p, perturb_max_probs(mu[None], law).data[0])
        np.testing.assert_allclose(freq, p, atol=0.02)
    curves = loser_probability_curves(np.array([0.5, 2.0]))
    np.testing.assert_allclose(curves["gumbel"], 1 / (1 + np.exp([0.5, 2.0])), rtol=1e-14)


def test_reproduce_script_help():
    script = Path(__file__).resolve().parents[2] / "scripts" / "reproduce_perturb_max.py"
    out = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, check=True)
    assert "--heads" in out.stdout and "--resume" in out.stdout


@pytest.mark.parametrize("change, name", [
    ({"epochs": True}, "epochs"),
    ({"hidden": True}, "hidden"),
    ({"seeds": 0}, "seeds"),
    ({"draws": 2.5}, "draws"),
    ({"lr": np.inf}, "lr"),
    ({"lr": np.nan}, "lr"),
    ({"dataset": "cifar"}, "dataset"),
])
def test_experiment_config_checks_every_field(change, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        ExperimentConfig(**change)


def test_experiment_config_keeps_python_numbers():
    config = ExperimentConfig(epochs=np.int64(3), lr=np.float32(0.5))
    assert type(config.epochs) is int and config.epochs == 3 and type(config.lr) is float and config.lr == 0.5


@pytest.mark.parametrize("change, name", [
    ({"epochs": True}, "epochs"),
    ({"batch_size": True}, "batch_size"),
    ({"hidden": True}, "hidden"),
    ({"lr": np.inf}, "lr"),
    ({"seed": True}, "seed"),
])
def test_train_head_checks_its_settings(change, name):
    x, y = blobs(12, 0)
    settings = {"hidden": 4, "epochs": 1, "batch_size": 4, "lr": 0.01, "seed": 0} | change
    with pytest.raises(ValueError, match=f"^{name} must be"):
        train_head(HEADS["softmax-ce"], x, y, x, y, **settings)


def test_helpers_check_their_counts():
    with pytest.raises(ValueError, match="^bins must be"):
        expected_calibration_error(np.full((2, 2), 0.5), np.array([0, 1]), bins=True)
    with pytest.raises(ValueError, match="^draws must be"):
        monte_carlo_table(np.zeros(3), True, seed=0)
