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


# True is an int to Python and inf a float: both must be refused where a count or a finite float is expected
@pytest.mark.parametrize("call, pattern", [
    (lambda: F.dropout(LOGITS, float("nan")), "p must be a finite real number, got nan"),
    (lambda: F.dropout(LOGITS, np.float32(np.inf)), r"p must be a finite real number, got (np.float32\()?inf"),
    (lambda: F.dropout(LOGITS, 0.5, training="yes"), "training must be True or False, got 'yes'"),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 3, 3)), stride=True), "stride must be an integer >= 1 or a pair"),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 3, 3)), padding=(0, True)), "padding must be an integer >= 0 or a pair"),
    (lambda: F.max_pool2d(X4, True), "kernel_size must be an integer >= 1 or a pair"),
    (lambda: F.avg_pool2d(X4, 2, stride=np.True_), "stride must be an integer >= 1 or a pair"),
    (lambda: F.layer_norm(LOGITS, eps=float("inf")), "eps must be a finite real number, got inf"),
    (lambda: F.rms_norm(LOGITS, eps=-1.0), r"eps must be in \[0, inf\), got -1.0"),
    (lambda: F.softmax(LOGITS, axis=True), "axis must be an integer, got True"),
    (lambda: F.log_softmax(LOGITS, axis=1.0), "axis must be an integer, got 1.0"),
    (lambda: F.mse_loss(LOGITS, LOGITS, reduction=True), "reduction must be one of 'mean', 'sum', 'none'; got True"),
])
def test_bools_and_non_finite_floats_are_refused_by_name(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


@pytest.mark.parametrize("call, name", [
    (lambda: F.cross_entropy(np.zeros((0, 3)), np.zeros(0, np.int64)), "logits"),
    (lambda: F.nll_loss(np.zeros((0, 3)), np.zeros(0, np.int64)), "log_probs"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros((0, 2)), np.zeros((0, 2))), "logits"),
    (lambda: F.mse_loss(np.zeros(0), np.zeros(0)), "pred"),
])
def test_the_mean_loss_of_an_empty_batch_is_an_error_naming_the_input(call, name):
    with pytest.raises(ValueError, match=rf"^{name} is an empty batch \(shape \(0,"):
        call()


def test_an_empty_batch_sums_to_zero_and_has_no_per_example_losses():
    empty, targets = np.zeros((0, 3)), np.zeros(0, np.int64)
    assert F.cross_entropy(empty, targets, reduction="sum").item() == 0.0
    assert F.cross_entropy(empty, targets, reduction="none").shape == (0,)


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
