"""Optimizers against their update equations written out in NumPy, schedules and gradient clipping."""
import math

import numpy as np
import pytest

from scratch import Tensor
from scratch.nn import Linear, Parameter
from scratch.optim import SGD, Adagrad, Adam, AdamW, clip_grad_norm, linear_decay, warmup_cosine

RTOL = 1e-12


@pytest.fixture
def theta0(rng):
    return rng.standard_normal((4, 3))


@pytest.fixture
def grads(rng):
    return [rng.standard_normal((4, 3)) for _ in range(3)]


def run(optimizer_class, theta0, grads, **hyper):
    """θ after one ``step`` per gradient in ``grads``."""
    p = Parameter(theta0.copy())
    optimizer = optimizer_class([p], **hyper)
    for g in grads:
        p.grad = g.copy()
        optimizer.step()
    return p.data


# ----------------------------------------------------------------------------- SGD
def test_sgd_plain(theta0, grads):
    expected = theta0 - 0.1 * grads[0] - 0.1 * grads[1]
    np.testing.assert_allclose(run(SGD, theta0, grads[:2], lr=0.1), expected, rtol=RTOL)


def test_sgd_weight_decay(theta0, grads):
    g = grads[0] + 0.01 * theta0
    np.testing.assert_allclose(run(SGD, theta0, grads[:1], lr=0.1, weight_decay=0.01), theta0 - 0.1 * g, rtol=RTOL)


def test_sgd_momentum_two_steps(theta0, grads):
    lr, mu = 0.1, 0.9
    b1 = grads[0]
    theta1 = theta0 - lr * b1
    b2 = mu * b1 + grads[1]
    theta2 = theta1 - lr * b2
    np.testing.assert_allclose(run(SGD, theta0, grads[:2], lr=lr, momentum=mu), theta2, rtol=RTOL)


def test_sgd_nesterov_two_steps(theta0, grads):
    lr, mu, lam = 0.1, 0.9, 0.05
    g1 = grads[0] + lam * theta0
    b1 = g1
    theta1 = theta0 - lr * (g1 + mu * b1)
    g2 = grads[1] + lam * theta1
    b2 = mu * b1 + g2
    theta2 = theta1 - lr * (g2 + mu * b2)
    result = run(SGD, theta0, grads[:2], lr=lr, momentum=mu, nesterov=True, weight_decay=lam)
    np.testing.assert_allclose(result, theta2, rtol=RTOL)


# ----------------------------------------------------------------------------- Adam / AdamW
def test_adam_one_step_moves_each_coordinate_by_about_lr(theta0, grads):
    """At t = 1, m̂ = g and v̂ = g², so θ₁ = θ₀ − lr · g / (|g| + ε)."""
    expected = theta0 - 0.01 * grads[0] / (np.abs(grads[0]) + 1e-8)
    np.testing.assert_allclose(run(Adam, theta0, grads[:1], lr=0.01), expected, rtol=RTOL)


def test_adam_two_steps_with_bias_correction_and_weight_decay(theta0, grads):
    lr, b1, b2, eps, lam = 0.01, 0.8, 0.95, 1e-6, 0.1
    g1 = grads[0] + lam * theta0
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1**2
    theta1 = theta0 - lr * (m1 / (1 - b1)) / (np.sqrt(v1 / (1 - b2)) + eps)
    g2 = grads[1] + lam * theta1
    m2, v2 = b1 * m1 + (1 - b1) * g2, b2 * v1 + (1 - b2) * g2**2
    theta2 = theta1 - lr * (m2 / (1 - b1**2)) / (np.sqrt(v2 / (1 - b2**2)) + eps)
    result = run(Adam, theta0, grads[:2], lr=lr, betas=(b1, b2), eps=eps, weight_decay=lam)
    np.testing.assert_allclose(result, theta2, rtol=RTOL)


def test_adamw_two_steps_decay_decoupled(theta0, grads):
    lr, b1, b2, eps, lam = 0.01, 0.9, 0.999, 1e-8, 0.1
    g1, g2 = grads[0], grads[1]
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1**2
    theta1 = theta0 * (1 - lr * lam) - lr * (m1 / (1 - b1)) / (np.sqrt(v1 / (1 - b2)) + eps)
    m2, v2 = b1 * m1 + (1 - b1) * g2, b2 * v1 + (1 - b2) * g2**2
    theta2 = theta1 * (1 - lr * lam) - lr * (m2 / (1 - b1**2)) / (np.sqrt(v2 / (1 - b2**2)) + eps)
    np.testing.assert_allclose(run(AdamW, theta0, grads[:2], lr=lr, weight_decay=lam), theta2, rtol=RTOL)


