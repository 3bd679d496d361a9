"""Every op and function against PyTorch in float64: forward values and the gradient of every input.

Each case runs the same computation on the same arrays in both frameworks, backpropagates the same
random output gradient, and compares with explicit tolerances (float64 with different summation
orders agrees to ~1e-12; the tolerances leave two orders of magnitude). Shapes are drawn at random
from fixed seeds. Dropout is left out: the two frameworks draw different masks.
"""
import numpy as np
import pytest

import scratch
from scratch import functional as F

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch
TF = torch.nn.functional

ATOL, RTOL = 1e-10, 1e-8


def crosscheck(ours, theirs, *arrays, seed=0):
    """Compare ours(*Tensors) with theirs(*torch tensors): forward, and gradients for every array."""
    xs = [scratch.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=ATOL, rtol=RTOL)
    upstream = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(upstream)
    ty.backward(torch.tensor(upstream))
    for i, (x, t) in enumerate(zip(xs, ts)):
        expected = np.zeros(x.shape) if t.grad is None else t.grad.numpy()
        actual = np.zeros(x.shape) if x.grad is None else x.grad
        np.testing.assert_allclose(actual, expected, atol=ATOL, rtol=RTOL, err_msg=f"gradient of input {i}")


def operand(rng, shape, positive, spread=1.0):
    """Entries uniform in [0.5, 2] where the op needs positive inputs (log, sqrt, powers), else spread·N(0, 1)."""
    return rng.uniform(0.5, 2, shape) if positive else spread * rng.standard_normal(shape)


def random_shape(rng, ndim_max=3):
    return tuple(int(n) for n in rng.integers(1, 5, size=rng.integers(1, ndim_max + 1)))


def broadcast_partner(rng, shape):
    """A shape that broadcasts with ``shape``: some axes set to 1, some leading axes dropped."""
    partner = [1 if rng.random() < 0.4 else n for n in shape]
    return tuple(partner[rng.integers(0, len(partner) + 1):])


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, False),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, False),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, False),
    "div": (lambda a, b: a / b, lambda a, b: a / b, True),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, True),
    "maximum": (scratch.maximum, torch.maximum, False),
    "minimum": (scratch.minimum, torch.minimum, False),
}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("name", BINARY)
def test_binary_ops_on_random_broadcasting_shapes(name, seed):
    ours, theirs, positive = BINARY[name]
    rng = np.random.default_rng(seed)
    shape = random_shape(rng)
    shapes = [shape, broadcast_partner(rng, shape)]
    if seed % 2:  # the broadcast operand on either side
        shapes.reverse()
    crosscheck(ours, theirs, *[operand(rng, s, positive) for s in shapes], seed=seed)


def test_maximum_ties_split_like_torch():
    crosscheck(scratch.maximum, torch.maximum, np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0]))


@pytest.mark.parametrize("seed", range(4))
def test_where(seed):
    rng = np.random.default_rng(seed)
    shape = random_shape(rng)
    condition = rng.random(shape) < 0.5
    crosscheck(lambda a, b: scratch.where(condition, a, b), lambda a, b: torch.where(torch.tensor(condition), a, b),
               rng.standard_normal(shape), rng.standard_normal(broadcast_partner(rng, shape)))


UNARY = {
    "neg": (lambda x: -x, lambda x: -x, False),
    "exp": (lambda x: x.exp(), torch.exp, False),
    "log": (lambda x: x.log(), torch.log, True),
    "sqrt": (lambda x: x.sqrt(), torch.sqrt, True),
    "abs": (lambda x: x.abs(), torch.abs, False),
    "tanh": (lambda x: x.tanh(), torch.tanh, False),
    "sigmoid": (F.sigmoid, torch.sigmoid, False),
    "relu": (F.relu, torch.relu, False),
    "silu": (F.silu, TF.silu, False),
    "gelu": (F.gelu, TF.gelu, False),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"), False),
    "clip": (lambda x: scratch.clip(x, -0.4, 0.8), lambda x: torch.clamp(x, -0.4, 0.8), False),
    "scalar ops": (lambda x: (2 - x) * 3 / (x + 4) + 2 ** x + x ** 3, lambda x: (2 - x) * 3 / (x + 4) + 2 ** x + x ** 3,
                   True),
}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", UNARY)
def test_unary_ops(name, seed):
    ours, theirs, positive = UNARY[name]
    rng = np.random.default_rng(seed)
    crosscheck(ours, theirs, operand(rng, random_shape(rng), positive, spread=3), seed=seed)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [0, -1, (0, 2), (2, 1, 0)], ids=str)
