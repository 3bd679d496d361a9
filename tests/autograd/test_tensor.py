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


class _Doubling(scratch.Function):
    """y = 2a + 2b with ``fresh_gradients``; ``shared`` hands one array to both inputs (which breaks the
    promise on purpose: the engine must still never let two leaves hold one array)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, a, b, *, shared):
        ctx.shared = shared
        return 2 * a + 2 * b

    @staticmethod
    def backward(ctx, grad):
        ctx.returned = (2 * grad,) * 2 if ctx.shared else (2 * grad, 2 * grad)
        return ctx.returned


class _PassThrough(scratch.Function):
    """y = x, handing the incoming gradient on as it is (no ``fresh_gradients``)."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


@pytest.mark.parametrize("shared", [False, True])
def test_a_leaf_keeps_a_fresh_gradient_and_no_two_leaves_share_one(shared):
    a, b = scratch.tensor([1.0, 2.0], requires_grad=True), scratch.tensor([3.0, 4.0], requires_grad=True)
    y = _Doubling.apply(a, b, shared=shared)
    y.backward(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(a.grad, [2.0, -2.0])
    np.testing.assert_array_equal(b.grad, [2.0, -2.0])
    assert a.grad is not b.grad
    a.grad += 1.0  # a later accumulation into one leaf leaves the other alone
    np.testing.assert_array_equal(b.grad, [2.0, -2.0])


def test_a_fresh_gradient_is_kept_without_a_copy_and_others_are_copied():
    a, b = scratch.tensor([1.0, 2.0], requires_grad=True), scratch.tensor([3.0, 4.0], requires_grad=True)
    y = _Doubling.apply(a, b, shared=False)
    ctx = y._node.ctx
    y.backward(np.ones(2))
    assert a.grad is ctx.returned[0] and b.grad is ctx.returned[1]
    x = scratch.tensor([1.0, 2.0], requires_grad=True)
    upstream = np.array([5.0, 6.0])
    _PassThrough.apply(x).backward(upstream)
    assert x.grad is not upstream  # the caller's array, handed on by a Function without the promise
    upstream[:] = 0.0
    np.testing.assert_array_equal(x.grad, [5.0, 6.0])


class _Widening(scratch.Function):
    """y = x whose backward returns float64 whatever x is, with ``fresh_gradients``."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(np.float64)


def test_a_fresh_gradient_of_another_dtype_is_converted():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    _Widening.apply(x).backward(np.ones(3, np.float32))
    assert x.grad.dtype == np.float32


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