def test_adamw_default_weight_decay():
    assert AdamW([Parameter(np.zeros(1))]).weight_decay == 1e-2
    assert Adam([Parameter(np.zeros(1))]).weight_decay == 0.0


def test_adam_keeps_a_step_count_per_parameter(theta0, grads):
    first, second = Parameter(theta0.copy()), Parameter(theta0.copy())
    optimizer = Adam([first, second], lr=0.01)
    for g in grads:
        first.grad, second.grad = g.copy(), None
        optimizer.step()
    second.grad = grads[0].copy()
    optimizer.step()
    assert optimizer.state[0]["step"] == 4 and optimizer.state[1]["step"] == 1
    np.testing.assert_allclose(second.data, run(Adam, theta0, grads[:1], lr=0.01), rtol=RTOL)


# ----------------------------------------------------------------------------- Adagrad
def test_adagrad_two_steps(theta0, grads):
    lr, eps, g0 = 0.1, 1e-10, 0.1
    s1 = g0 + grads[0] ** 2
    theta1 = theta0 - lr * grads[0] / (np.sqrt(s1) + eps)
    s2 = s1 + grads[1] ** 2
    theta2 = theta1 - lr * grads[1] / (np.sqrt(s2) + eps)
    result = run(Adagrad, theta0, grads[:2], lr=lr, initial_accumulator_value=g0)
    np.testing.assert_allclose(result, theta2, rtol=RTOL)


# ----------------------------------------------------------------------------- lazy-sparse mode
def _row_sparse(g, rows):
    sparse = np.zeros_like(g)
    sparse[rows] = g[rows]
    return sparse


def test_sparse_adam_updates_touched_rows_with_per_row_steps(theta0, grads):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    g1, g2 = _row_sparse(grads[0], [0, 2]), _row_sparse(grads[1], [2, 3])
    p = Parameter(theta0.copy())
    optimizer = Adam([p], lr=lr, betas=(b1, b2), eps=eps, sparse=True)
    for g in (g1, g2):
        p.grad = g
        optimizer.step()

    expected = theta0.copy()
    # rows 0 and 3: touched once, a first Adam step (t_r = 1)
    expected[0] -= lr * g1[0] / (np.abs(g1[0]) + eps)
    expected[3] -= lr * g2[3] / (np.abs(g2[3]) + eps)
    # row 2: touched twice (t_r = 2)
    m1, v1 = (1 - b1) * g1[2], (1 - b2) * g1[2] ** 2
    expected[2] -= lr * g1[2] / (np.abs(g1[2]) + eps)
    m2, v2 = b1 * m1 + (1 - b1) * g2[2], b2 * v1 + (1 - b2) * g2[2] ** 2
    expected[2] -= lr * (m2 / (1 - b1**2)) / (np.sqrt(v2 / (1 - b2**2)) + eps)

    np.testing.assert_allclose(p.data, expected, rtol=RTOL)
    np.testing.assert_array_equal(p.data[1], theta0[1])
    np.testing.assert_array_equal(optimizer.state[0]["step"], [1, 0, 2, 1])
    # row 0's moments were not decayed by the step that skipped it
    np.testing.assert_allclose(optimizer.state[0]["exp_avg"][0], (1 - b1) * g1[0], rtol=RTOL)
    assert not optimizer.state[0]["exp_avg"][1].any()


def test_sparse_adamw_decays_only_touched_rows(theta0, grads):
    lr, lam, eps = 0.01, 0.5, 1e-8
    g = _row_sparse(grads[0], [1])
    result = run(AdamW, theta0, [g], lr=lr, weight_decay=lam, sparse=True)
    expected = theta0.copy()
    expected[1] = theta0[1] * (1 - lr * lam) - lr * g[1] / (np.abs(g[1]) + eps)
    np.testing.assert_allclose(result, expected, rtol=RTOL)


def test_sparse_and_dense_adam_agree_when_every_row_is_touched(theta0, grads):
    dense = run(Adam, theta0, grads, lr=0.01, weight_decay=0.1)
    np.testing.assert_allclose(run(Adam, theta0, grads, lr=0.01, weight_decay=0.1, sparse=True), dense, rtol=RTOL)


