"""28×28 grey-level image sets: the shipped 5,000 MNIST digits, and Fashion-MNIST when fetched.

``mnist_5k.npz`` holds one pool, ``images`` (5000, 28, 28) uint8 and ``labels`` (5000,) uint8,
500 per class and sorted by class, so it must be shuffled before it is split.
``fashion_mnist.npz`` (``python scripts/fetch_data.py --optional``) holds the official split as
``train_images``/``train_labels`` (60,000) and ``test_images``/``test_labels`` (10,000).
"""
from __future__ import annotations

import os

import numpy as np

from ..validation import integer
from .paths import data_path, existing_file

IMAGE_SETS = {"mnist": "mnist_5k.npz", "fashion": "fashion_mnist.npz"}


def load_mnist(name: str = "mnist", n_train: int = 4000, n_test: int = 1000, seed: int = 0,
               path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded, stratified, shuffled train/test sample of an image set.

    Each class gets ``n // 10`` images of a set of ``n`` (one more for the first ``n % 10``
    classes), drawn at random with ``np.random.default_rng(seed)``; the images of a set come in
    random order. For ``mnist`` the two sets are disjoint draws from the one pool (the defaults
    use all 5,000: 400 + 100 per class); for ``fashion`` they come from the official train and test
    parts. ``path`` reads another ``.npz`` with either layout.

    Returns ``x_train (n_train, 28, 28)`` float32 in [0, 1], ``y_train (n_train,)`` int64,
    ``x_test (n_test, 28, 28)`` float32, ``y_test (n_test,)`` int64.
    """
    n_train, n_test = integer("n_train", n_train, minimum=0), integer("n_test", n_test, minimum=0)
    seed = integer("seed", seed, minimum=0)
    if path is None:
        if name not in IMAGE_SETS:
            raise ValueError(f"unknown image set name {name!r}; expected one of {sorted(IMAGE_SETS)}")
        path = data_path(IMAGE_SETS[name])
    rng = np.random.default_rng(seed)
    with np.load(existing_file(path, "image set"), allow_pickle=False) as archive:
        if "images" in archive:
            images, labels = archive["images"], archive["labels"]
            train, test = _stratified_sample(labels, {"n_train": n_train, "n_test": n_test}, rng, path)
            x_train, y_train, x_test, y_test = images[train], labels[train], images[test], labels[test]
        else:
            (train,) = _stratified_sample(archive["train_labels"], {"n_train": n_train}, rng, path)
            (test,) = _stratified_sample(archive["test_labels"], {"n_test": n_test}, rng, path)
            x_train, y_train = archive["train_images"][train], archive["train_labels"][train]
            x_test, y_test = archive["test_images"][test], archive["test_labels"][test]
    return _as_floats(x_train), y_train.astype(np.int64), _as_floats(x_test), y_test.astype(np.int64)


def _stratified_sample(labels: np.ndarray, sizes: dict[str, int], rng: np.random.Generator,
                       path: str | os.PathLike) -> list[np.ndarray]:
    """Disjoint shuffled index sets of the requested sizes, spread evenly over the classes."""
    classes, available = np.unique(labels, return_counts=True)
    quotas = {arg: n // len(classes) + (np.arange(len(classes)) < n % len(classes)) for arg, n in sizes.items()}
    if np.any(sum(quotas.values()) > available):
        asked = " + ".join(f"{arg}={n}" for arg, n in sizes.items())
        raise ValueError(f"{asked} is more than {path} holds ({available.min()} images in its smallest class)")
    picks: dict[str, list[np.ndarray]] = {arg: [] for arg in sizes}
    for k, label in enumerate(classes):
        members = rng.permutation(np.flatnonzero(labels == label))
        start = 0
        for arg, quota in quotas.items():
            picks[arg].append(members[start:start + quota[k]])
            start += quota[k]
    return [rng.permutation(np.concatenate(chosen)) for chosen in picks.values()]


def _as_floats(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / np.float32(255)
