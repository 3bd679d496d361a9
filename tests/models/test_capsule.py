"""Capsule models: squash, lengths and margin loss (values, gradchecks), the capsule layer and PrimaryCaps,
gradchecks of every model's loss with respect to every parameter, shapes on 28×28 and 56×28, the
parameter counts of spec §4, the two-digit data and metrics, a training smoke run, bad input."""
import numpy as np
import pytest

from scratch import gradcheck, tensor
from scratch.models.capsule import (
    SABOUR_MARGIN, SMALL_WIDTHS, SU_WIDTHS, CapsuleLayer, CNNBaseline, Margin, PrimaryCaps, SabourCapsNet, SuCapsuleNet,
    Training,
    build_model, capsule_lengths, margin_loss, routing_coefficients, squash, two_digit_metrics, two_digit_pairs,
)
from scratch.optim import Adam
from scratch.training import fit, predict

TINY_WIDTHS = (2, 2, 3, 3)


def parameter_count(model):
    return sum(p.data.size for p in model.parameters())


@pytest.mark.parametrize("eps", [0.5, 1.0])
@pytest.mark.parametrize("axis", [-1, 1])
def test_squash_gradcheck_and_length(rng, eps, axis):
    s = tensor(rng.normal(size=(3, 4, 5)), requires_grad=True)
    assert gradcheck(lambda x: squash(x, eps, axis), [s])
    length = np.linalg.norm(s.data, axis=axis)
    n = length**2 + 1e-7
    np.testing.assert_allclose(np.linalg.norm(squash(s, eps, axis).data, axis=axis), length * np.sqrt(n) / (eps + n),
                               rtol=1e-12)


def test_squash_near_zero_length(rng):
    s = tensor(1e-5 * rng.normal(size=(4, 3)), requires_grad=True)
    assert gradcheck(lambda x: squash(x, 0.5), [s], eps=1e-9)
    zero = tensor(np.zeros((2, 3)), requires_grad=True)
    squash(zero, 0.5).sum().backward()
    assert np.all(np.isfinite(zero.grad))


def test_su_squash_boosts_short_vectors_and_sabour_does_not():
    """‖v‖ ≈ ‖s‖²/(ε + ‖s‖²): for ‖s‖ = 0.5 Su's ε = 0.5 gives 1/3, Sabour's ε = 1 gives 1/5."""
    s = np.array([[0.3, 0.4]])
    assert np.linalg.norm(squash(s, 0.5).data) == pytest.approx(0.25 / 0.75, rel=1e-6)
    assert np.linalg.norm(squash(s, 1.0).data) == pytest.approx(0.25 / 1.25, rel=1e-6)


def test_capsule_lengths_gradcheck(rng):
    v = tensor(rng.normal(size=(3, 4, 5)), requires_grad=True)
    np.testing.assert_allclose(capsule_lengths(v).data, np.linalg.norm(v.data, axis=-1))
    assert gradcheck(capsule_lengths, [v])


def test_margin_loss_values():
    p = np.array([[0.95, 0.5, 0.05], [0.2, 0.3, 0.8]])
    y = np.array([0, 2])
    t = np.eye(3)[y]
    terms = t * np.maximum(0, 0.9 - p) ** 2 + 0.25 * (1 - t) * np.maximum(0, p - 0.1) ** 2
    np.testing.assert_allclose(margin_loss(p, y, reduction="none").data, terms)
    assert margin_loss(p, y).item() == pytest.approx(terms.mean())
    assert margin_loss(p, y, lam=0.5, reduction="sum").item() == pytest.approx(
        (t * np.maximum(0, 0.9 - p) ** 2 + 0.5 * (1 - t) * np.maximum(0, p - 0.1) ** 2).sum())
    assert margin_loss(p, t).item() == pytest.approx(terms.mean())


def test_margin_loss_accepts_several_present_classes():
    p = np.array([[0.95, 0.92, 0.05]])
    assert margin_loss(p, np.array([[1, 1, 0]])).item() == pytest.approx(0.0)
    assert margin_loss(p, np.array([0])).item() > 0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_margin_loss_gradcheck(rng, reduction):
    p = tensor(rng.uniform(0.02, 0.98, size=(4, 5)), requires_grad=True)
    y = rng.integers(0, 5, size=4)
    assert gradcheck(lambda x: margin_loss(x, y, lam=0.5, reduction=reduction), [p])


