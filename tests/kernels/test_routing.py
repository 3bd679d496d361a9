"""Dynamic routing: Numba kernel == NumPy reference (forward, tape, gradients), gradchecks of every
mode at 1, 3 and 5 iterations, squash/normalise near zero length, identities, torch, bad input."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

try:
    import torch
except ImportError:
    torch = None

from scratch import Tensor, gradcheck, tensor
from scratch.autograd import functional as F
from scratch.models.capsule import squash
from scratch.kernels.routing import (
    MODE_SU2, MODES, all_finite_numba, normalise_backward, normalise_forward, route, route_backward_numba,
    route_backward_reference, route_forward_numba, route_forward_reference, squash_backward, squash_forward,
)

SHAPE = (3, 4, 7, 6)  # B, K, N, D as in the spec's gradient check
GRAD_SHAPE = (2, 3, 5, 4)  # checked entry by entry, so kept small
ITERATIONS = (1, 3, 5)


def predictions(rng, shape=SHAPE, dtype=np.float64):
    return rng.normal(size=shape).astype(dtype)


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("iterations", ITERATIONS)
@pytest.mark.parametrize("stop_gradient", [False, True])
def test_numba_kernel_equals_reference(rng, mode, iterations, stop_gradient):
    assert_numba_equals_reference(rng, predictions(rng), iterations, MODES[mode], 0.5, stop_gradient)


def assert_numba_equals_reference(rng, u_hat, iterations, mode, eps, stop_gradient):
    """The Numba forward's output and tape, and its backward for a random ∂L/∂v, equal the reference's."""
    v_ref, tape_ref = route_forward_reference(u_hat, iterations, mode, eps)
    v, tape = route_forward_numba(u_hat, iterations, mode, eps)
    np.testing.assert_allclose(v, v_ref, rtol=1e-12, atol=1e-13)
    for ours, theirs in zip(tape, tape_ref):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)
    grad_v = rng.normal(size=v.shape)
    g_ref = route_backward_reference(grad_v, u_hat, tape_ref, mode, eps, stop_gradient)
    g = route_backward_numba(grad_v, u_hat, tape, mode, eps, stop_gradient)
    np.testing.assert_allclose(g, g_ref, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("iterations", [1, 3, 4])
@pytest.mark.parametrize("stop_gradient", [False, True])
def test_numba_kernel_equals_reference_over_an_odd_batch(rng, mode, iterations, stop_gradient):
    """B = 7 and B = 5 split unevenly over the prange threads, with K, N, D all different: every sample's
    output, tape and gradient equal the reference's, so no per-thread buffer leaks between samples."""
    for batch in (7, 5):
        assert_numba_equals_reference(rng, predictions(rng, (batch, 3, 5, 4)), iterations, MODES[mode], 0.7,
                                      stop_gradient)


def routing_by_loops(u_hat, iterations, mode, eps):
    """Routing of spec §2–3 one sample, output capsule and input capsule at a time: c_ij = softmax over the
    outputs j of b_ij, s_j = Σ_i c_ij û_j|i; the last iteration returns squash_ε(s); before it,
    o_j = squash_ε(s_j) ("sabour", "su1") or s_j/‖s_j‖ ("su2"), a_ij = û_j|i·o_j, and b ← b + a ("sabour")
    or b ← a (Su). squash_ε(s) = √n/(ε + n)·s with n = ‖s‖² + 1e-7."""
    batch, outputs, inputs, dim = u_hat.shape

    def squash(s):
        n = sum(x * x for x in s) + 1e-7
        return [math.sqrt(n) / (eps + n) * x for x in s]

    def unit(s):
        length = math.sqrt(sum(x * x for x in s))
        return [x / length for x in s]

    v = np.zeros((batch, outputs, dim))
    for b in range(batch):
        logits = [[0.0] * inputs for _ in range(outputs)]
        for t in range(iterations):
            c = [[0.0] * inputs for _ in range(outputs)]
            for i in range(inputs):
                total = sum(math.exp(logits[j][i]) for j in range(outputs))
                for j in range(outputs):
                    c[j][i] = math.exp(logits[j][i]) / total
            s = [[sum(c[j][i] * u_hat[b, j, i, d] for i in range(inputs)) for d in range(dim)]
                 for j in range(outputs)]
            if t == iterations - 1:
                v[b] = [squash(s_j) for s_j in s]
                break
            for j in range(outputs):
                o = unit(s[j]) if mode == "su2" else squash(s[j])
                for i in range(inputs):
                    agreement = sum(u_hat[b, j, i, d] * o[d] for d in range(dim))
                    logits[j][i] = logits[j][i] + agreement if mode == "sabour" else agreement
    return v


