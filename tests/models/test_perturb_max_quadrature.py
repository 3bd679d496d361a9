"""Accuracy of the perturb-max quadrature rules: adaptive quadrature and Monte Carlo (spec A.3, A.6)."""
import numpy as np
import pytest

from scratch.models.perturb_max import perturb_max_potential, perturb_max_probs
from scratch.models.perturb_max.experiment import adaptive_probs
from scratch.models.perturb_max.laws import LAWS, crude_grid

def test_normal_gauss_hermite_matches_adaptive_quadrature_at_gaps_up_to_20():
    """Must show: |p − p_exact| ≤ 1e-10 with 64 Gauss–Hermite nodes; the post's grid is far worse."""
    worst_gh = worst_grid = 0.0
    for mu in ([0.0, -20.0], [0.0, -5.0, -12.0, -20.0], [3.0, 1.0, -0.5, -9.0, -17.0], [0.0, 0.1, -0.2]):
        mu = np.array(mu)
        exact = adaptive_probs(mu, "normal")
        gh = perturb_max_probs(mu[None], "normal").data[0]
        grid = perturb_max_probs(mu[None], "normal", nodes=crude_grid("normal", 64)).data[0]
        worst_gh, worst_grid = max(worst_gh, np.abs(gh - exact).max()), max(worst_grid, np.abs(grid - exact).max())
    assert worst_gh <= 1e-10
    assert worst_grid > 1e-3


def test_normal_log_probability_is_accurate_far_in_the_tail():
    """n = 2 at gap 20: p_loser = Φ_N(−20/√2) ≈ 1e−45, whose log Gauss–Hermite-64 gets to ~1e-6 relative."""
    from scipy.special import log_ndtr
    from scratch.models.perturb_max import perturb_max_log_probs

    log_p = perturb_max_log_probs(np.array([[0.0, -20.0]]), "normal").data[0, 1]
    assert abs(log_p - log_ndtr(-20 / np.sqrt(2))) < 1e-6 * abs(log_p)


@pytest.mark.parametrize("law", tuple(LAWS))
def test_every_law_matches_adaptive_quadrature(law):
    rng = np.random.default_rng(0)
    for spread in (0.3, 1.5, 4.0):
        mu = rng.normal(size=5) * spread
        np.testing.assert_allclose(perturb_max_probs(mu[None], law).data[0], adaptive_probs(mu, law),
                                   rtol=0, atol=1e-10, err_msg=f"{law}, spread {spread}")


def monte_carlo(mu: np.ndarray, law: str, draws: int, seed: int, chunk: int = 200_000):
    """Frequencies of argmax_j(μ_j + ε_j) and the mean of max_j(μ_j + ε_j) over ``draws`` samples."""
    rng = np.random.default_rng(seed)
    counts, total_max = np.zeros(len(mu)), 0.0
    for start in range(0, draws, chunk):
        noisy = mu + LAWS[law].sample(rng, (min(chunk, draws - start), len(mu)))
        counts += np.bincount(noisy.argmax(axis=1), minlength=len(mu))
        total_max += noisy.max(axis=1).sum()
    return counts / draws, total_max / draws


MU = np.array([1.0, 0.3, -0.4, 0.0, -1.5])


@pytest.mark.parametrize("law", tuple(LAWS))
def test_monte_carlo_argmax_frequencies_agree(law):
    """10⁶ argmax draws (fixed seed) agree with the quadrature within 1e-3 (A.6, step 2)."""
    freq, _ = monte_carlo(MU, law, 1_000_000, seed=1)
    np.testing.assert_allclose(freq, perturb_max_probs(MU[None], law).data[0], rtol=0, atol=1e-3)


@pytest.mark.parametrize("law", [law for law in LAWS if law != "cauchy"])
def test_potential_is_the_expected_maximum(law):
    _, mean_max = monte_carlo(MU, law, 1_000_000, seed=2)
    assert abs(perturb_max_potential(MU[None], law).item() - mean_max) < 4e-3
