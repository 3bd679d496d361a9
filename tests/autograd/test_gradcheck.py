"""``gradcheck`` itself: it passes right gradients and, crucially, fails wrong ones in both modes —
a single wrong entry, a zeroed subset, a wrong sign, gradients that are all tiny — and its random
weights are not the inputs the tests draw from ``default_rng(0)``."""
import numpy as np
import pytest

import scratch
from scratch import Function, GradcheckError, Tensor, gradcheck


class Cube(Function):
    """y = x³;  dy/dx = 3x²."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class CubeWithWrongBackward(Cube):
    """y = x³ with the derivative 3x² deliberately replaced by 2x²."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x * x


def test_a_custom_function_with_the_right_backward_passes(leaves):
    assert gradcheck(Cube.apply, leaves((4, 3)))


def test_a_wrong_backward_is_caught_elementwise(leaves):
    with pytest.raises(GradcheckError, match=r"input 0 .* worst at \(\d+, \d+\): analytic .* numeric"):
        gradcheck(CubeWithWrongBackward.apply, leaves((4, 3)))


def test_a_wrong_backward_is_caught_along_directions(leaves):
    with pytest.raises(GradcheckError, match=r"worst at (direction \d+|\(\d+, \d+\) \(in block \d+)"):
        gradcheck(CubeWithWrongBackward.apply, leaves((40, 30)))


def test_directional_mode_checks_a_large_input(leaves):
    x, w = leaves((64, 50), (50, 40))
    assert x.size > 512 and w.size > 512
    assert gradcheck(lambda x, w: (x @ w).tanh(), [x, w], directions=4)


def test_a_gradient_missing_for_one_input_is_caught(leaves):
    """Detaching an input inside ``fn`` gives it no gradient, which the check must notice."""
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: a * b.detach(), leaves((3,), (3,)))


def test_inputs_that_do_not_require_grad_are_passed_through(leaves, rng):
    (x,) = leaves((3,))
    constant = scratch.tensor(rng.standard_normal(3))
    assert gradcheck(lambda c, x: c * x, [constant, x])


def test_float32_inputs_are_refused():
    x = scratch.tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x * 2, [x])


def test_an_input_that_requires_grad_is_needed():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda x: x * 2, [scratch.tensor([1.0])])


def cube_with_backward(corrupt, scale=1.0):
    """y = scale · x³ whose backward returns ``corrupt(right gradient, x)``."""

    class CorruptedCube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return scale * x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return corrupt(grad * scale * 3 * x * x, x)

    return CorruptedCube.apply


