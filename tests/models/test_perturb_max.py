"""Perturb-max distributions: the identities of spec Part A, gradients of every law and loss, bad input."""
import math

import numpy as np
import pytest
from scipy import special

import scratch.models.perturb_max.distribution as pm
from scratch import Tensor, gradcheck
from scratch.autograd import functional as F
from scratch.models.perturb_max import (
    perturb_max_log_probs,
    perturb_max_loss,
    perturb_max_potential,
    perturb_max_probs,
    perturb_max_sample,
)
from scratch.models.perturb_max.laws import LAWS, crude_grid, gauss_hermite, midpoint_grid, tail_split_rule

ALL_LAWS = tuple(LAWS)
WITH_MEAN = tuple(law for law in ALL_LAWS if law != "cauchy")


def logits(shape=(4, 6), seed=0, spread=1.5):
    return np.random.default_rng(seed).normal(size=shape) * spread


def probs(mu, law, **kw):
    return perturb_max_probs(mu, law, **kw).data


# n = 2, probability of the loser at gap d (spec A.2 table; logistic: the exact form whose tail is d·e^{−d}).
LOSER = {
    "gumbel": lambda d: 1 / (1 + np.exp(d)),
    "exponential": lambda d: np.exp(-d) / 2,
    "uniform": lambda d: np.where(d < 1, (1 - np.minimum(d, 1)) ** 2 / 2, 0.0),
    "normal": lambda d: special.ndtr(-d / math.sqrt(2)),
    "logistic": lambda d: (d * np.exp(d) - np.exp(d) + 1) / np.expm1(d) ** 2,
    "laplace": lambda d: (2 + d) * np.exp(-d) / 4,
    "cauchy": lambda d: 0.5 - np.arctan(d / 2) / math.pi,
}


def test_gumbel_quadrature_equals_softmax():
    mu = logits((5, 7), spread=3.0)
    for scale in (1.0, 0.6):
        soft = F.softmax(Tensor(mu / scale)).data
        np.testing.assert_allclose(probs(mu, "gumbel", scale=scale), soft, rtol=0, atol=1e-15)
        np.testing.assert_allclose(probs(mu, "gumbel", scale=scale, nodes=12), soft, rtol=0, atol=1e-10)


@pytest.mark.parametrize("law", ALL_LAWS)
def test_probabilities_sum_to_one_and_ignore_shifts(law):
    mu = logits((4, 6), seed=1)
    for scale in (1.0, 0.7):
        p = probs(mu, law, scale=scale)
        assert (p >= 0).all()
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-10)
        np.testing.assert_allclose(probs(mu + np.array([[3.7], [-20.0], [0.1], [55.0]]), law, scale=scale), p,
                                   rtol=0, atol=1e-10)


