"""The golden cases themselves, without torch: every family and kernel has cases, they are float64, sized to
cross the kernels' blocks, documented, and their reference gradients are the derivatives of their outputs
(central differences along random directions, the NumPy adapter run on each case's own reference)."""
import numpy as np
import pytest

from scratch.crosscheck import FAMILIES, case, cases, check
from scratch.kernels.window_attention import QUERY_BLOCK

# Every family, kernel and public function the kit covers → the cases that exercise it.
COVERAGE = {
    "word2vec random softmax, shared and separate output": ["word2vec/random_softmax", "word2vec/random_softmax_separate"],
    "word2vec sampled softmax (log-Q, hits removed)": ["word2vec/sampled_softmax"],
    "word2vec NCE, shared and separate output": ["word2vec/nce", "word2vec/nce_separate"],
    "GloVe and simpler GloVe": ["glove/classic", "glove/simpler"],
    "routing kernel, three modes": ["capsule/route_sabour", "capsule/route_su1", "capsule/route_su2"],
    "capsule layers and networks": ["capsule/squash", "capsule/margin_loss", "capsule/capsule_layer",
                                    "capsule/capsule_layer_full", "capsule/primary_caps", "capsule/su_capsule_net"],
    "window attention kernel, bias, log-n": ["transformer/window_attention", "transformer/window_attention_bias",
                                             "transformer/window_attention_log_n"],
    "position schemes": ["transformer/rope", "transformer/xpos", "transformer/alibi", "transformer/kerple_power",
                         "transformer/kerple_log", "transformer/sandwich", "transformer/rerope",
                         "transformer/leaky_rerope"],
    "Transformer block": ["transformer/block_rope", "transformer/block_alibi_window"],
    "VQ attention kernel and its quadratic form": ["transformer_vq/vq_attention", "transformer_vq/quadratic_vq_attention"],
    "quantizer and GAU": ["transformer_vq/quantizer", "transformer_vq/gau"],
    "perturb-max, every law": [f"perturb_max/{kind}_{law}" for law in
                               ("gumbel", "exponential", "uniform", "normal", "logistic", "laplace", "cauchy")
                               for kind in ("log_probs", "ce", "fy", "soft_accuracy") if (kind, law) != ("fy", "cauchy")],
    "engine functional ops": [f"engine/{op}" for op in
                              ("softmax", "log_softmax", "logsumexp", "cross_entropy", "nll_loss",
                               "binary_cross_entropy_with_logits", "mse_loss", "layer_norm", "rms_norm", "embedding",
                               "conv2d", "avg_pool2d", "max_pool2d", "relu", "sigmoid", "tanh", "silu", "gelu",
                               "gelu_tanh", "linear", "matmul")],
}
ALL = cases()


def test_every_family_has_cases():
    assert {c.family for c in ALL} == set(FAMILIES)


@pytest.mark.parametrize("what", COVERAGE)
def test_every_kernel_and_function_has_cases(what):
    names = {c.name for c in ALL}
    assert set(COVERAGE[what]) <= names, f"{what}: missing {sorted(set(COVERAGE[what]) - names)}"


def test_names_are_unique_and_found_by_name():
    assert len({c.name for c in ALL}) == len(ALL)
    assert case("capsule/route_su2").options["mode"] == "su2"
    with pytest.raises(KeyError, match="no case"):
        case("capsule/route_su3")
    with pytest.raises(ValueError, match="family"):
        cases("bert")


@pytest.mark.parametrize("c", ALL, ids=lambda c: c.name)
def test_cases_are_float64_documented_and_complete(c):
    assert c.differentiable, "a case without an input or parameter checks no gradient"
    for name, x in c.differentiable.items():
        assert x.dtype == np.float64 and c.grads[name].shape == x.shape
    assert set(c.grads) == set(c.differentiable)
    assert set(c.cotangents) == {k for k, v in c.outputs.items() if v.dtype.kind == "f"}
    assert all(k in c.layouts for k in [*c.differentiable, *c.constants, *c.outputs])
    assert all(np.isfinite(v).all() for v in [*c.outputs.values(), *c.grads.values()])
    assert any(np.abs(g).max() > 0 for g in c.grads.values())


def test_kernel_cases_cross_block_boundaries():
    window = case("transformer/window_attention")
    assert window.inputs["q"].shape[2] > max(QUERY_BLOCK, window.options["window"])
    vq = case("transformer_vq/vq_attention")
    assert vq.inputs["q"].shape[1] == 3 * vq.options["block"] + 5


def test_blockwise_and_quadratic_vq_attention_differ_only_in_the_gradient_of_old_keys():
    """Same arrays, same outputs; k̂_j's gradient is the same where every query that sees key j is in j's
    block or the next (the last two blocks), and differs in the first block, read from the cache."""
    blockwise, quadratic = case("transformer_vq/vq_attention"), case("transformer_vq/quadratic_vq_attention")
    np.testing.assert_allclose(blockwise.outputs["o"], quadratic.outputs["o"], rtol=1e-12, atol=1e-13)
    for name in ("q", "v", "u", "w", "r"):
        np.testing.assert_allclose(blockwise.grads[name], quadratic.grads[name], rtol=1e-10, atol=1e-12, err_msg=name)
    block, length = blockwise.options["block"], blockwise.inputs["q"].shape[1]
    recent = slice((length - 1) // block * block - block, length)
    np.testing.assert_allclose(blockwise.grads["k_hat"][:, recent], quadratic.grads["k_hat"][:, recent], rtol=1e-10,
                               atol=1e-12)
    assert np.abs(blockwise.grads["k_hat"][:, :block] - quadratic.grads["k_hat"][:, :block]).min() > 1e-6


@pytest.mark.parametrize("c", ALL, ids=lambda c: c.name)
def test_reference_gradients_are_derivatives_of_the_outputs(c):
    report = check(c, c.reference, framework="numpy")
    assert report.passed, str(report)
    checked = [r for r in report.results if r.kind == "directional derivative" and r.message == "ok"]
    assert len(checked) == len(c.differentiable) - len(c.straight_through)


def test_the_numpy_adapter_reports_a_wrong_derivative():
    from scratch import functional as F

    softmax = case("engine/softmax")
    report = check(softmax, lambda x, dim: F.softmax(x, axis=dim).data ** 1.0000001, framework="numpy")
    assert not report.passed
    assert [(r.kind, r.name) for r in report.failures] == [("output", "out")]
    report = check(softmax, lambda x, dim: F.softmax(np.where(x > 0, x, 0.5 * x), axis=dim).data, framework="numpy")
    assert ("directional derivative", "x") in [(r.kind, r.name) for r in report.failures]
