"""Bad input raises where it enters, with a message naming the argument."""
import numpy as np
import pytest

import scratch
from scratch import Tensor
from scratch import functional as F

X4 = np.zeros((2, 3, 8, 8))
LOGITS = np.zeros((4, 3))
TABLE = np.zeros((5, 2))


@pytest.mark.parametrize("call, error, pattern", [
    # the engine
    (lambda: Tensor(np.arange(3), requires_grad=True), TypeError, "floating"),
    (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3))), ValueError, r"matmul: .*left operand .*right operand"),
    (lambda: Tensor(np.ones(3)) @ Tensor(np.ones(4)), ValueError, "matmul"),
    (lambda: Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 5))), ValueError, "batch axes"),
    (lambda: Tensor(np.ones(3)) @ Tensor(2.0), ValueError, "at least one dimension"),
    (lambda: scratch.take(np.ones(3), np.array([0.0]), 0), TypeError, "indices"),
    (lambda: scratch.take(np.ones(3), np.array([3]), 0), IndexError, "indices"),
    (lambda: scratch.gather(np.ones((2, 3)), np.array([[0], [-4]]), 1), IndexError, "index"),
    (lambda: scratch.clip(np.ones(3)), ValueError, "low and high"),
    (lambda: Tensor(np.ones((0, 2))).max(), ValueError, "empty"),
    # losses
    (lambda: F.cross_entropy(LOGITS, np.array([0.0, 1.0, 2.0, 0.0])), TypeError, "targets"),
    (lambda: F.cross_entropy(LOGITS, np.array([0, 1, 3, 0])), IndexError, "targets"),
    (lambda: F.cross_entropy(LOGITS, np.array([0, -1, 2, 0])), IndexError, "targets"),
    (lambda: F.cross_entropy(LOGITS, np.array([0, 1, 2])), ValueError, "targets"),
    (lambda: F.cross_entropy(LOGITS, np.array([0, 1, 2, 0]), reduction="avg"), ValueError, "reduction"),
    (lambda: F.cross_entropy(np.array(1.0), np.array(0)), ValueError, "logits"),
    (lambda: F.nll_loss(LOGITS, np.array([0, 1, 2, 5])), IndexError, "targets"),
    (lambda: F.binary_cross_entropy_with_logits(LOGITS, np.zeros(3)), ValueError, "targets"),
    (lambda: F.mse_loss(np.zeros((3, 1)), np.zeros(3)), ValueError, "target"),
    # layers
    (lambda: F.embedding(TABLE, np.array([0, 5])), IndexError, "ids"),
    (lambda: F.embedding(TABLE, np.array([-1])), IndexError, "ids"),
    (lambda: F.embedding(TABLE, np.array([0.0])), TypeError, "ids"),
    (lambda: F.embedding(np.zeros(5), np.array([0])), ValueError, "weight"),
    (lambda: F.conv2d(X4, np.zeros((4, 2, 3, 3))), ValueError, "weight"),
    (lambda: F.conv2d(X4[0], np.zeros((4, 3, 3, 3))), ValueError, "x"),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 3, 3)), np.zeros(3)), ValueError, "bias"),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 9, 3))), ValueError, "weight"),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 3, 3)), stride=0), ValueError, "stride"),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 3, 3)), padding=(1, -1)), ValueError, "padding"),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 3, 3)), stride=1.5), ValueError, "stride"),
    (lambda: F.max_pool2d(X4, 0), ValueError, "kernel_size"),
    (lambda: F.avg_pool2d(X4, 9), ValueError, "kernel_size"),
    (lambda: F.avg_pool2d(X4, 2, stride=(1, 2, 3)), ValueError, "stride"),
    (lambda: F.max_pool2d(np.zeros(4), 2), ValueError, "x"),
    (lambda: F.layer_norm(LOGITS, np.ones(4)), ValueError, "weight"),
    (lambda: F.layer_norm(LOGITS, None, np.ones((1, 3))), ValueError, "bias"),
    (lambda: F.rms_norm(LOGITS, np.ones(2)), ValueError, "weight"),
    (lambda: F.dropout(LOGITS, 1.0), ValueError, "p"),
    (lambda: F.dropout(LOGITS, -0.1), ValueError, "p"),
    (lambda: F.dropout(LOGITS, True), ValueError, "p"),
    (lambda: F.gelu(LOGITS, approximate="erf"), ValueError, "approximate"),
])
def test_bad_input_is_named(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_backward_needs_a_gradient_for_a_non_scalar_output():
    x = scratch.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="grad must be given"):
        (x * 2).backward()
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(np.ones(4))


@pytest.mark.parametrize("call, culprit", [
    (lambda bad: F.cross_entropy(bad, np.array([0, 1, 2, 0])), "logits"),
    (lambda bad: F.nll_loss(bad, np.array([0, 1, 1, 0])), "log_probs"),
    (lambda bad: F.binary_cross_entropy_with_logits(bad, np.zeros((4, 3))), "logits"),
    (lambda bad: F.binary_cross_entropy_with_logits(np.zeros((4, 3)), bad), "targets"),
    (lambda bad: F.mse_loss(bad, np.zeros((4, 3)), reduction="none"), "pred"),
    (lambda bad: F.mse_loss(np.zeros((4, 3)), bad, reduction="sum"), "target"),
])
def test_a_nan_loss_names_the_input_that_caused_it(call, culprit):
    bad = np.zeros((4, 3))
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=f"loss is NaN: {culprit} contain"):
        call(bad)
