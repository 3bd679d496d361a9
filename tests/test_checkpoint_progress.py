"""Checkpoint round trip and atomicity; progress formatting and the NaN guard."""
import io

import numpy as np
import pytest

from scratch import checkpoint
from scratch.progress import NonFiniteLossError, Progress, check_finite, format_count, format_duration


class _State:
    """A minimal object with the state_dict protocol (modules and optimizers share it)."""

    def __init__(self, **arrays):
        self.arrays = arrays

    def state_dict(self):
        return {k: v.copy() for k, v in self.arrays.items()}

    def load_state_dict(self, state, strict=True):
        if strict and set(state) != set(self.arrays):
            raise KeyError(sorted(set(state) ^ set(self.arrays)))
        self.arrays = {k: np.array(v) for k, v in state.items()}


def test_round_trip_restores_arrays_and_meta(tmp_path, rng):
    model = _State(w=rng.standard_normal((3, 4)).astype(np.float32), b=np.zeros(4))
    optim = _State(**{"state.0.exp_avg": rng.standard_normal(5), "step": np.array(7)})
    path = checkpoint.save(tmp_path / "run" / "ckpt.npz", model, optim, step=12, name="mlp", lr=0.5)
    model2, optim2 = _State(w=np.zeros((3, 4)), b=np.ones(4)), _State(**{"state.0.exp_avg": 0, "step": 0})
    meta = checkpoint.load(path, model2, optim2)
    assert meta == {"step": 12, "name": "mlp", "lr": 0.5}
    assert model2.arrays["w"].dtype == np.float32
    np.testing.assert_array_equal(model2.arrays["w"], model.arrays["w"])
    np.testing.assert_array_equal(optim2.arrays["state.0.exp_avg"], optim.arrays["state.0.exp_avg"])
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.npz"]


def test_failed_save_keeps_previous_checkpoint(tmp_path):
    path = checkpoint.save(tmp_path / "c.npz", _State(w=np.ones(2)), step=1)
    with pytest.raises(TypeError, match="meta value 'bad'"):
        checkpoint.save(path, _State(w=np.zeros(2)), bad={"not": "an array"})
    assert checkpoint.load(path) == {"step": 1}
    assert len(list(tmp_path.iterdir())) == 1


def test_load_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        checkpoint.load(tmp_path / "nope.npz")


def test_load_never_unpickles(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"meta/x": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ValueError, match="allow_pickle"):
        checkpoint.load(path)


def test_check_finite():
    assert check_finite(1.5, step=3) == 1.5
    with pytest.raises(NonFiniteLossError, match="loss is nan at step 4"):
        check_finite(float("nan"), step=4)


def test_progress_line_and_formatting():
    assert format_duration(95) == "1m35s" and format_duration(4000) == "1h06m" and format_duration(3) == "3s"
    assert format_count(5310) == "5.31k" and format_count(12) == "12"
    stream = io.StringIO()
    progress = Progress(total=4, unit="tok", every=3600, stream=stream)
    progress.update(1, items=100, loss=2.0)
    assert stream.getvalue() == ""
    progress.update(4, items=100, loss=1.0)
    line = stream.getvalue()
    assert line.startswith("step 4/4 (100%) | loss 1.0000 | ") and "tok/s" in line


def test_progress_and_load_refuse_bad_arguments_by_name(tmp_path):
    with pytest.raises(ValueError, match="total must be an integer >= 0, got True"):
        Progress(total=True)
    with pytest.raises(ValueError, match="every must be a finite real number, got inf"):
        Progress(total=10, every=float("inf"))
    path = checkpoint.save(tmp_path / "c.npz", step=1)
    with pytest.raises(ValueError, match="strict must be True or False, got 'no'"):
        checkpoint.load(path, strict="no")
