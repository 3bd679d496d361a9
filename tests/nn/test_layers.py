"""Layers: float64 gradient checks w.r.t. the input and every parameter, initialisation, argument checks."""
import math

import numpy as np
import pytest
from scipy import special

from scratch import Tensor, gradcheck, nn

F64 = {"dtype": np.float64}


def check_layer(layer, x):
    """gradcheck of ``layer(x)`` w.r.t. ``x`` and every parameter of ``layer``."""
    x = Tensor(x, requires_grad=True)
    params = list(layer.parameters())
    assert all(p.dtype == np.float64 for p in params)
    assert gradcheck(lambda x, *params: layer(x), [x, *params])


# ----------------------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("shape", [(3,), (5, 3), (2, 4, 3)])
def test_linear_gradcheck(shape, rng):
    layer = nn.Linear(3, 2, rng=rng, **F64)
    check_layer(layer, rng.standard_normal(shape))
    assert layer(np.zeros(shape)).shape == shape[:-1] + (2,)


def test_linear_without_bias_gradcheck(rng):
    layer = nn.Linear(3, 2, bias=False, rng=rng, **F64)
    assert layer.bias is None and len(list(layer.parameters())) == 1
    check_layer(layer, rng.standard_normal((4, 3)))


def test_linear_computes_x_w_transposed_plus_b(rng):
    layer = nn.Linear(3, 2, rng=rng, **F64)
    x = rng.standard_normal((4, 3))
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-14)


def test_embedding_gradcheck_with_repeated_ids(rng):
    layer = nn.Embedding(5, 3, rng=rng, **F64)
    ids = np.array([[0, 2, 2], [4, 0, 2]])
    assert gradcheck(lambda w: layer(ids), [layer.weight])
    np.testing.assert_array_equal(layer(ids).data, layer.weight.data[ids])


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient(rng):
    layer = nn.Embedding(5, 3, padding_idx=-1, rng=rng, **F64)
    assert layer.padding_idx == 4 and not layer.weight.data[4].any()
    layer.weight.data[4] = 1.0
    ids = np.array([4, 1, 4, 1])
    out = layer(ids)
    np.testing.assert_array_equal(out.data, layer.weight.data[ids])
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad[4], 0.0)
    np.testing.assert_array_equal(layer.weight.grad[1], 2.0)
    assert gradcheck(lambda w: layer(np.array([0, 3, 1, 3])), [layer.weight])


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_gradcheck(affine, rng):
    layer = nn.LayerNorm(4, elementwise_affine=affine, **F64)
    for p in layer.parameters():
        p.data = rng.standard_normal(p.shape)
    check_layer(layer, rng.standard_normal((2, 3, 4)))


@pytest.mark.parametrize("weight", [True, False])
def test_rms_norm_gradcheck(weight, rng):
    layer = nn.RMSNorm(4, weight=weight, **F64)
    for p in layer.parameters():
        p.data = rng.standard_normal(p.shape)
    check_layer(layer, rng.standard_normal((3, 4)))


@pytest.mark.parametrize("eps", [1e-5, 0.2])
def test_affine_norm_layers_compute_the_formula(rng, eps):
    """LayerNorm: (x − μ)/√(σ² + ε)·γ + β, RMSNorm: x/√(mean x² + ε)·γ, with random γ, β, written out in float64."""
    x = rng.standard_normal((4, 2, 5)) * rng.uniform(0.2, 3, (4, 2, 1)) + rng.standard_normal((4, 2, 1))
    layer = nn.LayerNorm(5, eps=eps, **F64)
    layer.weight.data, layer.bias.data = rng.standard_normal(5), rng.standard_normal(5)
    mu = x.sum(-1, keepdims=True) / 5
    sigma2 = ((x - mu) ** 2).sum(-1, keepdims=True) / 5
    expected = (x - mu) / np.sqrt(sigma2 + eps) * layer.weight.data + layer.bias.data
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-13, atol=1e-14)
    rms_layer = nn.RMSNorm(5, eps=eps, **F64)
    rms_layer.weight.data = rng.standard_normal(5)
    expected = x / np.sqrt((x**2).sum(-1, keepdims=True) / 5 + eps) * rms_layer.weight.data
    np.testing.assert_allclose(rms_layer(x).data, expected, rtol=1e-13, atol=1e-14)


def test_norms_normalise_the_last_axis(rng):
    x = rng.standard_normal((5, 6)) * 3 + 1
    y = nn.LayerNorm(6, eps=1e-12, **F64)(x).data
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1, rtol=1e-9)
    z = nn.RMSNorm(6, eps=1e-12, **F64)(x).data
    np.testing.assert_allclose((z**2).mean(axis=-1), 1, rtol=1e-9)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((1, 2), (2, 0))])
