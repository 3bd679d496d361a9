"""Float64 gradient checks of every primitive op: binary (with broadcasting both ways and scalars on
both sides), unary, reductions, shape ops and matmul."""
import numpy as np
import pytest

import scratch
from scratch import gradcheck

BINARY = {
    "add": (lambda a, b: a + b, False),
    "sub": (lambda a, b: a - b, False),
    "mul": (lambda a, b: a * b, False),
    "div": (lambda a, b: a / b, True),
    "pow": (lambda a, b: a ** b, True),
    "maximum": (scratch.maximum, False),
    "minimum": (scratch.minimum, False),
}
BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 1, 4), (2, 4)), ((2, 4), (3, 1, 4)), ((2, 1), (1, 3)),
                   ((), (2, 3)), ((2, 3), ()), ((4,), (3, 1))]


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_broadcasting(leaves, name, shapes):
    op, positive = BINARY[name]
    assert gradcheck(op, leaves(*shapes, positive=positive))


@pytest.mark.parametrize("op", [
    lambda x: x + 2.5, lambda x: 2.5 + x, lambda x: x - 2.5, lambda x: 2.5 - x, lambda x: x * 2.5,
    lambda x: 2.5 * x, lambda x: x / 2.5, lambda x: 2.5 / x, lambda x: x ** 3, lambda x: x ** 0.5,
    lambda x: x ** -1.5, lambda x: 2.5 ** x, lambda x: x * np.float64(2.5), lambda x: np.ones(3) - x,
    lambda x: scratch.maximum(x, 1.0), lambda x: scratch.minimum(1.0, x),
], ids=["x+s", "s+x", "x-s", "s-x", "x*s", "s*x", "x/s", "s/x", "x**3", "x**0.5", "x**-1.5", "s**x",
        "x*np.float64", "array-x", "maximum(x,s)", "minimum(s,x)"])
def test_scalar_operands(leaves, op):
    assert gradcheck(op, leaves((2, 3), positive=True))


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((1, 4), (3, 4), ())],
                         ids=str)
def test_where(leaves, rng, shapes):
    condition = rng.random(shapes[0]) < 0.5
    assert gradcheck(lambda a, b: scratch.where(condition, a, b), leaves(*shapes[1:]))


def test_where_with_a_scalar_branch(leaves, rng):
    condition = rng.random((3, 4)) < 0.5
    assert gradcheck(lambda a: scratch.where(condition, 0.0, a), leaves((3, 4)))


@pytest.mark.parametrize("op", [
    lambda a, b: scratch.maximum(a, b), lambda a, b: scratch.minimum(a, b),
])
def test_maximum_minimum_split_ties_in_half(op):
    a = scratch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = scratch.tensor([2.0, 2.0, 2.0], requires_grad=True)
    op(a, b).sum().backward()
    assert a.grad[1] == b.grad[1] == 0.5
    np.testing.assert_array_equal(a.grad + b.grad, [1.0, 1.0, 1.0])


UNARY = {
    "neg": (lambda x: -x, False),
    "exp": (lambda x: x.exp(), False),
    "log": (lambda x: x.log(), True),
    "sqrt": (lambda x: x.sqrt(), True),
    "abs": (lambda x: x.abs(), False),
    "tanh": (lambda x: x.tanh(), False),
    "sigmoid": (lambda x: x.sigmoid(), False),
    "relu": (lambda x: x.relu(), False),
    "silu": (scratch.functional.silu, False),
    "gelu": (scratch.functional.gelu, False),
    "gelu_tanh": (lambda x: scratch.functional.gelu(x, approximate="tanh"), False),
    "clip": (lambda x: scratch.clip(x, -0.5, 0.7), False),
    "clip_low": (lambda x: x.clip(low=-0.5), False),
    "clip_high": (lambda x: x.clip(high=0.7), False),
    "astype": (lambda x: x.astype(np.float64), False),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary(leaves, name):
    op, positive = UNARY[name]
    assert gradcheck(op, leaves((3, 5), positive=positive))


def test_cast_returns_the_gradient_in_the_input_dtype(leaves):
    (x,) = leaves((3,))
    y = x.astype(np.float32)
    assert y.dtype == np.float32
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min"])
def test_reductions(leaves, reduction, axis, keepdims):
    assert gradcheck(lambda x: getattr(x, reduction)(axis=axis, keepdims=keepdims), leaves((2, 3, 4)))


@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min"])
def test_reductions_of_a_scalar(leaves, reduction):
    assert gradcheck(lambda x: getattr(x, reduction)(), leaves(()))


@pytest.mark.parametrize("reduction, expected", [
    ("max", [[0, 0.5, 0.5], [1, 0, 0]]), ("min", [[1, 0, 0], [0, 0.5, 0.5]]),
])
def test_max_min_split_ties_equally(reduction, expected):
    x = scratch.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]], requires_grad=True)
    getattr(x, reduction)(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, expected)