def test_sparse_adagrad_touches_only_non_zero_rows(theta0, grads):
    lr, eps, g0 = 0.1, 1e-10, 0.5
    g1, g2 = _row_sparse(grads[0], [0, 2]), _row_sparse(grads[1], [2])
    p = Parameter(theta0.copy())
    optimizer = Adagrad([p], lr=lr, initial_accumulator_value=g0, sparse=True)
    for g in (g1, g2):
        p.grad = g
        optimizer.step()
    expected = theta0.copy()
    expected[0] -= lr * g1[0] / (np.sqrt(g0 + g1[0] ** 2) + eps)
    expected[2] -= lr * g1[2] / (np.sqrt(g0 + g1[2] ** 2) + eps)
    expected[2] -= lr * g2[2] / (np.sqrt(g0 + g1[2] ** 2 + g2[2] ** 2) + eps)
    np.testing.assert_allclose(p.data, expected, rtol=RTOL)
    np.testing.assert_array_equal(p.data[[1, 3]], theta0[[1, 3]])
    np.testing.assert_array_equal(optimizer.state[0]["sum"][[1, 3]], g0)
    dense = run(Adagrad, theta0, [g1, g2], lr=lr, initial_accumulator_value=g0)
    np.testing.assert_allclose(p.data, dense, rtol=RTOL)


def test_sparse_mode_needs_rows():
    with pytest.raises(ValueError, match=r"params\[1\] is a scalar"):
        Adam([Parameter(np.zeros(3)), Parameter(np.zeros(()))], sparse=True)


# ----------------------------------------------------------------------------- common behaviour
ALL = [(SGD, {"lr": 0.1, "momentum": 0.9}), (Adam, {}), (AdamW, {}), (Adagrad, {}),
       (Adam, {"sparse": True}), (Adagrad, {"sparse": True})]


@pytest.mark.parametrize("optimizer_class, hyper", ALL)
def test_parameters_without_grad_are_skipped(optimizer_class, hyper, theta0, grads):
    with_grad, without = Parameter(theta0.copy()), Parameter(theta0.copy())
    optimizer = optimizer_class([with_grad, without], **hyper)
    with_grad.grad = grads[0]
    optimizer.step()
    assert not np.array_equal(with_grad.data, theta0)
    np.testing.assert_array_equal(without.data, theta0)
    assert optimizer.state[1] == {}


@pytest.mark.parametrize("optimizer_class, hyper", ALL)
def test_float32_stays_float32(optimizer_class, hyper, theta0, grads):
    p = Parameter(theta0.astype(np.float32))
    optimizer = optimizer_class([p], **hyper)
    optimizer.lr = np.float64(0.01)
    for g in grads:
        p.grad = g.astype(np.float32)
        optimizer.step()
    assert p.dtype == np.float32
    assert all(a.dtype == np.float32 for name, a in optimizer.state[0].items() if name != "step")


@pytest.mark.parametrize("optimizer_class, hyper", ALL)
def test_state_dict_round_trip_through_npz_resumes_identically(optimizer_class, hyper, theta0, grads, tmp_path):
    original = Parameter(theta0.copy())
    optimizer = optimizer_class([original], **hyper)
    original.grad = _row_sparse(grads[0], [0, 1])
    optimizer.step()
    optimizer.lr = 0.02
    np.savez(tmp_path / "optim.npz", **optimizer.state_dict())

    resumed = Parameter(original.data.copy())
    fresh = optimizer_class([resumed], **hyper)
    with np.load(tmp_path / "optim.npz", allow_pickle=False) as archive:
        fresh.load_state_dict(dict(archive))
    assert fresh.lr == 0.02
    for g in grads[1:]:
        original.grad, resumed.grad = g.copy(), g.copy()
        optimizer.step()
        fresh.step()
    np.testing.assert_array_equal(resumed.data, original.data)


def test_state_dict_is_flat_and_holds_copies(theta0, grads):
    p = Parameter(theta0.copy())
    optimizer = Adam([Parameter(np.zeros(2)), p], lr=0.01)
    p.grad = grads[0]
    optimizer.step()
    state = optimizer.state_dict()
    assert sorted(state) == ["lr", "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.step"]
    state["state.1.exp_avg"][:] = 0
    assert optimizer.state[1]["exp_avg"].any()


def test_load_state_dict_errors(theta0, grads):
    p = Parameter(theta0.copy())
    optimizer = Adam([p], lr=0.01)
    p.grad = grads[0]
    optimizer.step()
    state = optimizer.state_dict()
    with pytest.raises(KeyError, match="no 'lr'"):
        optimizer.load_state_dict({k: v for k, v in state.items() if k != "lr"})
    with pytest.raises(KeyError, match="unexpected optimizer state key 'state.1.exp_avg'"):
        optimizer.load_state_dict({**state, "state.1.exp_avg": state["state.0.exp_avg"]})
    with pytest.raises(KeyError, match=r"params\[0\] has \['exp_avg', 'step'\]"):
        optimizer.load_state_dict({k: v for k, v in state.items() if k != "state.0.exp_avg_sq"})
    with pytest.raises(ValueError, match=r"'state.0.exp_avg' has shape \(3,\), expected \(4, 3\)"):
        optimizer.load_state_dict({**state, "state.0.exp_avg": np.zeros(3)})
    with pytest.raises(ValueError, match=r"'state.0.step' has shape \(4,\), expected \(\)"):
        optimizer.load_state_dict({**state, "state.0.step": np.ones(4, np.int64)})