def _median_entry(g):
    """Flat index of the entry of median magnitude: a typical entry, neither the largest nor ~0."""
    return int(np.argsort(np.abs(g).ravel())[g.size // 2])


def one_entry_off_by_5_percent(g, x):
    g = g.copy()
    g.flat[_median_entry(g)] *= 1.05
    return g


def smallest_8_percent_zeroed(g, x):
    g = g.copy()
    g.flat[np.argsort(np.abs(g).ravel())[: max(1, int(0.08 * g.size))]] = 0.0
    return g


def one_entry_negated(g, x):
    g = g.copy()
    g.flat[_median_entry(g)] *= -1
    return g


def sign_lost_where_x_is_negative(g, x):
    """3x|x| for 3x²: the slip of writing x·|x| where x² was meant."""
    return np.where(x < 0, -g, g)


# 48 entries are checked one by one; 3072 (six times the default limit of 512) along directions.
MODES = {"elementwise": (6, 8), "directional": (48, 64)}
CORRUPTIONS = [one_entry_off_by_5_percent, smallest_8_percent_zeroed, one_entry_negated,
               sign_lost_where_x_is_negative]


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("mode", MODES)
def test_a_local_error_in_the_gradient_is_caught(leaves, mode, corrupt):
    (x,) = leaves(MODES[mode])
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(cube_with_backward(corrupt), [x])


@pytest.mark.parametrize("shape", [(3, 4), (25, 24)], ids=["elementwise", "directional"])
def test_every_entry_is_checked(leaves, shape):
    """A wrong entry at the first, the last or any other position is caught (the blocks cover every entry).
    The error, 5% of the largest entry, is one that no block of 16 can hide whatever its other entries."""
    (x,) = leaves(shape)
    positions = range(x.size) if x.size <= 512 else [0, x.size - 1, *np.random.default_rng(1).integers(x.size, size=4)]
    for position in positions:
        def corrupt(g, x, position=position):
            g = g.copy()
            g.flat[position] += 0.05 * np.abs(g).max()
            return g

        with pytest.raises(GradcheckError):
            gradcheck(cube_with_backward(corrupt), [x])


@pytest.mark.parametrize("mode", MODES)
def test_a_single_wrong_entry_is_named(leaves, mode):
    """Directional mode re-checks the failing block entry by entry, so the message names the entry."""
    (x,) = leaves(MODES[mode])
    caught = {}

    def corrupt(g, x):
        caught["entry"] = np.unravel_index(_median_entry(g), g.shape)
        return one_entry_off_by_5_percent(g, x)

    with pytest.raises(GradcheckError) as error:
        gradcheck(cube_with_backward(corrupt), [x])
    row, col = caught["entry"]
    assert f"worst at ({row}, {col})" in str(error.value)


@pytest.mark.parametrize("mode", MODES)
def test_a_wrong_backward_is_caught_when_every_gradient_entry_is_tiny(leaves, mode):
    """With the function scaled by 1e-8 every entry is far below atol = 1e-5; the check scales with them."""
    (x,) = leaves(MODES[mode])
    assert gradcheck(cube_with_backward(lambda g, x: g, scale=1e-8), [x])
    with pytest.raises(GradcheckError):
        gradcheck(cube_with_backward(lambda g, x: g * 2 / 3, scale=1e-8), [x])
    with pytest.raises(GradcheckError):
        gradcheck(cube_with_backward(lambda g, x: np.zeros_like(g), scale=1e-8), [x])


@pytest.mark.parametrize("mode", MODES)
def test_a_truly_zero_gradient_passes_despite_rounding_noise(leaves, mode):
    """∂/∂y of (x + y) − y is exactly 0, but its central differences are rounding noise, not 0."""
    x, y = leaves(MODES[mode], MODES[mode])
    assert gradcheck(lambda x, y: (x + y) - y, [x, y])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(4))
def test_a_right_backward_passes_in_both_modes_over_seeds(mode, seed):
    x = Tensor(np.random.default_rng(seed).standard_normal(MODES[mode]), requires_grad=True)
    assert gradcheck(cube_with_backward(lambda g, x: g), [x], seed=seed)
    assert gradcheck(lambda x: (x * x.sum(axis=1, keepdims=True)).tanh(), [x], seed=seed)


def test_the_output_weights_are_not_the_inputs_drawn_from_default_rng(leaves):
    """The weights r equal ∂L/∂y, which an identity map leaves in ``x.grad``."""
    (x,) = leaves((4, 5))
    gradcheck(lambda x: x * 1.0, [x])
    for stream_seed in range(3):
        assert not np.allclose(x.grad, np.random.default_rng(stream_seed).standard_normal((4, 5)))
    assert not np.allclose(x.grad, x.data)


class UnitNormMissingFactor(Function):
    """y = x/‖x‖ per row, whose backward (g − y⟨y, g⟩)/‖x‖ lost its factor 1/‖x‖."""

    @staticmethod
    def forward(ctx, x):
        y = x / np.linalg.norm(x, axis=-1, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - y * np.sum(y * grad, axis=-1, keepdims=True)


def test_a_wrong_backward_of_a_scale_invariant_map_is_caught_on_default_rng_inputs(leaves):
    """Were the weights r the first draw of ``default_rng(0)`` they would equal x, and both the true
    gradient of Σ r ⊙ x/‖x‖ and this wrong one would vanish (as for RMS norm without weight)."""
    (x,) = leaves((4, 5))
    with pytest.raises(GradcheckError):
        gradcheck(UnitNormMissingFactor.apply, [x])


def test_block_must_be_a_positive_int(leaves):
    with pytest.raises(ValueError, match="block"):
        gradcheck(Cube.apply, leaves((30, 20)), block=0)