@pytest.mark.parametrize("bad, match", [
    (dict(lengths=np.zeros(3)), "lengths"),
    (dict(targets=np.array([0, 5])), "targets"),
    (dict(targets=np.array([0.0, 1.0])), "targets"),
    (dict(targets=np.array([[0, 2, 0, 0, 0]] * 2)), "targets"),
    (dict(reduction="batchmean"), "reduction"),
    (dict(m_pos=0.1, m_neg=0.9), "m_neg"),
    (dict(m_pos=1.5), "m_pos"),
    (dict(m_neg=True), "m_neg"),
    (dict(lam=-1.0), "lam"),
    (dict(lam=float("inf")), "lam"),
])
def test_margin_loss_bad_input(bad, match):
    kwargs = {"lengths": np.full((2, 5), 0.5), "targets": np.array([0, 1])}
    kwargs.update(bad)
    with pytest.raises(ValueError, match=match):
        margin_loss(**kwargs)


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("mode", ["sabour", "su1", "su2"])
def test_capsule_layer_gradcheck(rng, shared, mode):
    layer = CapsuleLayer(5, 4, 6, shared=shared, num_inputs=7, mode=mode, rng=rng, dtype=np.float64)
    u = tensor(rng.normal(size=(3, 7, 5)), requires_grad=True)
    assert gradcheck(lambda x, w: layer(x), [u, layer.weight])


def test_capsule_layer_stop_gradient_gradcheck_of_the_last_iteration(rng):
    """stop_gradient only changes the backward: the forward equals full flow."""
    full = CapsuleLayer(5, 4, 6, rng=np.random.default_rng(1), dtype=np.float64)
    stopped = CapsuleLayer(5, 4, 6, stop_gradient=True, rng=np.random.default_rng(1), dtype=np.float64)
    u = rng.normal(size=(3, 7, 5))
    np.testing.assert_array_equal(full(u).data, stopped(u).data)
    stopped(u).sum().backward()
    full(u).sum().backward()
    assert not np.allclose(stopped.weight.grad, full.weight.grad)


def test_shared_predictions_are_w_j_u_i_and_accept_any_number_of_inputs(rng):
    layer = CapsuleLayer(5, 4, 6, rng=rng, dtype=np.float64)
    for n in (7, 13):
        u = rng.normal(size=(2, n, 5))
        expected = np.einsum("kDd,bnd->bknD", layer.weight.data, u)
        np.testing.assert_allclose(layer.predictions(tensor(u)).data, expected, rtol=1e-12)
        assert layer(u).shape == (2, 4, 6)


def test_full_predictions_are_w_ji_u_i(rng):
    layer = CapsuleLayer(5, 4, 6, shared=False, num_inputs=7, rng=rng, dtype=np.float64)
    u = rng.normal(size=(2, 7, 5))
    expected = np.einsum("nkDd,bnd->bknD", layer.weight.data, u)
    np.testing.assert_allclose(layer.predictions(tensor(u)).data, expected, rtol=1e-12)
    with pytest.raises(ValueError, match=r"u must have shape \(·, 7, 5\)"):
        layer(rng.normal(size=(2, 8, 5)))


def test_capsule_layer_glorot_bound_and_bad_input(rng):
    layer = CapsuleLayer(128, 10, 16, rng=rng)
    assert np.abs(layer.weight.data).max() <= np.sqrt(6 / (128 + 160))
    with pytest.raises(ValueError, match=r"u must have shape \(·, ·, 128\)"):
        layer(np.zeros((2, 3, 127), np.float32))


@pytest.mark.parametrize("bad, match", [
    (dict(in_dim=True), "in_dim"),
    (dict(num_capsules=0), "num_capsules"),
    (dict(dim=True), "dim"),
    (dict(dim=2.0), "dim"),
    (dict(shared=False), "num_inputs"),
    (dict(shared=False, num_inputs=True), "num_inputs"),
    (dict(shared="no"), "shared"),
    (dict(iterations=True), "iterations"),
    (dict(iterations=0), "iterations"),
    (dict(mode="em"), "mode"),
    (dict(eps=0), "eps"),
    (dict(eps=True), "eps"),
    (dict(eps=float("inf")), "eps"),
    (dict(stop_gradient=1), "stop_gradient"),
    (dict(implementation="cuda"), "implementation"),
])
def test_capsule_layer_rejects_bad_settings(bad, match):
    with pytest.raises(ValueError, match=match):
        CapsuleLayer(**{"in_dim": 4, **bad})


