"""The shipped MNIST digits: class balance, the seeded stratified split, errors."""
import numpy as np
import pytest

from scratch.datasets import data_path, load_mnist


def _sorted_rows(images):
    rows = images.reshape(len(images), -1)
    return rows[np.lexsort(rows.T[::-1])]


def test_shipped_file_holds_5000_digits_500_per_class():
    with np.load(data_path("mnist_5k.npz"), allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.uint8 and np.bincount(labels).tolist() == [500] * 10


def test_default_split_is_stratified_disjoint_and_complete():
    x_train, y_train, x_test, y_test = load_mnist()
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 == x_train.min() and x_train.max() == 1.0
    assert np.bincount(y_train).tolist() == [400] * 10 and np.bincount(y_test).tolist() == [100] * 10
    assert len(np.unique(y_train[:50])) > 5, "training images should come shuffled, not sorted by class"
    with np.load(data_path("mnist_5k.npz"), allow_pickle=False) as archive:
        pool = archive["images"]
    union = np.concatenate([x_train, x_test]) * 255
    np.testing.assert_array_equal(_sorted_rows(np.rint(union).astype(np.uint8)), _sorted_rows(pool))


def test_split_is_deterministic_by_seed():
    first, again, other = load_mnist(seed=3), load_mnist(seed=3), load_mnist(seed=4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_small_sets_spread_the_remainder_over_the_first_classes():
    _, y_train, _, y_test = load_mnist(n_train=23, n_test=7)
    assert np.bincount(y_train, minlength=10).tolist() == [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]
    assert np.bincount(y_test, minlength=10).tolist() == [1] * 7 + [0] * 3


def test_bad_arguments_raise_naming_them(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="n_train=4500 \\+ n_test=1000"):
        load_mnist(n_train=4500)
    for arg in ("n_train", "n_test", "seed"):
        with pytest.raises(ValueError, match=arg):
            load_mnist(**{arg: -1})
        with pytest.raises(ValueError, match=f"{arg} must be an integer >= 0, got True"):
            load_mnist(**{arg: True})
    with pytest.raises(ValueError, match="unknown image set name 'emnist'"):
        load_mnist("emnist")
    with pytest.raises(FileNotFoundError, match="digits.npz"):
        load_mnist(path=tmp_path / "digits.npz")
    monkeypatch.setenv("SCRATCH_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="fashion_mnist.npz.*fetch_data.py --optional"):
        load_mnist("fashion")


def test_official_split_layout(tmp_path, rng):
    path = tmp_path / "fashion.npz"
    np.savez(path, train_images=rng.integers(0, 256, (60, 28, 28), dtype=np.uint8),
             train_labels=np.repeat(np.arange(10, dtype=np.uint8), 6),
             test_images=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
             test_labels=np.repeat(np.arange(10, dtype=np.uint8), 2))
    x_train, y_train, x_test, y_test = load_mnist(n_train=30, n_test=20, path=path)
    assert x_train.shape == (30, 28, 28) and x_test.shape == (20, 28, 28)
    assert np.bincount(y_train).tolist() == [3] * 10 and np.bincount(y_test).tolist() == [2] * 10