@pytest.mark.parametrize("ours, theirs", [("sum", torch.sum), ("mean", torch.mean), ("max", torch.amax),
                                          ("min", torch.amin)], ids=["sum", "mean", "max", "min"])
def test_reductions(ours, theirs, axis, keepdims):
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).round(0)  # rounding makes ties
    crosscheck(lambda x: getattr(x, ours)(axis=axis, keepdims=keepdims),
               lambda x: theirs(x, dim=axis, keepdim=keepdims), x)


@pytest.mark.parametrize("ours, theirs", [
    (lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6)),
    (lambda x: x.transpose(2, 0, 1), lambda x: x.permute(2, 0, 1)),
    (lambda x: x.T, lambda x: x.permute(2, 1, 0)),
    (lambda x: x[:, :1].broadcast_to((5, 2, 3, 4)), lambda x: x[:, :1].expand(5, 2, 3, 4)),
    (lambda x: x[1, ::2, 1:], lambda x: x[1, ::2, 1:]),
    (lambda x: x[:, [2, 0, 2, 2]], lambda x: x[:, [2, 0, 2, 2]]),
    (lambda x: x[[1, 1, 0], :, [3, 3, 0]], lambda x: x[[1, 1, 0], :, [3, 3, 0]]),
    (lambda x: x[x.data > 0], lambda x: x[x > 0]),
    (lambda x: scratch.take(x, np.array([2, 0, 2]), axis=1),
     lambda x: torch.index_select(x, 1, torch.tensor([2, 0, 2]))),
    (lambda x: scratch.gather(x, np.array([[[3, 3], [0, 1], [2, 3]]] * 2), axis=2),
     lambda x: torch.gather(x, 2, torch.tensor([[[3, 3], [0, 1], [2, 3]]] * 2))),
    (lambda x: scratch.pad(x, ((0, 0), (1, 2), (3, 0)), value=0.5), lambda x: TF.pad(x, (3, 0, 1, 2), value=0.5)),
], ids=["reshape", "transpose", "T", "broadcast", "slices", "int-array", "two-arrays", "mask", "take", "gather",
        "pad"])
def test_shape_ops(ours, theirs):
    crosscheck(ours, theirs, np.random.default_rng(2).standard_normal((2, 3, 4)))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    crosscheck(lambda a, b: scratch.concatenate([a, b, a], axis), lambda a, b: torch.cat([a, b, a], axis), a, b)
    crosscheck(lambda a, b: scratch.stack([a, b], axis), lambda a, b: torch.stack([a, b], axis), a, b)


@pytest.mark.parametrize("shapes", [
    ((3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((4,), (4,)),
], ids=str)
def test_matmul(shapes):
    rng = np.random.default_rng(4)
    crosscheck(lambda a, b: a @ b, lambda a, b: a @ b, *[rng.standard_normal(s) for s in shapes])


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(name, seed):
    rng = np.random.default_rng(seed)
    x = 5 * rng.standard_normal(random_shape(rng))
    axis = int(rng.integers(-x.ndim, x.ndim))
    crosscheck(lambda x: getattr(F, name)(x, axis=axis), lambda x: getattr(TF, name)(x, dim=axis), x)


@pytest.mark.parametrize("axis, keepdims", [(-1, False), ((0, 2), True), (1, True)], ids=str)
def test_logsumexp(axis, keepdims):
    x = 10 * np.random.default_rng(5).standard_normal((3, 4, 5))
    crosscheck(lambda x: F.logsumexp(x, axis, keepdims), lambda x: torch.logsumexp(x, dim=axis, keepdim=keepdims), x)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5)], ids=str)