@pytest.mark.parametrize("law", ALL_LAWS)
def test_scale_is_a_temperature(law):
    mu = logits((3, 5), seed=2)
    np.testing.assert_allclose(probs(mu, law, scale=0.5), probs(mu / 0.5, law), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("law", ALL_LAWS)
def test_larger_logit_gets_larger_probability(law):
    mu = logits((6, 8), seed=3)
    p = probs(mu, law)
    for row_mu, row_p in zip(mu, p):
        order = np.argsort(row_mu)
        assert (np.diff(row_p[order]) >= 0).all()
        alive = row_p[order] > 0
        assert (np.diff(row_p[order][alive]) > 0).all()


@pytest.mark.parametrize("law", ALL_LAWS)
def test_two_class_closed_forms(law):
    d = np.array([0.05, 0.3, 0.9, 1.0, 2.0, 5.0, 9.0])
    mu = np.stack([d, np.zeros_like(d)], axis=1)
    p = probs(mu, law)
    np.testing.assert_allclose(p[:, 1], LOSER[law](d), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(p[:, 0], 1 - LOSER[law](d), rtol=1e-9, atol=1e-13)


def test_reference_values_of_the_spec():
    """Spec A.2, μ = (1, 0.3, −0.4, 0, −1.5), given to three decimals."""
    mu = np.array([[1.0, 0.3, -0.4, 0.0, -1.5]])
    reference = {
        "gumbel": (0.456, 0.226, 0.112, 0.168, 0.037),
        "normal": (0.543, 0.226, 0.077, 0.146, 0.0085),
        "exponential": (0.547, 0.196, 0.089, 0.139, 0.028),
        "uniform": (0.955, 0.045, 0, 0, 0),
        "logistic": (0.403, 0.235, 0.130, 0.184, 0.048),
        "cauchy": (0.365, 0.223, 0.143, 0.182, 0.087),
    }
    for law, values in reference.items():
        np.testing.assert_allclose(probs(mu, law)[0], values, rtol=0, atol=5e-4 + 1e-12, err_msg=law)


def _reference_and_kernel(law, mu, nodes=None):
    e, log_w = pm.quadrature_rule(law, mu, nodes)
    grad = np.random.default_rng(1).normal(size=mu.shape)
    out = []
    for backend in ("numpy", "numba"):
        terms = pm.log_terms(law, mu, e, log_w, backend)
        log_p = pm._logsumexp(terms, axis=2)
        out.append((terms, pm.log_probs_vjp(law, mu, e, terms, log_p, grad, backend)))
    return out


@pytest.mark.parametrize("law", ALL_LAWS)
def test_numba_kernel_equals_numpy_reference(law):
    """Forward terms T and the VJP: the Numba loop against the NumPy definition, float64."""
    cases = [(logits((5, 6), seed=13, spread=s), None) for s in (0.3, 2.0, 8.0)]
    cases.append((logits((3, 4), seed=14), crude_grid(law, 32)))
    for mu, nodes in cases:
        (t_ref, g_ref), (t_nb, g_nb) = _reference_and_kernel(law, mu, nodes)
        finite = np.isfinite(t_ref)
        np.testing.assert_array_equal(finite, np.isfinite(t_nb))
        np.testing.assert_allclose(t_nb[finite], t_ref[finite], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g_nb, g_ref, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("law", ["gumbel", "normal", "cauchy"])
def test_parallel_loops_equal_the_numpy_reference_and_are_taken_above_the_threshold(law, monkeypatch):
    """The rows-in-parallel forms of both loops, forced by a zero threshold, against the NumPy definition
    (float64, 9 rows: more rows than threads), and the same arithmetic as the serial forms bit for bit."""
    import scratch.kernels.perturb_max as kernels

    mu = logits((9, 6), seed=21, spread=2.0)
    serial = _reference_and_kernel(law, mu)[1]
    monkeypatch.setattr(pm, "PARALLEL_WORK", 0)
    calls = []
    for name in ("log_terms_kernel_parallel", "log_probs_vjp_kernel_parallel"):
        monkeypatch.setattr(pm, name, lambda *a, _f=getattr(kernels, name): calls.append(_f) or _f(*a))
    (t_ref, g_ref), (t_par, g_par) = _reference_and_kernel(law, mu)
    assert len(calls) == 2
    finite = np.isfinite(t_ref)
    np.testing.assert_allclose(t_par[finite], t_ref[finite], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g_par, g_ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(t_par, serial[0])
    np.testing.assert_array_equal(g_par, serial[1])


@pytest.mark.parametrize("law", ALL_LAWS)
def test_quadrature_size_counts_the_nodes_of_the_rule(law):
    for n in (2, 5, 8):
        for nodes in ((None, 7, crude_grid(law, 16)) if law in ("normal", "logistic", "cauchy") else (None,)):
            e, log_w = pm.quadrature_rule(law, logits((2, n)), nodes)
            assert e.shape[-1] == log_w.shape[-1] == pm.quadrature_size(law, n, nodes)


def test_chunked_reference_equals_one_chunk(monkeypatch):
    mu = logits((3, 7), seed=4)
    results = []
    for chunk in (1 << 21, 64):
        monkeypatch.setattr(pm, "_CHUNK_ELEMENTS", chunk)
        results.append(_reference_and_kernel("laplace", mu)[0])
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-13, atol=1e-15)


def _mu64(seed, shape=(3, 4), spread=1.0):
    return Tensor(logits(shape, seed=seed, spread=spread), requires_grad=True)


@pytest.mark.parametrize("law", ALL_LAWS)
def test_gradcheck_log_probs_and_probs(law):
    # Uniform noise: logits within a gap of 1 keep every class alive (log p finite).
    spread = 0.25 if law == "uniform" else 1.0
    for scale in (1.0, 0.8):
        gradcheck(lambda m: perturb_max_log_probs(m, law, scale=scale), [_mu64(5, spread=spread)])
        gradcheck(lambda m: perturb_max_probs(m, law, scale=scale), [_mu64(6, spread=spread)])


@pytest.mark.parametrize("law", ALL_LAWS)
def test_gradcheck_losses(law):
    spread = 0.25 if law == "uniform" else 1.0
    targets = np.array([0, 3, 1])
    kinds = pm.KINDS if law in WITH_MEAN else ("ce", "soft_accuracy")
    for kind in kinds:
        gradcheck(lambda m: perturb_max_loss(m, targets, law, kind, scale=0.9), [_mu64(7, spread=spread)])


@pytest.mark.parametrize("law", WITH_MEAN)
def test_potential_gradient_is_p(law):
    """∇Φ = p (Danskin): the backward returns p, so the finite differences of Φ must match it."""
    mu = _mu64(8, spread=0.3 if law == "uniform" else 1.0)
    gradcheck(lambda m: perturb_max_potential(m, law, scale=1.3), [mu], atol=1e-7, rtol=1e-6)
    mu.grad = None
    perturb_max_potential(mu, law, scale=1.3).sum().backward()
    np.testing.assert_allclose(mu.grad, probs(mu.data, law, scale=1.3), rtol=0, atol=1e-15)


def test_fy_loss_gradient_is_p_minus_onehot():
    mu = _mu64(9, shape=(3, 5))
    targets = np.array([4, 0, 2])
    perturb_max_loss(mu, targets, "normal", "fy", reduction="sum").backward()
    expected = probs(mu.data, "normal") - np.eye(5)[targets]
    np.testing.assert_allclose(mu.grad, expected, rtol=0, atol=1e-15)


def test_gumbel_potential_is_logsumexp_plus_euler_gamma():
    mu = logits((4, 6), seed=10)
    closed = perturb_max_potential(mu, "gumbel", scale=0.5).data
    np.testing.assert_allclose(closed, 0.5 * (special.logsumexp(mu / 0.5, axis=1) + np.euler_gamma), rtol=1e-14)
    np.testing.assert_allclose(perturb_max_potential(mu, "gumbel", scale=0.5, nodes=12).data, closed,
                               rtol=0, atol=1e-10)


def test_uniform_noise_gives_exact_zeros_and_zero_gradients():
    mu = Tensor(np.array([[2.0, 1.5, 1.0, -3.0, 0.4], [0.0, 0.2, -0.79, -0.8, -5.0]]), requires_grad=True)
    p = perturb_max_probs(mu, "uniform")
    dead = mu.data.max(axis=1, keepdims=True) - mu.data >= 1
    assert (p.data[dead] == 0).all() and (p.data[~dead] > 0).all()
    assert np.isneginf(perturb_max_log_probs(mu, "uniform").data[dead]).all()
    (p * Tensor(np.random.default_rng(0).normal(size=p.shape))).sum().backward()
    assert (mu.grad[dead] == 0).all() and (mu.grad[~dead] != 0).all()
    # The FY loss stays finite and has gradient p − onehot(t) on a dead target.
    mu.grad = None
    loss = perturb_max_loss(mu, np.array([3, 4]), "uniform", "fy", reduction="sum")
    loss.backward()
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(mu.grad, p.data - np.eye(5)[[3, 4]], atol=1e-15)
    assert np.isposinf(perturb_max_loss(mu.data, np.array([3, 4]), "uniform", "ce").item())


def test_uniform_gradient_matches_finite_differences_near_the_support_edge():
    # One class alive by a margin of 0.1 below the gap of 1, another dead by 0.1 beyond it.
    mu = Tensor(np.array([[0.0, -0.9, -0.3, -1.1]]), requires_grad=True)
    gradcheck(lambda m: perturb_max_probs(m, "uniform"), [mu])


def test_float32_logits_give_float32_results():
    mu = Tensor(logits((2, 4)).astype(np.float32), requires_grad=True)
    for law in ("normal", "uniform", "gumbel"):
        mu.grad = None
        out = perturb_max_loss(mu, np.array([0, 1]), law, "fy")
        out.backward()
        assert out.dtype == np.float32 and mu.grad.dtype == np.float32
        assert perturb_max_probs(mu, law).dtype == np.float32


def test_crude_grid_loses_mass_and_midpoint_does_better():
    """Spec A.3: the post's equal-weight grid misses mass at both ends (Σp ≈ 0.96–0.99 at K = 64–100)."""
    mu = logits((3, 6), seed=11)
    grid = probs(mu, "normal", nodes=crude_grid("normal", 64)).sum(axis=1)
    mid = probs(mu, "normal", nodes=midpoint_grid("normal", 64)).sum(axis=1)
    assert (grid < 0.995).all() and (grid > 0.95).all()
    assert (np.abs(mid - 1) < np.abs(grid - 1) / 3).all()


def test_hard_samples_follow_p_and_straight_through_has_the_gradient_of_p():
    mu = np.array([[1.0, 0.3, -0.4, 0.0, -1.5]])
    rng = np.random.default_rng(0)
    many = np.repeat(mu, 200_000, axis=0)
    for law in ("normal", "uniform", "cauchy"):
        y = perturb_max_sample(many, law, rng=rng).data
        assert set(np.unique(y)) <= {0.0, 1.0} and (y.sum(axis=1) == 1).all()
        np.testing.assert_allclose(y.mean(axis=0), probs(mu, law)[0], atol=4e-3)
    weights = Tensor(np.arange(5.0))
    for law in ("normal", "laplace"):
        a, b = Tensor(mu, requires_grad=True), Tensor(mu, requires_grad=True)
        y = perturb_max_sample(a, law, rng=rng, mode="straight_through")
        assert set(np.unique(y.data)) <= {0.0, 1.0}
        (y * weights).sum().backward()
        (perturb_max_probs(b, law) * weights).sum().backward()
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-15)


def test_relaxed_sample_is_a_differentiable_softmax_of_the_perturbed_logits():
    mu = _mu64(12)
    relaxed = perturb_max_sample(mu, "logistic", rng=np.random.default_rng(3), mode="relaxed", temperature=0.5)
    noise = LAWS["logistic"].sample(np.random.default_rng(3), mu.shape)
    np.testing.assert_allclose(relaxed.data, F.softmax(Tensor((mu.data + noise) / 0.5)).data, rtol=1e-14)
    gradcheck(lambda m: perturb_max_sample(m, "logistic", rng=np.random.default_rng(3), mode="relaxed",
                                           temperature=0.5), [mu])


@pytest.mark.parametrize("call, match", [
    (lambda: perturb_max_probs(np.array([[0.0, np.nan]])), "mu contains NaN"),
    (lambda: perturb_max_probs(np.array([[0.0, np.inf]])), "mu contains NaN or infinite"),
    (lambda: perturb_max_probs(np.zeros((2, 3)), "student"), "law must be one of"),
    (lambda: perturb_max_probs(np.zeros((2, 1))), "at least n = 2"),
    (lambda: perturb_max_probs(np.zeros(3)), r"mu must be a \(B, n\)"),
    (lambda: perturb_max_probs(np.zeros((2, 3)), scale=0.0), "scale must be"),
    (lambda: perturb_max_probs(np.zeros((2, 3)), nodes=0), "nodes must be"),
    (lambda: perturb_max_probs(np.zeros((2, 3)), "uniform", nodes=16), "exact rule"),
    (lambda: perturb_max_loss(np.zeros((2, 3)), [0, 1], kind="hinge"), "kind must be"),
    (lambda: perturb_max_loss(np.zeros((2, 3)), [0]), "targets must have shape"),
    (lambda: perturb_max_loss(np.zeros((2, 3)), [0, 1], reduction="avg"), "reduction"),
    (lambda: perturb_max_loss(np.zeros((2, 3)), [0, 1], "cauchy", "fy"), "Cauchy law has no mean"),
    (lambda: perturb_max_sample(np.zeros((2, 3)), rng=np.random.default_rng(0), mode="soft"), "mode must be"),
    (lambda: perturb_max_sample(np.zeros((2, 3)), rng=np.random.default_rng(0), temperature=-1.0), "temperature"),
])
def test_bad_input_raises_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: perturb_max_probs(np.zeros((2, 3)), scale=True), "^scale must be"),
    (lambda: perturb_max_probs(np.zeros((2, 3)), scale=np.inf), "^scale must be a finite"),
    (lambda: perturb_max_probs(np.zeros((2, 3)), scale=np.nan), "^scale must be a finite"),
    (lambda: perturb_max_probs(np.zeros((2, 3)), scale="1"), "^scale must be"),
    (lambda: perturb_max_probs(np.zeros((2, 3)), nodes=True), "^nodes must be"),
    (lambda: perturb_max_probs(np.zeros((2, 3)), nodes=12.0), "^nodes must be"),
    (lambda: perturb_max_probs(np.zeros((2, 3)), law=True), "^law must be one of"),
    (lambda: perturb_max_potential(np.zeros((2, 3)), scale=-np.inf), "^scale must be"),
    (lambda: perturb_max_loss(np.zeros((2, 3)), [0, 1], kind=True), "^kind must be"),
    (lambda: perturb_max_loss(np.zeros((2, 3)), [0, 1], reduction=None), "^reduction must be"),
    (lambda: perturb_max_sample(np.zeros((2, 3)), rng=np.random.default_rng(0), temperature=np.inf), "^temperature"),
    (lambda: perturb_max_sample(np.zeros((2, 3)), rng=np.random.default_rng(0), temperature=np.nan), "^temperature"),
    (lambda: pm.quadrature_size("normal", True), "^n must be"),
    (lambda: pm.quadrature_size("uniform", 5, nodes=8), "exact rule"),
    (lambda: pm.log_terms("normal", np.zeros((1, 2)), np.zeros(3), np.zeros(3), backend="torch"), "^backend"),
    (lambda: crude_grid("student", 8), "^law must be one of"),
    (lambda: crude_grid("normal", True), "^size must be"),
    (lambda: midpoint_grid("normal", 0), "^size must be"),
    (lambda: gauss_hermite(True), "^size must be"),
    (lambda: tail_split_rule("logistic", np.zeros((1, 3)), size=True), "^size must be"),
])
def test_settings_are_checked_by_name(call, match):
    """``True`` is not a scale or a node count, and a scale or temperature must be finite."""
    with pytest.raises(ValueError, match=match):
        call()