def test_conv2d_gradcheck(stride, padding, rng):
    layer = nn.Conv2d(2, 3, (3, 2), stride=stride, padding=padding, rng=rng, **F64)
    check_layer(layer, rng.standard_normal((2, 2, 5, 6)))


def test_conv2d_output_shape(rng):
    layer = nn.Conv2d(2, 4, 3, stride=2, padding=1, rng=rng)
    assert layer(np.zeros((1, 2, 7, 8), np.float32)).shape == (1, 4, 4, 4)


def test_sequential_mlp_gradcheck(rng):
    mlp = nn.Sequential(
        nn.Flatten(),
        nn.Linear(6, 5, rng=rng, **F64), nn.Tanh(),
        nn.Linear(5, 5, rng=rng, **F64), nn.GELU(),
        nn.Linear(5, 4, rng=rng, **F64), nn.SiLU(),
        nn.LayerNorm(4, **F64), nn.Sigmoid(),
        nn.Linear(4, 2, rng=rng, **F64),
    )
    check_layer(mlp, rng.standard_normal((3, 2, 3)))


@pytest.mark.parametrize("pool", [nn.MaxPool2d(2), nn.AvgPool2d((2, 3), stride=1)])
def test_pooling_gradcheck(pool, rng):
    assert gradcheck(pool, [Tensor(rng.standard_normal((2, 3, 4, 5)), requires_grad=True)])


def test_pooling_values():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).data, [[[[5, 7], [13, 15]]]])
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).data, [[[[2.5, 4.5], [10.5, 12.5]]]])
    assert nn.MaxPool2d(3, stride=1)(x).shape == (1, 1, 2, 2)


def test_small_conv_net_gradcheck(rng):
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, rng=rng, **F64), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(2, 2, 2, rng=rng, **F64), nn.AvgPool2d(2), nn.Flatten(),
                        nn.Linear(2, 3, rng=rng, **F64))
    check_layer(net, rng.standard_normal((2, 1, 6, 6)))


@pytest.mark.parametrize("module, function", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    (nn.GELU(), lambda x: x * (1 + special.erf(x / math.sqrt(2))) / 2),
    (nn.GELU(approximate="tanh"), lambda x: x / 2 * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
])
def test_activations(module, function, rng):
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(module(x).data, function(x), rtol=1e-12, atol=1e-15)


def test_flatten():
    x = np.zeros((2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)
    with pytest.raises(ValueError, match="cannot merge axes 1..-1 of an input of shape \\(4,\\)"):
        nn.Flatten()(np.zeros(4))


# ----------------------------------------------------------------------------- dropout
def test_dropout_is_the_identity_in_eval():
    layer = nn.Dropout(0.5, rng=np.random.default_rng(0)).eval()
    x = np.arange(6.0)
    np.testing.assert_array_equal(layer(x).data, x)


def test_dropout_drops_and_rescales_in_training():
    layer = nn.Dropout(0.25, rng=np.random.default_rng(0))
    y = layer(np.ones(10_000)).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-12)
    assert kept.mean() == pytest.approx(0.75, abs=0.02)


def test_dropout_seed_reproduces_masks():
    x = np.ones(50)
    first = nn.Dropout(0.5, rng=np.random.default_rng(3))(x).data
    second = nn.Dropout(0.5, rng=np.random.default_rng(3))(x).data
    np.testing.assert_array_equal(first, second)


# ----------------------------------------------------------------------------- initialisation
@pytest.mark.parametrize("make, fan_in", [
    (lambda rng: nn.Linear(50, 400, rng=rng), 50),
    (lambda rng: nn.Conv2d(4, 300, (3, 5), rng=rng), 60),
])
def test_torch_default_init_bounds(make, fan_in):
    layer = make(np.random.default_rng(0))
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.95 * bound
    assert layer.weight.data.var() == pytest.approx(bound**2 / 3, rel=0.02)


def test_embedding_init_is_standard_normal():
    weight = nn.Embedding(1000, 50, rng=np.random.default_rng(0)).weight.data
    assert abs(weight.mean()) < 0.01 and weight.std() == pytest.approx(1.0, rel=0.01)


def test_norm_init_is_identity_affine():
    layer = nn.LayerNorm(3)
    np.testing.assert_array_equal(layer.weight.data, 1)
    np.testing.assert_array_equal(layer.bias.data, 0)
    np.testing.assert_array_equal(nn.RMSNorm(3).weight.data, 1)


def test_a_seed_reproduces_a_model():
    def make(seed):
        rng = np.random.default_rng(seed)
        return nn.Sequential(nn.Embedding(7, 4, rng=rng), nn.Linear(4, 3, rng=rng), nn.Conv2d(3, 2, 1, rng=rng))

    first, second, other = make(5).state_dict(), make(5).state_dict(), make(6).state_dict()
    assert all(np.array_equal(first[k], second[k]) for k in first)
    assert not np.array_equal(first["1.weight"], other["1.weight"])


