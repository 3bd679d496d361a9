"""Shared test fixtures: seeded generators and the optional PyTorch peer."""
import numpy as np
import pytest


@pytest.fixture
def rng():
    """A fresh generator with a fixed seed for each test."""
    return np.random.default_rng(0)
