"""Fixtures for the engine tests: float64 leaves drawn from the seeded generator."""
import pytest

from scratch import Tensor


@pytest.fixture
def leaves(rng):
    """``leaves(shape, ...)``: one float64 leaf that requires grad per shape, standard normal entries,
    or uniform in [0.5, 2] with ``positive=True`` (for log, sqrt, division, powers)."""

    def make(*shapes, positive=False):
        draw = (lambda s: rng.uniform(0.5, 2.0, s)) if positive else rng.standard_normal
        return [Tensor(draw(shape), requires_grad=True) for shape in shapes]

    return make