def test_numpy_scalar_settings_are_accepted():
    mu = logits((3, 5), seed=4)
    np.testing.assert_array_equal(probs(mu, "normal", scale=np.float32(0.5)), probs(mu, "normal", scale=0.5))
    np.testing.assert_array_equal(probs(mu, "logistic", nodes=np.int64(7)), probs(mu, "logistic", nodes=7))
    np.testing.assert_array_equal(perturb_max_potential(mu, "laplace", scale=np.float64(2.0)).data,
                                  perturb_max_potential(mu, "laplace", scale=2).data)


def test_a_sample_needs_a_generator():
    with pytest.raises(TypeError, match="rng must be"):
        perturb_max_sample(np.zeros((2, 3)), rng=0)


def test_out_of_range_targets_are_rejected():
    with pytest.raises(IndexError, match="targets out of range"):
        perturb_max_loss(np.zeros((2, 3)), [0, 3])


def test_integer_logits_are_rejected():
    with pytest.raises(TypeError, match="mu must be a floating-point"):
        perturb_max_probs(np.zeros((2, 3), dtype=np.int64))


def test_normal_hazard_equals_density_over_cdf_in_both_tails():
    z = np.linspace(-60, 60, 2001)
    normal = LAWS["normal"]
    expected = np.exp(normal.log_pdf(z) - normal.log_cdf(z))
    np.testing.assert_allclose(normal.hazard(z), expected, rtol=1e-12, atol=1e-300)


def test_normal_slopes_of_spec_a2():
    """Noise std 2/√π matches softmax's slope of p_loser at a tie (both 1/4), and for unit normal noise
    the slope of −log p_loser in the gap tends to gap/2 (softmax-CE's saturates at 1)."""
    def loser_slope(law, gap, scale=1.0, log=False):
        mu = Tensor(np.array([[gap, 0.0]]), requires_grad=True)
        out = perturb_max_log_probs(mu, law, scale=scale) if log else perturb_max_probs(mu, law, scale=scale)
        out[0, 1].backward()
        return -mu.grad[0, 0]

    assert loser_slope("normal", 0.0, scale=2 / math.sqrt(math.pi)) == pytest.approx(0.25, abs=1e-13)
    assert loser_slope("gumbel", 0.0) == pytest.approx(0.25, abs=1e-15)
    for gap in (10.0, 20.0):
        # −d log Φ_N(−d/√2)/dd = h_N(−d/√2)/√2 = d/2 + 1/d + O(d⁻³)
        assert loser_slope("normal", gap, log=True) == pytest.approx(gap / 2 + 1 / gap, rel=1e-3)
    assert loser_slope("gumbel", 20.0, log=True) == pytest.approx(1.0, abs=1e-8)
