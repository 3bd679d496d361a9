"""The graph machinery: backward order and depth, freeing, accumulation, no_grad, operand lifting."""
import numpy as np
import pytest

import scratch
from scratch import Tensor, no_grad
from scratch.autograd import is_grad_enabled


def test_deep_graph_backward_needs_no_recursion():
    x = scratch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** 10_000, rel=1e-9)


def test_shared_subexpression_accumulates_every_path():
    x = scratch.tensor([2.0, -1.0], requires_grad=True)
    y = x * x
    (y + y * 3 + x).sum().backward()
    np.testing.assert_allclose(x.grad, 8 * x.data + 1)


def test_gradients_accumulate_across_backward_calls():
    x = scratch.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None


def test_graph_is_freed_after_backward():
    x = scratch.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * 2).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(x.data))


def test_retain_graph_allows_a_second_backward():
    x = scratch.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * 2).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad, 4 * np.exp(x.data))


def test_backward_with_an_explicit_output_gradient():
    x = scratch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -6.0])


def test_leaves_and_constants():
    x = scratch.tensor([1.0, 2.0], requires_grad=True)
    c = scratch.tensor([5.0, 5.0])
    y = x * c
    assert x.is_leaf and not y.is_leaf and y.requires_grad
    assert not (c * 2).requires_grad
    y.sum().backward()
    assert c.grad is None
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and np.shares_memory(d.data, y.data)


def test_no_grad_records_nothing():
    x = scratch.tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2).exp().sum()
    assert is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_as_a_decorator_restores_the_mode():
    @no_grad()
    def double(t):
        return t * 2

    x = scratch.tensor([1.0], requires_grad=True)
    assert not double(x).requires_grad
    assert (x * 2).requires_grad


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError
    assert is_grad_enabled()


def test_ndarray_and_numpy_scalar_on_the_left_dispatch_to_the_tensor():
    x = scratch.tensor(np.ones(3, np.float32), requires_grad=True)
    for y in (np.ones(3, np.float32) + x, np.float64(2.0) * x, np.float32(2.0) - x):
        assert isinstance(y, Tensor) and y.dtype == np.float32 and y.requires_grad


def test_comparisons_give_boolean_arrays():
    x = scratch.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x > 1.5, [False, True, True])
    np.testing.assert_array_equal(x <= scratch.tensor([1.0, 1.0, 1.0]), [True, False, False])