@pytest.mark.parametrize("make, match", [
    (lambda: squash(np.ones(3), eps=True), "eps"),
    (lambda: squash(np.ones(3), eps=float("inf")), "eps"),
    (lambda: squash(np.ones(3), axis=1), "axis"),
    (lambda: squash(np.ones(3), axis=True), "axis"),
    (lambda: squash(np.float64(1.0)), "s.ndim"),
    (lambda: capsule_lengths(np.float64(1.0)), "v.ndim"),
    (lambda: PrimaryCaps(2, capsule_channels=True), "capsule_channels"),
    (lambda: PrimaryCaps(2, capsule_dim=0), "capsule_dim"),
    (lambda: PrimaryCaps(2, eps=0.0), "eps"),
    (lambda: SuCapsuleNet(TINY_WIDTHS, num_classes=True), "num_classes"),
    (lambda: SuCapsuleNet(TINY_WIDTHS, capsule_dim=True), "capsule_dim"),
    (lambda: SuCapsuleNet((2, 2, True, 3)), r"widths\[2\]"),
    (lambda: SuCapsuleNet(TINY_WIDTHS, capsule={"iterations": True}), "iterations"),
    (lambda: CNNBaseline(TINY_WIDTHS, hidden=True), "hidden"),
    (lambda: SabourCapsNet(primary_channels=True), "primary_channels"),
    (lambda: SabourCapsNet(conv_channels=0), "conv_channels"),
    (lambda: SabourCapsNet(image_size=(16, 28)), "image_size"),
    (lambda: SabourCapsNet(decoder=(5, True)), r"decoder\[1\]"),
    (lambda: SabourCapsNet(recon_weight=-1.0), "recon_weight"),
    (lambda: SabourCapsNet(recon_weight=float("nan")), "recon_weight"),
    (lambda: build_model("su2", eps=True), "eps"),
    (lambda: build_model("su2", iterations=True), "iterations"),
    (lambda: build_model(True), "name"),
    (lambda: Margin(lam=True), "lam"),
    (lambda: Margin(reduction="max"), "reduction"),
    (lambda: Training(epochs=True), "epochs"),
    (lambda: Training(batch_size=0), "batch_size"),
    (lambda: Training(lr=float("inf")), "lr"),
    (lambda: two_digit_pairs(np.zeros((4, 2, 2)), np.arange(4), permutations=True), "permutations"),
    (lambda: two_digit_pairs(np.zeros((4, 2, 2)), np.arange(4), seed=-1), "seed"),
    (lambda: two_digit_metrics(np.zeros((3, 4)), np.zeros((2, 2), int)), "pairs"),
    (lambda: two_digit_metrics(np.zeros((3, 4)), np.zeros((3, 2), int), threshold=float("nan")), "threshold"),
])
def test_bad_settings_raise_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_margin_must_be_margin_settings():
    with pytest.raises(TypeError, match="margin"):
        build_model("cnn", margin={"lam": 0.5})


def test_primary_caps_shape_and_gradcheck(rng):
    layer = PrimaryCaps(2, capsule_channels=3, capsule_dim=4, kernel_size=3, stride=2, rng=rng, dtype=np.float64)
    x = tensor(rng.normal(size=(2, 2, 7, 7)), requires_grad=True)
    u = layer(x)
    assert u.shape == (2, 3 * 3 * 3, 4)
    assert np.all(np.linalg.norm(u.data, axis=-1) < 1)
    assert gradcheck(lambda x, w, b: layer(x), [x, layer.conv.weight, layer.conv.bias])


def _model_loss_gradcheck(model, x, y):
    """Biases start at zero, which puts a ReLU exactly on its kink wherever the layer below is all zero
    (there finite differences are meaningless); random biases keep every unit off it."""
    params = list(model.parameters())
    biases = np.random.default_rng(5)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p.data = biases.uniform(0.05, 0.2, size=p.shape)
    assert gradcheck(lambda *ps: model.loss(x, y), params, max_elementwise=64, directions=4)


@pytest.mark.parametrize("mode", ["sabour", "su1", "su2"])
def test_su_capsule_net_loss_gradcheck(rng, mode):
    model = SuCapsuleNet(TINY_WIDTHS, 3, 4, capsule={"mode": mode}, rng=rng, dtype=np.float64)
    _model_loss_gradcheck(model, rng.uniform(size=(2, 14, 14)), np.array([0, 2]))


