"""float32 in → float32 out, forward and backward, for every op and function (dtype never silently changes)."""
import numpy as np
import pytest

import scratch
from scratch import Tensor
from scratch import functional as F

TARGETS = np.array([1, 0, 3])
CONDITION = np.array([[True, False, True, False]] * 3)

# name: (function of float32 tensors, input shapes, inputs positive)
CASES = {
    "add": (lambda a, b: a + b, [(3, 4), (4,)], False),
    "sub": (lambda a, b: a - b, [(3, 4), (3, 1)], False),
    "mul": (lambda a, b: a * b, [(3, 4), (3, 4)], False),
    "div": (lambda a, b: a / b, [(3, 4), (4,)], True),
    "pow": (lambda a, b: a ** b, [(3, 4), (3, 4)], True),
    "scalars": (lambda a: (2.5 - a * 0.5 + 1) / 3 + 2 ** a - a ** 2, [(3, 4)], True),
    "numpy scalars": (lambda a: a * np.float64(0.5) + np.float64(2.0) / np.sqrt(a.shape[-1]), [(3, 4)], False),
    "maximum": (lambda a, b: scratch.maximum(a, b) + scratch.maximum(a, 0), [(3, 4), (3, 4)], False),
    "minimum": (lambda a, b: scratch.minimum(a, b) + scratch.minimum(1, a), [(3, 4), (3, 4)], False),
    "where": (lambda a, b: scratch.where(CONDITION, a, b) + scratch.where(CONDITION, 0.0, a), [(3, 4), (3, 4)], False),
    "neg": (lambda a: -a, [(3, 4)], False),
    "exp": (lambda a: a.exp(), [(3, 4)], False),
    "log": (lambda a: a.log(), [(3, 4)], True),
    "sqrt": (lambda a: a.sqrt(), [(3, 4)], True),
    "abs": (lambda a: a.abs(), [(3, 4)], False),
    "tanh": (lambda a: a.tanh(), [(3, 4)], False),
    "sigmoid": (lambda a: a.sigmoid(), [(3, 4)], False),
    "relu": (lambda a: a.relu(), [(3, 4)], False),
    "clip": (lambda a: scratch.clip(a, -0.5, 0.5), [(3, 4)], False),
    "astype": (lambda a: a.astype(np.float32), [(3, 4)], False),
    "sum": (lambda a: a.sum(axis=0), [(3, 4)], False),
    "mean": (lambda a: a.mean(axis=(0, 1), keepdims=True), [(3, 4)], False),
    "max": (lambda a: a.max(axis=1), [(3, 4)], False),
    "min": (lambda a: a.min(), [(3, 4)], False),
    "reshape": (lambda a: a.reshape(4, 3).T.swapaxes(0, 1), [(3, 4)], False),
    "broadcast_to": (lambda a: scratch.broadcast_to(a, (2, 3, 4)), [(3, 4)], False),
    "getitem": (lambda a: a[1:, ::2] + a[[0, 0], [1, 2]][:, None] + a[a.data > 0].sum(), [(3, 4)], False),
    "take": (lambda a: scratch.take(a, np.array([0, 0, 2]), axis=1), [(3, 4)], False),
    "gather": (lambda a: scratch.gather(a, np.array([[0], [3], [3]]), axis=1), [(3, 4)], False),
    "concatenate": (lambda a, b: scratch.concatenate([a, b], axis=0), [(3, 4), (1, 4)], False),
    "stack": (lambda a, b: scratch.stack([a, b], axis=1), [(3, 4), (3, 4)], False),
    "pad": (lambda a: scratch.pad(a, 1, value=2.0), [(3, 4)], False),
    "matmul": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)], False),
    "matmul 1-D": (lambda a, b: a @ b, [(4,), (4,)], False),
    "silu": (F.silu, [(3, 4)], False),
    "gelu": (F.gelu, [(3, 4)], False),
    "gelu tanh": (lambda a: F.gelu(a, approximate="tanh"), [(3, 4)], False),
    "softmax": (F.softmax, [(3, 4)], False),
    "log_softmax": (lambda a: F.log_softmax(a, axis=0), [(3, 4)], False),
    "logsumexp": (lambda a: F.logsumexp(a, axis=None), [(3, 4)], False),
    "cross_entropy": (lambda a: F.cross_entropy(a, TARGETS), [(3, 4)], False),
    "nll_loss": (lambda a: F.nll_loss(a, TARGETS, reduction="none"), [(3, 4)], False),
    "bce with integer targets": (lambda a: F.binary_cross_entropy_with_logits(a, CONDITION.astype(int)), [(3, 4)],
                                 False),
    "bce": (F.binary_cross_entropy_with_logits, [(3, 4), (3, 4)], True),
    "mse_loss": (lambda a: F.mse_loss(a, np.zeros((3, 4))), [(3, 4)], False),
    "layer_norm": (F.layer_norm, [(3, 4), (4,), (4,)], False),
    "rms_norm": (F.rms_norm, [(3, 4), (4,)], False),
    "dropout": (lambda a: F.dropout(a, 0.5, rng=np.random.default_rng(0)), [(3, 4)], False),
    "embedding": (lambda a: F.embedding(a, np.array([[0, 2], [2, 2]])), [(3, 4)], False),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(2, 3, 6, 5), (4, 3, 3, 3), (4,)], False),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2, 1), [(2, 3, 6, 5)], False),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2), [(2, 3, 6, 5)], False),
}


@pytest.mark.parametrize("name", CASES)
def test_float32_in_float32_out(rng, monkeypatch, name):
    fn, shapes, positive = CASES[name]
    inputs = [Tensor((rng.uniform(0.5, 2, s) if positive else rng.standard_normal(s)).astype(np.float32),
                     requires_grad=True) for s in shapes]
    out = fn(*inputs)
    assert out.dtype == np.float32

    arriving = []
    accumulate = Tensor._accumulate

    def record_dtype(self, g, mine=False):
        arriving.append(g.dtype)
        accumulate(self, g, mine)

    monkeypatch.setattr(Tensor, "_accumulate", record_dtype)
    out.backward(np.ones(out.shape, np.float32))
    assert arriving and all(dtype == np.float32 for dtype in arriving)
    assert all(x.grad.dtype == np.float32 for x in inputs)