# ----------------------------------------------------------------------------- argument checks
@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.Linear(0, 3), ValueError, "in_features must be a positive integer, got 0"),
    (lambda: nn.Linear(3, 2.5), ValueError, "out_features must be a positive integer, got 2.5"),
    (lambda: nn.Linear(3, 2, dtype=np.int32), TypeError, "dtype must be a floating-point dtype"),
    (lambda: nn.Linear(3, 2, rng=42), TypeError, "rng must be a numpy.random.Generator"),
    (lambda: nn.Embedding(True, 3), ValueError, "num_embeddings must be a positive integer"),
    (lambda: nn.Embedding(5, -3), ValueError, "embedding_dim must be a positive integer"),
    (lambda: nn.Embedding(5, 3, padding_idx=5), ValueError, r"padding_idx must be an integer in \[-5, 4\]"),
    (lambda: nn.Embedding(5, 3, padding_idx=True), ValueError, r"padding_idx must be an integer in \[-5, 4\]"),
    (lambda: nn.LayerNorm(0), ValueError, "dim must be a positive integer"),
    (lambda: nn.LayerNorm(4, eps=0.0), ValueError, r"eps must be in \(0, inf\), got 0.0"),
    (lambda: nn.RMSNorm(4, eps=-1e-6), ValueError, r"eps must be in \(0, inf\)"),
    (lambda: nn.LayerNorm(4, eps=float("inf")), ValueError, "eps must be a finite real number, got inf"),
    (lambda: nn.RMSNorm(4, eps=float("nan")), ValueError, "eps must be a finite real number, got nan"),
    (lambda: nn.LayerNorm(4, elementwise_affine="no"), ValueError, "elementwise_affine must be True or False"),
    (lambda: nn.RMSNorm(4, weight=1), ValueError, "weight must be True or False"),
    (lambda: nn.Linear(True, 3), ValueError, "in_features must be a positive integer, got True"),
    (lambda: nn.Linear(3, np.True_), ValueError, "out_features must be a positive integer, got "),
    (lambda: nn.Linear(3, 2, bias=0), ValueError, "bias must be True or False, got 0"),
    (lambda: nn.Conv2d(2, 3, True), ValueError, "kernel_size must be an integer >= 1 or a pair"),
    (lambda: nn.Conv2d(2, 3, 3, stride=(1, True)), ValueError, "stride must be an integer >= 1 or a pair"),
    (lambda: nn.Conv2d(2, 3, 3, bias="yes"), ValueError, "bias must be True or False"),
    (lambda: nn.LayerNorm(True), ValueError, "dim must be a positive integer, got True"),
    (lambda: nn.Conv2d(0, 3, 3), ValueError, "in_channels must be a positive integer"),
    (lambda: nn.Conv2d(2, 3, (3, 0)), ValueError, "kernel_size must be an integer >= 1 or a pair"),
    (lambda: nn.Conv2d(2, 3, 3, stride=0), ValueError, "stride must be an integer >= 1 or a pair"),
    (lambda: nn.Conv2d(2, 3, 3, padding=(1, 1, 1)), ValueError, "padding must be an integer >= 0 or a pair"),
    (lambda: nn.MaxPool2d(0), ValueError, "kernel_size must be an integer >= 1 or a pair"),
    (lambda: nn.AvgPool2d(2, stride=(1, 0)), ValueError, "stride must be an integer >= 1 or a pair"),
    (lambda: nn.Dropout(1.0), ValueError, r"p must be in \[0, 1\), got 1.0"),
    (lambda: nn.Dropout(-0.1), ValueError, r"p must be in \[0, 1\)"),
    (lambda: nn.Dropout(True), ValueError, "p must be a finite real number, got True"),
    (lambda: nn.Dropout(float("nan")), ValueError, "p must be a finite real number, got nan"),
    (lambda: nn.GELU("erf"), ValueError, "approximate must be one of 'none', 'tanh'; got 'erf'"),
    (lambda: nn.Flatten(1.5), ValueError, "start_dim must be an integer, got 1.5"),
    (lambda: nn.Flatten(1, True), ValueError, "end_dim must be an integer, got True"),
])
def test_constructors_name_the_bad_argument(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_inputs_of_the_wrong_shape_are_named(rng):
    with pytest.raises(ValueError, match=r"in_features=3 entries on its last axis, got shape \(2, 4\)"):
        nn.Linear(3, 2)(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"Conv2d: x must be \(N, in_channels=2, H, W\), got shape \(1, 3, 5, 5\)"):
        nn.Conv2d(2, 3, 3)(np.zeros((1, 3, 5, 5), np.float32))


def test_float32_layers_keep_float32(rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, rng=rng), nn.ReLU(), nn.Flatten(), nn.Linear(64, 8, rng=rng),
                          nn.LayerNorm(8), nn.RMSNorm(8), nn.Dropout(0.1, rng=rng))
    out = model(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
