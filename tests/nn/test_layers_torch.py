"""Layers against torch.nn with copied weights, float64: forward values and every gradient (skipped without torch)."""
import numpy as np
import pytest

from scratch import Tensor, nn

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

F64 = {"dtype": np.float64}


def assert_same_as_torch(ours, theirs, x, rng):
    """Copy ``ours``'s parameters into ``theirs``, run both on ``x`` and compare outputs and all gradients."""
    with torch.no_grad():
        for name, p in ours.named_parameters():
            theirs.get_parameter(name).copy_(torch.from_numpy(p.data))
    x_ours = Tensor(x, requires_grad=True)
    x_theirs = torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(y_ours.data, y_theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = rng.standard_normal(y_ours.shape)
    y_ours.backward(upstream)
    y_theirs.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, theirs.get_parameter(name).grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("shape", [(3,), (5, 3), (2, 4, 3)])
def test_linear(shape, rng):
    assert_same_as_torch(nn.Linear(3, 2, rng=rng, **F64), torch.nn.Linear(3, 2, dtype=torch.float64),
                         rng.standard_normal(shape), rng)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((2, 1), (0, 2))])
def test_conv2d(stride, padding, rng):
    ours = nn.Conv2d(3, 4, (3, 2), stride=stride, padding=padding, rng=rng, **F64)
    theirs = torch.nn.Conv2d(3, 4, (3, 2), stride=stride, padding=padding, dtype=torch.float64)
    assert_same_as_torch(ours, theirs, rng.standard_normal((2, 3, 7, 6)), rng)


def test_layer_norm(rng):
    ours = nn.LayerNorm(5, eps=1e-5, **F64)
    for p in ours.parameters():
        p.data = rng.standard_normal(p.shape)
    assert_same_as_torch(ours, torch.nn.LayerNorm(5, eps=1e-5, dtype=torch.float64),
                         rng.standard_normal((2, 3, 5)), rng)


def test_rms_norm(rng):
    ours = nn.RMSNorm(5, eps=1e-6, **F64)
    ours.weight.data = rng.standard_normal(5)
    assert_same_as_torch(ours, torch.nn.RMSNorm(5, eps=1e-6, dtype=torch.float64), rng.standard_normal((4, 5)), rng)


def test_mlp(rng):
    ours = nn.Sequential(nn.Linear(6, 8, rng=rng, **F64), nn.GELU(), nn.Linear(8, 3, rng=rng, **F64))
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.GELU(), torch.nn.Linear(8, 3)).double()
    assert_same_as_torch(ours, theirs, rng.standard_normal((4, 6)), rng)


def test_conv_net_with_pooling(rng):
    ours = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, rng=rng, **F64), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 3, 2, rng=rng, **F64), nn.AvgPool2d(2, stride=1), nn.Flatten(),
                         nn.Linear(3 * 2 * 2, 5, rng=rng, **F64))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.Conv2d(4, 3, 2), torch.nn.AvgPool2d(2, stride=1), torch.nn.Flatten(),
                                 torch.nn.Linear(12, 5)).double()
    assert_same_as_torch(ours, theirs, rng.standard_normal((2, 2, 8, 8)), rng)
