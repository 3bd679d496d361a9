"""The fused paths of the engine against the composites they replace: causal attention as one node,
GELU's float32 normal CDF, and the one-GEMM product of stacked rows with a matrix."""
import numpy as np
import pytest
from scipy import special

from scratch import Tensor
from scratch import functional as F
from scratch import gradcheck
from scratch.autograd.functional import attention as attention_module
from scratch.kernels import NUMPY
from scratch.kernels.window_attention import log_n_factors, window_attention


def composite_attention(q, k, v, scale=None, row_scale=None):
    """The primitive ops: scores, masked softmax, a product with v."""
    mask = F.causal_mask(q.shape[2])
    return F.dense_attention(q, k, v, mask=mask, scale=scale, row_scale=row_scale)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 2 batch rows for (B, 2, 5, D) float64, so a batch of 5 ends in a partial block."""
    monkeypatch.setattr(attention_module, "BLOCK_BYTES", 2 * 2 * 5 * 5 * 8)
    assert [part.stop for part in attention_module.batch_blocks((5, 2, 5, 3), 8)] == [2, 4, 5]


@pytest.mark.parametrize("row_scale", [None, np.log(np.arange(1, 6)) / np.log(3.0) + 0.5])
def test_causal_attention_gradcheck_across_blocks(leaves, small_blocks, row_scale):
    q, k, v = leaves((5, 2, 5, 3), (5, 2, 5, 3), (5, 2, 5, 3))
    assert gradcheck(lambda q, k, v: F.causal_attention(q, k, v, scale=0.7, row_scale=row_scale), [q, k, v])


@pytest.mark.parametrize("row_scale", [None, np.linspace(0.5, 2.0, 5)])
def test_causal_attention_equals_the_composite_across_blocks(leaves, rng, small_blocks, row_scale):
    inputs = leaves((5, 2, 5, 3), (5, 2, 5, 3), (5, 2, 5, 3))
    copies = [Tensor(x.data.copy(), requires_grad=True) for x in inputs]
    fused = F.causal_attention(*inputs, row_scale=row_scale)
    reference = composite_attention(*copies, row_scale=row_scale)
    np.testing.assert_allclose(fused.data, reference.data, rtol=1e-12, atol=1e-14)
    upstream = rng.standard_normal(fused.shape)
    fused.backward(upstream)
    reference.backward(upstream)
    for ours, theirs in zip(inputs, copies):
        np.testing.assert_allclose(ours.grad, theirs.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True)])
def test_causal_attention_gives_only_the_gradients_asked_for(rng, small_blocks, needs):
    arrays = [rng.standard_normal((5, 2, 5, 3)) for _ in range(3)]
    ours = [Tensor(a, requires_grad=need) for a, need in zip(arrays, needs)]
    theirs = [Tensor(a.copy(), requires_grad=need) for a, need in zip(arrays, needs)]
    upstream = rng.standard_normal((5, 2, 5, 3))
    F.causal_attention(*ours).backward(upstream)
    composite_attention(*theirs).backward(upstream)
    for a, b, need in zip(ours, theirs, needs):
        assert (a.grad is None) == (not need)
        if need:
            np.testing.assert_allclose(a.grad, b.grad, rtol=1e-10, atol=1e-12)


def test_causal_attention_float32_equals_the_window_kernel_at_full_width(rng):
    """The model's two paths for full attention (B·H·T² well past one block of the batch)."""
    q, k, v = (Tensor(rng.standard_normal((9, 4, 70, 16)).astype(np.float32), requires_grad=True) for _ in range(3))
    c = log_n_factors(70, 70, 32)
    fused = F.causal_attention(q, k, v, row_scale=c)
    assert len(attention_module.batch_blocks(q.shape, 4)) > 1 and fused.dtype == np.float32
    upstream = rng.standard_normal(fused.shape).astype(np.float32)
    fused.backward(upstream)
    grads = [x.grad for x in (q, k, v)]
    for x in (q, k, v):
        x.grad = None
    kernel = window_attention(q, k, v, 70, log_n=32)
    kernel.backward(upstream)
    np.testing.assert_allclose(fused.data, kernel.data, rtol=1e-4, atol=1e-5)
    for ours, x in zip(grads, (q, k, v)):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, x.grad, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("which", [0, 1, 2, 3])
def test_a_nan_propagates_like_the_window_reference(rng, small_blocks, which):
    """A NaN in q, k, v or the upstream gradient reaches exactly the entries the reference makes NaN:
    a later key never reaches an earlier query (its probability is 0, and 0 · NaN is not formed)."""
    arrays = [rng.standard_normal((5, 2, 5, 3)) for _ in range(4)]
    arrays[which][3, 1, 2, 1] = np.nan
    results = []
    for attend in (lambda q, k, v: F.causal_attention(q, k, v),
                   lambda q, k, v: window_attention(q, k, v, 5, implementation=NUMPY)):
        q, k, v = (Tensor(a.copy(), requires_grad=True) for a in arrays[:3])
        o = attend(q, k, v)
        o.backward(arrays[3])
        results.append([o.data, q.grad, k.grad, v.grad])
    assert any(np.isnan(ours).any() for ours in results[0])
    for ours, reference in zip(*results):
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