@pytest.mark.parametrize("implementation", ["numpy", "numba"])
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("iterations", [1, 2, 3, 5])
def test_route_equals_routing_written_with_loops(rng, implementation, mode, iterations):
    """v of ``route`` equals ``routing_by_loops`` in every mode: the softmax axis, the φ of each mode, accumulated
    versus replaced logits and the number of iterations; and its ∂L/∂Û matches a central difference of
    the loop version along a random direction."""
    eps = 1.0 if mode == "sabour" else 0.5
    u_hat = predictions(rng, (3, 4, 5, 3))
    ours = tensor(u_hat, requires_grad=True)
    v = route(ours, iterations, mode=mode, eps=eps, implementation=implementation)
    np.testing.assert_allclose(v.data, routing_by_loops(u_hat, iterations, mode, eps), rtol=1e-12, atol=1e-14)
    grad_v, direction, h = rng.normal(size=v.shape), rng.normal(size=u_hat.shape), 1e-5
    v.backward(grad_v)
    numeric = np.sum(grad_v * (routing_by_loops(u_hat + h * direction, iterations, mode, eps)
                               - routing_by_loops(u_hat - h * direction, iterations, mode, eps))) / (2 * h)
    assert np.sum(ours.grad * direction) == pytest.approx(numeric, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_numba_kernel_float32_matches_float64_reference(rng, mode):
    u_hat = predictions(rng, (4, 10, 64, 16))
    v_ref, tape = route_forward_reference(u_hat, 3, MODES[mode], 0.5)
    v, tape32 = route_forward_numba(u_hat.astype(np.float32), 3, MODES[mode], 0.5)
    assert v.dtype == np.float32
    np.testing.assert_allclose(v, v_ref, rtol=1e-5, atol=1e-6)
    grad_v = rng.normal(size=v.shape)
    g_ref = route_backward_reference(grad_v, u_hat, tape, MODES[mode], 0.5, False)
    g = route_backward_numba(grad_v.astype(np.float32), u_hat.astype(np.float32), tape32, MODES[mode], 0.5, False)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, g_ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("implementation", ["numba", "numpy"])
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("iterations", ITERATIONS)
def test_route_gradcheck(rng, implementation, mode, iterations):
    u_hat = tensor(predictions(rng, GRAD_SHAPE), requires_grad=True)
    eps = 1.0 if mode == "sabour" else 0.5
    assert gradcheck(lambda u: route(u, iterations, mode=mode, eps=eps, implementation=implementation), [u_hat])


@pytest.mark.parametrize("mode", sorted(MODES))
def test_route_gradcheck_with_long_predictions(rng, mode):
    """Large ‖Û‖ push the softmax towards one-hot and the squash towards saturation."""
    u_hat = tensor(3.0 * predictions(rng, GRAD_SHAPE), requires_grad=True)
    assert gradcheck(lambda u: route(u, 3, mode=mode), [u_hat])


@pytest.mark.parametrize("mode", sorted(MODES))
def test_stop_gradient_holds_the_last_coefficients_constant(rng, mode):
    """With Û detached in the inner iterations, v = squash(Σ_i c^{R−1}_ij Û_ji) with c^{R−1} a constant."""
    u_hat = predictions(rng)
    c_tape = route_forward_reference(u_hat, 3, MODES[mode], 0.5)[1].c
    grad_v = rng.normal(size=SHAPE[:2] + SHAPE[3:])
    ours = tensor(u_hat, requires_grad=True)
    route(ours, 3, mode=mode, stop_gradient=True).backward(grad_v)
    direct = tensor(u_hat, requires_grad=True)
    s = (direct * c_tape[-1][..., None]).sum(axis=2)
    squash(s, 0.5).backward(grad_v)
    np.testing.assert_allclose(ours.grad, direct.grad, rtol=1e-12, atol=1e-13)


def test_coefficients_are_a_softmax_over_the_outputs(rng):
    c_tape = route_forward_reference(predictions(rng), 3, MODE_SU2, 0.5)[1].c
    np.testing.assert_allclose(c_tape.sum(axis=2), 1.0, rtol=1e-12)
    np.testing.assert_allclose(c_tape[0], 1.0 / SHAPE[1])


def test_one_iteration_squashes_the_uniform_average(rng):
    """t = 0 has c = 1/K, so v = squash(Σ_i Û_ji / K) in every mode."""
    u_hat = predictions(rng)
    expected = squash_forward(u_hat.sum(axis=2) / SHAPE[1], 0.5)
    for mode in MODES:
        np.testing.assert_allclose(route(u_hat, 1, mode=mode).data, expected, rtol=1e-12)


def test_sabour_and_su1_agree_up_to_two_iterations_and_differ_after(rng):
    """b¹ = a⁰ whether logits are accumulated or replaced; from b² on they differ."""
    u_hat = predictions(rng)
    for iterations in (1, 2):
        np.testing.assert_allclose(route(u_hat, iterations, mode="sabour").data,
                                   route(u_hat, iterations, mode="su1").data, rtol=1e-12)
    assert not np.allclose(route(u_hat, 3, mode="sabour").data, route(u_hat, 3, mode="su1").data)


def test_output_length_is_below_one_and_dtype_is_kept(rng):
    for dtype in (np.float32, np.float64):
        v = route(predictions(rng, dtype=dtype), 3).data
        assert v.dtype == dtype
        assert np.all(np.linalg.norm(v, axis=-1) < 1)


@pytest.mark.parametrize("implementation", ["numba", "numpy"])
def test_the_gradient_has_the_dtype_of_the_predictions(rng, implementation):
    """float32 Û gets a float32 .grad from either implementation (the NumPy twin computes in float64)."""
    for dtype in (np.float32, np.float64):
        u_hat = Tensor(predictions(rng, dtype=dtype), requires_grad=True)
        route(u_hat, 3, implementation=implementation).sum().backward()
        assert u_hat.grad.dtype == dtype and u_hat.grad.flags.c_contiguous


@pytest.mark.parametrize("scale", [0.0, 1e-9, 1e-4, 1.0])
@pytest.mark.parametrize("eps", [0.5, 1.0])
def test_squash_backward_near_zero_length(rng, scale, eps):
    s = scale * rng.normal(size=(5, 6))
    grad = rng.normal(size=s.shape)
    v = squash_forward(s, eps)
    length = np.linalg.norm(s, axis=-1)
    n = length**2 + 1e-7
    np.testing.assert_allclose(np.linalg.norm(v, axis=-1), length * np.sqrt(n) / (eps + n), rtol=1e-12, atol=1e-300)
    analytic = squash_backward(s, grad, eps)
    assert np.all(np.isfinite(analytic))
    np.testing.assert_allclose(analytic, _numeric_vjp(lambda x: squash_forward(x, eps), s, grad), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("scale", [1e-5, 1e-3, 1.0])
def test_normalise_backward_near_zero_length(rng, scale):
    s = scale * rng.normal(size=(5, 6))
    grad = rng.normal(size=s.shape)
    np.testing.assert_allclose(np.linalg.norm(normalise_forward(s), axis=-1), 1.0, rtol=1e-12)
    numeric = _numeric_vjp(normalise_forward, s, grad, step=1e-6 * scale)
    np.testing.assert_allclose(normalise_backward(s, grad), numeric, rtol=1e-5, atol=1e-6 / scale)


def test_normalise_below_the_clamp_is_a_fixed_scaling(rng):
    """For ‖s‖² ≤ 1e-12, r is the constant 1e-6: o = s·1e6 and ∂L/∂s = ḡ·1e6, finite at s = 0."""
    s = np.zeros((2, 3))
    grad = rng.normal(size=s.shape)
    np.testing.assert_array_equal(normalise_forward(s), 0.0)
    np.testing.assert_allclose(normalise_backward(s, grad), grad * 1e6)
    tiny = 1e-8 * rng.normal(size=(2, 3))
    np.testing.assert_allclose(normalise_backward(tiny, grad), _numeric_vjp(normalise_forward, tiny, grad, 1e-12),
                               rtol=1e-6)


def _numeric_vjp(fn, x, grad, step=1e-6):
    """Σ grad ⊙ ∂fn/∂x_i by central differences, entry by entry."""
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = step
        out[i] = np.sum(grad * (fn(x + e) - fn(x - e))) / (2 * step)
    return out


@pytest.mark.parametrize("bad, match", [
    (dict(u_hat=np.zeros((2, 3, 4))), "u_hat"),
    (dict(u_hat=np.zeros((2, 0, 4, 3))), "u_hat"),
    (dict(u_hat=np.zeros((2, 3, 4, 5), dtype=np.int64)), "u_hat"),
    (dict(u_hat=np.zeros((2, 3, 4, 5), dtype=np.float16)), "u_hat"),
    (dict(mode="hinton"), "mode"),
    (dict(iterations=0), "iterations"),
    (dict(iterations=2.5), "iterations"),
    (dict(iterations=True), "iterations"),
    (dict(eps=0.0), "eps"),
    (dict(eps=float("nan")), "eps"),
    (dict(eps=float("inf")), "eps"),
    (dict(eps=True), "eps"),
    (dict(stop_gradient="no"), "stop_gradient"),
    (dict(implementation="cuda"), "implementation"),
])
def test_bad_input_names_the_argument(bad, match):
    kwargs = {"u_hat": np.zeros((2, 3, 4, 5)), "iterations": 3, "mode": "su2", "eps": 0.5, "implementation": "numba"}
    kwargs.update(bad)
    u_hat = kwargs.pop("u_hat")
    with pytest.raises(ValueError, match=match):
        route(u_hat, **kwargs)


def test_kernels_run_without_jit():
    """NUMBA_DISABLE_JIT=1 runs the same kernels as Python, with the same results."""
    code = (
        "import numpy as np\n"
        "from scratch.kernels.routing import *\n"
        "u = np.random.default_rng(0).normal(size=(2, 3, 4, 5))\n"
        "v, tape = route_forward_numba(u, 3, MODE_SU2, 0.5)\n"
        "v_ref, tape_ref = route_forward_reference(u, 3, MODE_SU2, 0.5)\n"
        "g = route_backward_numba(v, u, tape, MODE_SU2, 0.5, False)\n"
        "g_ref = route_backward_reference(v, u, tape_ref, MODE_SU2, 0.5, False)\n"
        "assert np.allclose(v, v_ref) and np.allclose(g, g_ref)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": root}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=root)


@pytest.mark.torch
@pytest.mark.skipif(torch is None, reason="torch is not installed")
class TestAgainstTorch:
    """The routing written directly in torch (``scratch.crosscheck.torch_reference.capsule``, autograd
    through every iteration, no scratch code) gives the same v and ∂L/∂Û."""

    @pytest.mark.parametrize("mode", sorted(MODES))
    @pytest.mark.parametrize("iterations", ITERATIONS)
    def test_values_and_gradients(self, rng, mode, iterations):
        from scratch.crosscheck.torch_reference.capsule import torch_route

        u_hat = predictions(rng)
        grad_v = rng.normal(size=SHAPE[:2] + SHAPE[3:])
        ours = tensor(u_hat, requires_grad=True)
        v = route(ours, iterations, mode=mode)
        v.backward(grad_v)
        theirs = torch.tensor(u_hat, requires_grad=True)
        v_torch = torch_route(theirs, iterations, mode, 0.5)
        v_torch.backward(torch.from_numpy(grad_v))
        np.testing.assert_allclose(v.data, v_torch.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_softmax_axis_matches_functional_softmax(rng):
    """c^t = softmax over the outputs (axis 1 of (B, K, N)), the pitfall of spec §10.1."""
    u_hat = predictions(rng)
    _, tape = route_forward_reference(u_hat, 2, MODE_SU2, 0.5)
    b1 = np.einsum("bknd,bkd->bkn", u_hat, tape.o[0])
    np.testing.assert_allclose(tape.c[1], F.softmax(b1, axis=1).data, rtol=1e-12)


@pytest.mark.parametrize("batch", [1, 2, 3, 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parallel_finiteness_check_finds_a_bad_value_in_any_sample(rng, batch, dtype):
    """The check runs one sample per thread: a NaN or an infinity in the first, a middle or the last
    sample, at its first or last entry, is found; a finite batch passes (np.isfinite is the reference)."""
    u_hat = rng.normal(size=(batch, 3, 5, 4)).astype(dtype)
    assert all_finite_numba(u_hat)
    for sample in sorted({0, batch // 2, batch - 1}):
        for entry, bad in [((0, 0, 0), np.nan), ((2, 4, 3), np.inf), ((1, 2, 1), -np.inf)]:
            broken = u_hat.copy()
            broken[(sample, *entry)] = bad
            assert not all_finite_numba(broken) and not np.isfinite(broken).all()