@pytest.mark.parametrize("op", [
    lambda x: x.reshape(6, 4), lambda x: x.reshape((4, -1)), lambda x: x.transpose(),
    lambda x: x.transpose(1, 0, 2), lambda x: x.transpose((2, 0, 1)), lambda x: x.T,
    lambda x: x.swapaxes(0, 2), lambda x: x.broadcast_to((5, 2, 3, 4)), lambda x: x[:, :1].expand((2, 3, 4)),
    lambda x: scratch.broadcast_to(x[:1], (3, 3, 4)),
], ids=["reshape", "reshape-1", "T()", "transpose", "transpose-tuple", ".T", "swapaxes", "broadcast_to",
        "expand", "broadcast_to-fn"])
def test_reshape_transpose_broadcast(leaves, op):
    assert gradcheck(op, leaves((2, 3, 4)))


@pytest.mark.parametrize("index", [
    1, -1, slice(1, None), slice(None, None, 2), slice(None, None, -1), slice(4, 0, -2),
    (Ellipsis, 1), (None, 0, slice(1, 3)), (slice(None), [0, 2, 2, 0]), ([1, 1, 3], [0, 2, 0]),
    np.array([[0, 0], [3, 1]]), (slice(None), np.array([True, False, True])),
    np.array([True, False, True, True, False]),
], ids=str)
def test_getitem(leaves, index):
    assert gradcheck(lambda x: x[index], leaves((5, 3)))


def test_getitem_scatter_adds_repeated_indices():
    x = scratch.tensor(np.zeros(4), requires_grad=True)
    x[np.array([0, 2, 2, 2, -1])].sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0, 3, 1])


def test_getitem_with_a_tensor_mask(leaves):
    (x,) = leaves((4, 3))
    assert gradcheck(lambda x: x[scratch.tensor(x.data > 0)], [x])


@pytest.mark.parametrize("indices, axis", [
    (np.array([2, 0, 2, 2]), 0), (np.array([[1, 1], [0, 3]]), 1), (np.array([-1, 0, -1]), -1), (np.array(2), 0),
], ids=str)
def test_take(leaves, indices, axis):
    assert gradcheck(lambda x: scratch.take(x, indices, axis), leaves((3, 4)))


def test_take_scatter_adds_repeated_indices():
    x = scratch.tensor(np.zeros((3, 2)), requires_grad=True)
    scratch.take(x, np.array([[2, 2], [2, 0]]), axis=0).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 1], [0, 0], [3, 3]])


@pytest.mark.parametrize("index, axis", [
    (np.array([[0, 0, 3], [2, 2, 2], [1, 0, 1]]), 1), (np.array([[2, 0, 2, 2], [1, 1, 0, 2]]), 0),
    (np.array([[3], [0], [3]]), -1), (np.array([[0, 3, 3, 1]]), 1),
], ids=str)
def test_gather(leaves, index, axis):
    assert gradcheck(lambda x: scratch.gather(x, index, axis), leaves((3, 4)))


def test_gather_broadcasts_x_against_index(leaves):
    assert gradcheck(lambda x: scratch.gather(x, np.array([[0, 3], [3, 3], [1, 0]]), axis=1), leaves((1, 4)))


def test_gather_scatter_adds_repeated_indices():
    x = scratch.tensor(np.zeros((2, 3)), requires_grad=True)
    scratch.gather(x, np.array([[1, 1, 1, 2], [0, 0, 2, 2]]), axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 3, 1], [2, 0, 2]])


@pytest.mark.parametrize("shapes, axis", [
    (((2, 3), (4, 3)), 0), (((2, 3), (2, 1), (2, 2)), -1), (((2, 3, 1), (2, 3, 2)), 2),
], ids=str)
def test_concatenate(leaves, shapes, axis):
    assert gradcheck(lambda *xs: scratch.concatenate(xs, axis=axis), leaves(*shapes))


def test_concatenate_with_a_constant(leaves):
    assert gradcheck(lambda x: scratch.concatenate([x, np.ones((1, 3))]), leaves((2, 3)))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(leaves, axis):
    assert gradcheck(lambda *xs: scratch.stack(xs, axis=axis), leaves((2, 3), (2, 3), (2, 3)))


@pytest.mark.parametrize("pad_width, value", [(1, 0.0), (((0, 2), (1, 0)), 0.0), ((2, 1), -3.0)], ids=str)
def test_pad(leaves, pad_width, value):
    assert gradcheck(lambda x: scratch.pad(x, pad_width, value), leaves((2, 3)))


@pytest.mark.parametrize("shapes", [
    ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)),
], ids=str)
def test_matmul(leaves, shapes):
    assert gradcheck(lambda a, b: a @ b, leaves(*shapes))


def test_matmul_with_a_constant_on_either_side(leaves, rng):
    (w,) = leaves((4, 5))
    x = rng.standard_normal((3, 4))
    assert gradcheck(lambda w: x @ w, [w])
    assert gradcheck(lambda w: w.T @ x.T, [w])
