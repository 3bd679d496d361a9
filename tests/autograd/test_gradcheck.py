"""``gradcheck`` itself: it passes right gradients and, crucially, fails wrong ones in both modes."""
import numpy as np
import pytest

import scratch
from scratch import Function, GradcheckError, gradcheck


class CubeWithWrongBackward(Function):
    """y = x³ with the derivative 3x² deliberately replaced by 2x²."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x * x


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


def test_a_custom_function_with_the_right_backward_passes(leaves):
    assert gradcheck(Cube.apply, leaves((4, 3)))


def test_a_wrong_backward_is_caught_elementwise(leaves):
    with pytest.raises(GradcheckError, match=r"input 0 .* worst at \(\d+, \d+\): analytic .* numeric"):
        gradcheck(CubeWithWrongBackward.apply, leaves((4, 3)))


def test_a_wrong_backward_is_caught_along_directions(leaves):
    with pytest.raises(GradcheckError, match="worst at direction"):
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