def test_zero_grad_and_zero_lr(theta0, grads):
    p = Parameter(theta0.copy())
    optimizer = SGD([p], lr=0.1)
    optimizer.lr = 0.0
    p.grad = grads[0]
    optimizer.step()
    np.testing.assert_array_equal(p.data, theta0)
    optimizer.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("make, name", [
    (lambda p: SGD(p, lr=0.0), "lr"),
    (lambda p: SGD(p, lr=0.1, momentum=-0.5), "momentum"),
    (lambda p: SGD(p, lr=0.1, nesterov=True), "momentum"),
    (lambda p: SGD(p, lr=0.1, weight_decay=-1.0), "weight_decay"),
    (lambda p: Adam(p, lr=-1e-3), "lr"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), r"betas\[0\]"),
    (lambda p: Adam(p, betas=(0.9, -0.1)), r"betas\[1\]"),
    (lambda p: Adam(p, betas=(0.9,)), "betas"),
    (lambda p: AdamW(p, eps=0.0), "eps"),
    (lambda p: AdamW(p, weight_decay=-0.1), "weight_decay"),
    (lambda p: Adagrad(p, lr=float("nan")), "lr"),
    (lambda p: Adagrad(p, eps=-1.0), "eps"),
    (lambda p: Adagrad(p, initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda p: Adam([]), "params"),
    # True is an int and inf a float to Python: both are refused
    (lambda p: SGD(p, lr=True), "lr"),
    (lambda p: Adam(p, lr=float("inf")), "lr"),
    (lambda p: AdamW(p, lr=np.float32(np.nan)), "lr"),
    (lambda p: SGD(p, lr=0.1, momentum=float("inf")), "momentum"),
    (lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov="yes"), "nesterov"),
    (lambda p: SGD(p, lr=0.1, weight_decay=float("nan")), "weight_decay"),
    (lambda p: Adam(p, betas=(True, 0.999)), r"betas\[0\]"),
    (lambda p: Adam(p, betas=(0.9, 1.0)), r"betas\[1\]"),
    (lambda p: Adam(p, betas=(0.9, float("nan"))), r"betas\[1\]"),
    (lambda p: Adam(p, betas=0.9), "betas"),
    (lambda p: Adam(p, eps=float("inf")), "eps"),
    (lambda p: Adam(p, sparse="yes"), "sparse"),
    (lambda p: Adagrad(p, initial_accumulator_value=float("inf")), "initial_accumulator_value"),
])
def test_bad_hyper_parameters_name_the_argument(make, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        make([Parameter(np.zeros(2))] if name != "params" else None)


def test_params_must_be_distinct_tensors_that_require_grad():
    p = Parameter(np.zeros(2))
    with pytest.raises(ValueError, match=r"params\[1\] appears more than once"):
        SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[0\] must be a Tensor that requires grad"):
        SGD([Tensor(np.zeros(2))], lr=0.1)


def test_lr_set_by_a_schedule_must_be_finite_and_non_negative():
    optimizer = SGD([Parameter(np.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match="lr must be a finite real number, got inf"):
        optimizer.lr = float("inf")
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\), got -0.1"):
        optimizer.lr = -0.1


@pytest.mark.parametrize("optimizer_class, hyper", ALL[:4])
def test_training_a_linear_layer_reduces_the_loss(optimizer_class, hyper, rng):
    x = rng.standard_normal((64, 5))
    y = x @ rng.standard_normal((5, 2)) + 0.5
    layer = Linear(5, 2, rng=rng, dtype=np.float64)
    optimizer = optimizer_class(layer.parameters(), **{**hyper, "lr": 0.05})
    losses = []
    for _ in range(100):
        loss = ((layer(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


# ----------------------------------------------------------------------------- schedules
def test_warmup_cosine_at_its_landmarks():
    lr = lambda step: warmup_cosine(step, warmup=100, total=1100, peak_lr=1e-3, final_lr=1e-4)  # noqa: E731
    assert lr(0) == 0.0
    assert lr(50) == pytest.approx(5e-4, rel=RTOL)
    assert lr(100) == pytest.approx(1e-3, rel=RTOL)
    assert lr(600) == pytest.approx((1e-3 + 1e-4) / 2, rel=RTOL)
    assert lr(350) == pytest.approx(1e-4 + 9e-4 * (1 + math.cos(math.pi / 4)) / 2, rel=RTOL)
    assert lr(1100) == pytest.approx(1e-4, rel=RTOL)
    assert lr(5000) == pytest.approx(1e-4, rel=RTOL)


def test_warmup_cosine_without_warmup_starts_at_peak():
    assert warmup_cosine(0, warmup=0, total=10, peak_lr=0.5) == 0.5
    assert warmup_cosine(10, warmup=0, total=10, peak_lr=0.5) == 0.0


def test_warmup_cosine_bad_arguments():
    with pytest.raises(ValueError, match=r"warmup must be an integer in \[0, 10\], got 20"):
        warmup_cosine(0, warmup=20, total=10, peak_lr=0.1)
    with pytest.raises(ValueError, match=r"final_lr must be in \[0, 0.1\], got 0.2"):
        warmup_cosine(0, warmup=1, total=10, peak_lr=0.1, final_lr=0.2)
    with pytest.raises(ValueError, match="step must be an integer >= 0, got -1"):
        warmup_cosine(-1, warmup=1, total=10, peak_lr=0.1)
    with pytest.raises(ValueError, match="step must be an integer >= 0, got True"):
        warmup_cosine(True, warmup=1, total=10, peak_lr=0.1)
    with pytest.raises(ValueError, match="total must be a positive integer, got True"):
        warmup_cosine(0, warmup=0, total=True, peak_lr=0.1)
    with pytest.raises(ValueError, match="peak_lr must be a finite real number, got inf"):
        warmup_cosine(0, warmup=1, total=10, peak_lr=float("inf"))


def test_linear_decay():
    assert linear_decay(0, 100, 0.025, 0.0001) == 0.025
    assert linear_decay(50, 100, 0.025, 0.0001) == pytest.approx((0.025 + 0.0001) / 2, rel=RTOL)
    assert linear_decay(100, 100, 0.025, 0.0001) == pytest.approx(0.0001, rel=RTOL)
    assert linear_decay(150, 100, 0.025, 0.0001) == pytest.approx(0.0001, rel=RTOL)
    with pytest.raises(ValueError, match="total must be a positive integer, got 0"):
        linear_decay(0, 0, 0.025, 0.0001)
    with pytest.raises(ValueError, match="start_lr must be a finite real number, got nan"):
        linear_decay(0, 10, float("nan"), 0.0001)
    with pytest.raises(ValueError, match="step must be an integer >= 0, got 1.5"):
        linear_decay(1.5, 10, 0.025, 0.0001)


# ----------------------------------------------------------------------------- clipping
def _with_grads(*grads):
    params = [Parameter(np.zeros(np.shape(g))) for g in grads]
    for p, g in zip(params, grads):
        p.grad = None if g is None else np.array(g, dtype=float)
    return params


def test_clip_grad_norm_scales_to_max_norm_and_returns_the_norm_before():
    params = _with_grads([3.0, 4.0], None, [[12.0]])
    assert clip_grad_norm(params, 6.5) == 13.0
    scale = 6.5 / (13.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad, [3 * scale, 4 * scale], rtol=RTOL)
    np.testing.assert_allclose(params[2].grad, [[12 * scale]], rtol=RTOL)
    assert params[1].grad is None


def test_clip_grad_norm_leaves_small_gradients_alone():
    params = _with_grads([3.0, 4.0])
    assert clip_grad_norm(params, 5.0) == 5.0
    np.testing.assert_array_equal(params[0].grad, [3.0, 4.0])


def test_clip_grad_norm_keeps_float32():
    (p,) = _with_grads([30.0, 40.0])
    p.grad = p.grad.astype(np.float32)
    clip_grad_norm([p], 1.0)
    assert p.grad.dtype == np.float32


def test_clip_grad_norm_names_the_non_finite_parameter():
    params = _with_grads([1.0], [2.0, np.nan], [np.inf])
    with pytest.raises(FloatingPointError, match=r"params\[1\] has a non-finite gradient"):
        clip_grad_norm(params, 1.0)
    with pytest.raises(ValueError, match=r"max_norm must be in \(0, inf\), got 0.0"):
        clip_grad_norm(params, 0.0)
    with pytest.raises(ValueError, match="max_norm must be a finite real number, got inf"):
        clip_grad_norm(params, float("inf"))