def test_cnn_baseline_loss_gradcheck(rng):
    model = CNNBaseline(TINY_WIDTHS, 3, 5, rng=rng, dtype=np.float64)
    _model_loss_gradcheck(model, rng.uniform(size=(2, 14, 14)), np.array([1, 2]))


def test_sabour_capsnet_loss_with_reconstruction_gradcheck(rng):
    model = SabourCapsNet(3, conv_channels=2, primary_channels=2, primary_dim=3, capsule_dim=4, image_size=(20, 20),
                          decoder=(5, 6), recon_weight=0.01, rng=rng, dtype=np.float64)
    x = rng.uniform(size=(2, 20, 20))
    assert model(x).shape == (2, 3)
    _model_loss_gradcheck(model, x, np.array([0, 1]))


def test_sabour_capsnet_reconstruction_term_gradcheck_at_full_weight(rng):
    """At recon_weight = 0.01 the decoder's gradient entries are ~1e-4 … 1e-2, so a 10% error in the
    smaller ones is below an absolute tolerance of 1e-5; at weight 1 the reconstruction term is checked
    at its own scale and a wrong or zero decoder gradient fails."""
    model = SabourCapsNet(3, conv_channels=2, primary_channels=2, primary_dim=3, capsule_dim=4, image_size=(20, 20),
                          decoder=(5, 6), recon_weight=1.0, rng=rng, dtype=np.float64)
    _model_loss_gradcheck(model, rng.uniform(size=(2, 20, 20)), np.array([2, 1]))


@pytest.mark.parametrize("margin", [None, Margin()])
def test_sabour_capsnet_loss_keeps_sabours_ratio(rng, margin):
    """By default Sabour's settings: per image Σ_k [T_k max(0, 0.9 − ‖v_k‖)² + 0.5 (1 − T_k) max(0, ‖v_k‖ − 0.1)²]
    + 0.0005 Σ (x − x̂)², summed over the batch; with Su's margin (λ 0.25, mean) both terms are averaged."""
    model = SabourCapsNet(3, conv_channels=2, primary_channels=2, primary_dim=3, capsule_dim=4, image_size=(20, 20),
                          decoder=(5, 6), margin=margin, rng=rng, dtype=np.float64)
    x, y = rng.uniform(size=(4, 20, 20)), np.array([0, 2, 1, 2])
    v = model.capsule_outputs(x).data
    lengths = np.sqrt((v ** 2).sum(-1))
    present = np.eye(3)[y]
    lam = 0.5 if margin is None else 0.25
    terms = present * np.maximum(0, 0.9 - lengths) ** 2 + lam * (1 - present) * np.maximum(0, lengths - 0.1) ** 2
    squared = ((model.reconstruct(model.capsule_outputs(x), y).data - x.reshape(4, -1)) ** 2).sum()
    expected = (terms.sum() + 0.0005 * squared if margin is None else terms.mean() + 0.0005 * squared / 4)
    assert model.margin == (SABOUR_MARGIN if margin is None else margin)
    assert model.loss(x, y).item() == pytest.approx(expected, rel=1e-12)


def test_parameter_counts_of_spec_section_4():
    assert parameter_count(CNNBaseline(SU_WIDTHS)) == 276_810
    assert parameter_count(SuCapsuleNet(SU_WIDTHS)) == 279_488
    assert parameter_count(CNNBaseline(SMALL_WIDTHS)) == 21_882
    assert parameter_count(SuCapsuleNet(SMALL_WIDTHS)) == 21_488


@pytest.mark.parametrize("name", ["cnn", "su2"])
def test_same_weights_run_on_one_and_two_digit_images(rng, name):
    model = build_model(name, rng=rng)
    assert model(rng.uniform(size=(2, 28, 28)).astype(np.float32)).shape == (2, 10)
    assert model(rng.uniform(size=(2, 56, 28)).astype(np.float32)).shape == (2, 10)


def test_capsule_count_is_64_on_28x28_and_176_on_56x28(rng):
    model = SuCapsuleNet(SMALL_WIDTHS, rng=rng)
    assert model.features(rng.uniform(size=(1, 1, 28, 28)).astype(np.float32)).shape[2:] == (8, 8)
    assert model.features(rng.uniform(size=(1, 1, 56, 28)).astype(np.float32)).shape[2:] == (22, 8)