def test_causal_attention_checks_its_arguments(rng):
    x = rng.standard_normal((1, 2, 3, 4))
    with pytest.raises(ValueError, match="q, k, v"):
        F.causal_attention(x, x[..., :2], x)
    with pytest.raises(ValueError, match="row_scale"):
        F.causal_attention(x, x, x, row_scale=np.ones(4))


def test_gelu_float32_is_within_float32_rounding_of_the_exact_form():
    x = np.concatenate([np.linspace(-12, 12, 240001), [0.0, -0.0]]).astype(np.float32)
    leaf = Tensor(x, requires_grad=True)
    y = F.gelu(leaf)
    y.backward(np.ones_like(x))
    x64 = x.astype(np.float64)
    cdf = special.ndtr(x64)
    exact = x64 * cdf
    derivative = cdf + x64 * np.exp(-0.5 * x64 ** 2) / np.sqrt(2 * np.pi)
    assert y.dtype == np.float32 and leaf.grad.dtype == np.float32
    # in float32 ulps of max(1, |x|): Φ's fit rounds in a dozen float32 steps (≤ 2.3 ulps measured), the
    # derivative Φ + xφ adds φ's rounding (≤ 4.6 ulps measured); torch's float32 GELU is off by ~20 ulps
    ulp = 2.0 ** -24 * np.maximum(1, np.abs(x64))
    np.testing.assert_array_less(np.abs(y.data - exact), 3 * ulp)
    np.testing.assert_array_less(np.abs(leaf.grad - derivative), 6 * ulp)
    tail = exact < -1e-30  # the left tail, where Φ is tiny: relative accuracy, not just absolute
    np.testing.assert_allclose(y.data[tail], exact[tail], rtol=2e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_over_several_blocks_of_a_strided_input(rng, dtype):
    """Blocks of ELEMENTWISE_BLOCK elements, a partial last one, and an input that is a transposed view."""
    x = rng.standard_normal((3, 7, 2 ** 14 + 5)).astype(dtype).transpose(2, 0, 1)
    leaf = Tensor(x, requires_grad=True)
    y = F.gelu(leaf)
    upstream = rng.standard_normal(x.shape).astype(dtype)
    y.backward(upstream)
    x64 = x.astype(np.float64)
    cdf = special.ndtr(x64)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(y.data, x64 * cdf, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(leaf.grad, upstream * (cdf + x64 * np.exp(-0.5 * x64 ** 2) / np.sqrt(2 * np.pi)),
                               rtol=rtol, atol=rtol)


def test_gelu_float32_propagates_non_finite_like_the_exact_form():
    x = np.array([np.nan, np.inf, -np.inf], np.float32)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(F.gelu(x).data, x.astype(np.float64) * special.ndtr(x.astype(np.float64)))


@pytest.mark.parametrize("a_shape, b_shape", [((2, 3, 4), (4, 5)), ((3, 1, 2, 4), (4, 2)), ((2, 0, 4), (4, 3)),
                                              ((2, 3, 0), (0, 3))])
def test_matmul_of_stacked_rows_equals_einsum(rng, a_shape, b_shape):
    a, b = Tensor(rng.standard_normal(a_shape), requires_grad=True), Tensor(rng.standard_normal(b_shape),
                                                                           requires_grad=True)
    z = a @ b
    np.testing.assert_allclose(z.data, np.einsum("...k,kn->...n", a.data, b.data), rtol=1e-12, atol=1e-14)
    upstream = rng.standard_normal(z.shape)
    z.backward(upstream)
    np.testing.assert_allclose(a.grad, np.einsum("...n,kn->...k", upstream, b.data), rtol=1e-12, atol=1e-14)
    leading = list(range(len(a_shape) - 1))
    np.testing.assert_allclose(b.grad, np.tensordot(a.data, upstream, axes=(leading, leading)), rtol=1e-12, atol=1e-14)


def test_matmul_of_stacked_rows_gradcheck(leaves):
    a, b = leaves((2, 3, 4), (4, 5))
    assert gradcheck(lambda a, b: a @ b, [a, b])


@pytest.mark.parametrize("position, log_n", [("rope", True), ("rope", False), ("nope", True), ("xpos", False)])
def test_model_full_attention_through_the_fused_node_equals_the_window_kernel(rng, position, log_n):
    """The Transformer's full-attention layers (no distance bias) take ``causal_attention``; the same
    layer recomputed through the window kernel at w = T, with the trained log-n factor of N = 8."""
    from scratch.models.transformer import TransformerConfig, TransformerLM
    from scratch.models.transformer import positions as pos

    config = TransformerConfig(dim=16, heads=2, layers=1, ffn_dim=8, train_len=8, position=position, log_n=log_n)
    layer = TransformerLM(config, rng=rng, dtype=np.float64).blocks[0].attention
    h = rng.standard_normal((2, 12, 16))
    qkv = layer.qkv(h)
    q, k, v = (F.split_heads(qkv[..., 16 * i:16 * (i + 1)], 2) for i in range(3))
    if position != "nope":
        q, k = pos.rope(q, np.arange(12)), pos.rope(k, np.arange(12))
    if position == "xpos":
        scales = pos.xpos_scales(12, 8)
        q, k = q * scales, k / scales
    expected = layer.out(F.merge_heads(window_attention(q, k, v, 12, log_n=8 if log_n else None)))
    np.testing.assert_allclose(layer(Tensor(h)).data, expected.data, rtol=1e-12, atol=1e-13)