def test_cross_entropy_and_nll_loss(shape, reduction):
    rng = np.random.default_rng(6)
    logits, targets = 4 * rng.standard_normal(shape), rng.integers(0, shape[-1], shape[:-1])
    class_second = (lambda x: x) if len(shape) == 2 else (lambda x: x.transpose(1, 2))
    crosscheck(lambda x: F.cross_entropy(x, targets, reduction),
               lambda x: TF.cross_entropy(class_second(x), torch.tensor(targets), reduction=reduction), logits)
    crosscheck(lambda x: F.nll_loss(F.log_softmax(x), targets, reduction),
               lambda x: TF.nll_loss(class_second(TF.log_softmax(x, -1)), torch.tensor(targets), reduction=reduction),
               logits)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_with_logits(reduction):
    rng = np.random.default_rng(7)
    crosscheck(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction),
               lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction=reduction),
               10 * rng.standard_normal((4, 5)), rng.random((4, 5)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(reduction):
    rng = np.random.default_rng(8)
    crosscheck(lambda p, t: F.mse_loss(p, t, reduction), lambda p, t: TF.mse_loss(p, t, reduction=reduction),
               rng.standard_normal((3, 4)), rng.standard_normal((3, 4)))


@pytest.mark.parametrize("seed", range(3))
def test_layer_norm(seed):
    rng = np.random.default_rng(seed)
    shape = random_shape(rng) + (int(rng.integers(2, 9)),)
    d = shape[-1]
    crosscheck(lambda x, w, b: F.layer_norm(x, w, b), lambda x, w, b: TF.layer_norm(x, (d,), w, b, eps=1e-5),
               rng.standard_normal(shape), rng.standard_normal(d), rng.standard_normal(d))
    crosscheck(F.layer_norm, lambda x: TF.layer_norm(x, (d,), eps=1e-5), rng.standard_normal(shape))


@pytest.mark.parametrize("seed", range(3))
def test_rms_norm(seed):
    rng = np.random.default_rng(seed)
    shape = random_shape(rng) + (int(rng.integers(2, 9)),)
    crosscheck(lambda x, w: F.rms_norm(x, w, eps=1e-6), lambda x, w: TF.rms_norm(x, shape[-1:], w, eps=1e-6),
               rng.standard_normal(shape), rng.standard_normal(shape[-1]))


def test_embedding():
    rng = np.random.default_rng(9)
    ids = rng.integers(0, 7, (3, 8))
    crosscheck(lambda w: F.embedding(w, ids), lambda w: TF.embedding(torch.tensor(ids), w),
               rng.standard_normal((7, 4)))


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), ((2, 1), (0, 2)), (3, (1, 0))], ids=str)
def test_conv2d(stride, padding):
    rng = np.random.default_rng(10)
    x, w, b = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((5, 3, 3, 2)), rng.standard_normal(5)
    crosscheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding),
               lambda x, w, b: TF.conv2d(x, w, b, stride, padding), x, w, b)


@pytest.mark.parametrize("kernel_size, stride", [(2, None), (3, 2), ((2, 3), (1, 2)), (3, 1)], ids=str)
@pytest.mark.parametrize("name", ["avg_pool2d", "max_pool2d"])
def test_pools(name, kernel_size, stride):
    x = np.random.default_rng(11).standard_normal((2, 3, 9, 8))
    crosscheck(lambda x: getattr(F, name)(x, kernel_size, stride),
               lambda x: getattr(TF, name)(x, kernel_size, stride), x)


def test_max_pool_ties_go_where_torch_sends_them():
    x = np.array([[[[1.0, 5.0, 5.0, 0.0], [5.0, 0.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0]]]])
    crosscheck(lambda x: F.max_pool2d(x, 2, 1), lambda x: TF.max_pool2d(x, 2, 1), x)