def test_two_digit_pairs(rng):
    x = rng.uniform(size=(40, 4, 3))
    y = np.arange(40) % 10
    images, pairs = two_digit_pairs(x, y, permutations=3, seed=0)
    assert images.shape[1:] == (8, 3) and len(images) == len(pairs)
    assert np.all(pairs[:, 0] < pairs[:, 1])
    tops = [np.flatnonzero(np.all(x == top, axis=(1, 2)))[0] for top in images[:, :4]]
    bottoms = [np.flatnonzero(np.all(x == bottom, axis=(1, 2)))[0] for bottom in images[:, 4:]]
    np.testing.assert_array_equal(np.sort(np.stack([y[tops], y[bottoms]], 1), 1), pairs)
    again, _ = two_digit_pairs(x, y, permutations=3, seed=0)
    np.testing.assert_array_equal(images, again)
    with pytest.raises(ValueError, match="x and y"):
        two_digit_pairs(x, y[:-1])


def test_two_digit_metrics():
    scores = np.array([[0.9, 0.8, 0.1], [0.9, 0.3, 0.2], [0.1, 0.7, 0.6], [0.9, 0.1, 0.8]])
    pairs = np.array([[0, 1], [0, 1], [0, 1], [0, 1]])
    assert two_digit_metrics(scores, pairs) == {"top2": 0.5, "top2_confident": 0.25}


def test_training_reduces_the_loss_and_a_seed_reproduces_it(rng):
    x = rng.uniform(size=(64, 14, 14)).astype(np.float32)
    y = np.arange(64) % 3
    x[np.arange(64), y * 4, :] += 2.0

    def run():
        model = SuCapsuleNet(TINY_WIDTHS, 3, 4, rng=np.random.default_rng(3))
        history = fit(model, model.loss, Adam(model.parameters(), lr=1e-2), x, y, epochs=4, batch_size=16,
                      rng=np.random.default_rng(4), loss_of="inputs", even_batches=True)
        return history, predict(model, x)

    history, scores = run()
    assert history[-1] < 0.8 * history[0]
    again, scores_again = run()
    assert history == again
    np.testing.assert_array_equal(scores, scores_again)


def test_build_model_names_and_bad_input():
    assert build_model("sabour").capsules.eps == 1.0
    assert build_model("su1").capsules.mode == "su1"
    assert build_model("cnn", margin=Margin(lam=0.5, reduction="sum")).margin.lam == 0.5
    with pytest.raises(ValueError, match="name"):
        build_model("resnet")
    with pytest.raises(ValueError, match="widths"):
        SuCapsuleNet((16, 32))
    with pytest.raises(ValueError, match="x must be"):
        build_model("cnn")(np.zeros((2, 3, 28, 28), np.float32))


def test_capsule_length_of_a_zero_capsule_has_zero_gradient():
    v = tensor(np.zeros((1, 2, 3)), requires_grad=True)
    capsule_lengths(v).sum().backward()
    np.testing.assert_array_equal(v.grad, 0.0)


@pytest.mark.parametrize("name", ["cnn", "su2"])
def test_float32_models_keep_float32_losses_and_gradients(rng, name):
    """A float64 target matrix would turn every gradient below the loss into float64 (and slow convs)."""
    model = build_model(name, TINY_WIDTHS, rng=rng)
    loss = model.loss(rng.uniform(size=(2, 14, 14)).astype(np.float32), np.array([0, 1]))
    assert loss.dtype == np.float32
    loss.backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    assert margin_loss(np.full((2, 3), 0.5, np.float32), np.array([[1, 0, 0], [0, 1, 1]])).dtype == np.float32


def test_routing_coefficients_are_the_last_iteration_softmax_over_classes(rng):
    model = SuCapsuleNet(TINY_WIDTHS, 3, 4, rng=rng)
    x = rng.uniform(size=(2, 14, 22)).astype(np.float32)
    c = routing_coefficients(model, x)
    assert c.shape == (2, 3) + model.features(x[:, None]).shape[2:]
    np.testing.assert_allclose(c.sum(axis=1), 1.0, rtol=1e-6)


def test_length_of_squash_gradient_identity(rng):
    """Spec §3: ∂‖v‖/∂s = 2ε·s/(ε + n)² (exact up to the 1e-7 added to n)."""
    s = tensor(rng.normal(size=(4, 6)), requires_grad=True)
    capsule_lengths(squash(s, 0.5)).sum().backward()
    n = np.sum(s.data**2, axis=-1, keepdims=True) + 1e-7
    np.testing.assert_allclose(s.grad, 2 * 0.5 * s.data / (0.5 + n) ** 2, rtol=1e-6)
