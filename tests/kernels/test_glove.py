"""GloVe kernel: Numba epoch == NumPy definition, gradchecks of the whole objective, the AdaGrad step
on the autograd gradient, the spec's gradient identity, NaN skipping, Hogwild, bad input."""
import math

import numpy as np
import pytest

from scratch import Tensor, gradcheck
from scratch.kernels.glove import GloVeParams, glove_epoch, glove_epoch_reference, glove_loss, glove_weight

V, D = 9, 4


def records(rng, n=60, vocab=V):
    """Random ordered records over ids 1..vocab-1 (repeats included, i != j)."""
    rows = rng.integers(1, vocab, n).astype(np.int32)
    cols = ((rows - 1 + rng.integers(1, vocab - 1, n)) % (vocab - 1) + 1).astype(np.int32)
    target = rng.normal(0.0, 1.0, n)
    weight = rng.uniform(0.1, 1.0, n)
    return rows, cols, target, weight


def params(rng, shared, biases, scale=0.5, dtype=np.float64):
    p = GloVeParams.init(V, D, shared=shared, biases=biases, rng=rng, dtype=dtype)
    p.W[:] *= scale * D  # larger than glove.c's init, so that the updates are far from trivial
    if not shared:
        p.C[:] *= scale * D
    if biases:
        p.b[:] = rng.normal(0, 0.3, V)
        p.c[:] = rng.normal(0, 0.3, V)
    return p


def copy(p):
    arrays = {k: v.copy() for k, v in p._asdict().items()}
    if p.shared:
        arrays["C"], arrays["GC"] = arrays["W"], arrays["GW"]
    return GloVeParams(**arrays)


CONFIGS = [(shared, biases, order) for shared, biases in [(True, False), (False, False), (False, True)]
           for order in ["su", "stanford"]]


@pytest.mark.parametrize("shared, biases, order", CONFIGS)
def test_numba_epoch_equals_the_numpy_definition(rng, shared, biases, order):
    p = params(rng, shared, biases)
    q = copy(p)
    data = records(rng)
    eta = 0.1 if order == "su" else 0.05
    cost = glove_epoch(p, *data, eta=eta, adagrad=order)
    expected = glove_epoch_reference(q, *data, eta=eta, adagrad=order)
    assert cost == pytest.approx(expected, rel=1e-12)
    for name in GloVeParams._fields:
        np.testing.assert_allclose(getattr(p, name), getattr(q, name), rtol=1e-11, atol=1e-13, err_msg=name)
    assert not np.allclose(p.W, params(np.random.default_rng(0), shared, biases).W)


def test_float32_parameters_follow_the_definition(rng):
    p = params(rng, False, True, dtype=np.float32)
    q = copy(p)
    data = records(rng)
    glove_epoch(p, *data, eta=0.05, adagrad="stanford")
    glove_epoch_reference(q, *data, eta=0.05, adagrad="stanford")
    assert p.W.dtype == np.float32
    np.testing.assert_allclose(p.W, q.W, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.b, q.b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("biases", [False, True])
def test_gradcheck_of_the_whole_objective(rng, biases):
    rows, cols, target, weight = records(rng, n=25)
    W, C = (Tensor(rng.normal(0, 0.5, (V, D)), requires_grad=True) for _ in range(2))
    b, c = (Tensor(rng.normal(0, 0.5, V), requires_grad=True) for _ in range(2))
    if biases:
        assert gradcheck(lambda W, C, b, c: glove_loss(W, C, b, c, rows, cols, target, weight), [W, C, b, c])
    else:
        assert gradcheck(lambda W, C: glove_loss(W, C, None, None, rows, cols, target, weight), [W, C])


def test_gradcheck_of_the_shared_objective(rng):
    rows, cols, target, weight = records(rng, n=25)
    W = Tensor(rng.normal(0, 0.5, (V, D)), requires_grad=True)
    assert gradcheck(lambda W: glove_loss(W, W, None, None, rows, cols, target, weight), [W])


def test_shared_gradient_is_the_spec_identity(rng):
    """For symmetric records, dJ/dv_k = sum_j (F∘E + (F∘E)^T)_kj v_j = 2 sum_j f_kj e_kj v_j (spec §2.3)."""
    v = rng.normal(0, 0.5, (V, D))
    F = np.triu(rng.uniform(0.1, 1.0, (V, V)), 1)
    M = np.triu(rng.normal(0, 1.0, (V, V)), 1)
    F, M = F + F.T, M + M.T  # symmetric, zero diagonal (the diagonal is not fitted)
    i, j = np.nonzero(F)
    W = Tensor(v.copy(), requires_grad=True)
    glove_loss(W, W, None, None, i.astype(np.int32), j.astype(np.int32), M[i, j], F[i, j]).backward()
    E = (v @ v.T - M) * (F > 0)
    FE = F * E
    np.testing.assert_allclose(W.grad, (FE + FE.T) @ v, rtol=1e-12)
    np.testing.assert_allclose(W.grad, 2 * FE @ v, rtol=1e-12)


@pytest.mark.parametrize("order", ["su", "stanford"])
def test_one_epoch_is_adagrad_on_the_autograd_gradient(rng, order):
    """Records on disjoint ids: each row is touched once, so its update uses dJ/dtheta of the whole J."""
    rows = np.array([1, 3, 5, 7], np.int32)
    cols = np.array([2, 4, 6, 8], np.int32)
    target, weight = rng.normal(0, 1, 4), rng.uniform(0.2, 1, 4)
    p = params(rng, False, True)
    theta = [Tensor(a.copy(), requires_grad=True) for a in (p.W, p.C, p.b, p.c)]
    glove_loss(*theta, rows, cols, target, weight).backward()
    eta = 0.1 if order == "su" else 0.05
    glove_epoch(p, rows, cols, target, weight, eta=eta, adagrad=order)
    for new, old in zip((p.W, p.C, p.b, p.c), theta):
        g = old.grad
        if order == "su":  # G = 1 + g^2, then divide
            step = eta * g / np.sqrt(1 + g**2 + 1e-8)
        else:  # divide by G = 1 first; vectors take eta, biases do not (glove.c)
            step = (eta if new.ndim == 2 else 1.0) * g
        np.testing.assert_allclose(new, old.data - step, rtol=1e-12, atol=1e-15)


def test_a_non_finite_record_is_skipped(rng):
    p = params(rng, False, True)
    q = copy(p)
    rows, cols, target, weight = records(rng, n=5)
    target[2] = np.nan
    keep = np.arange(5) != 2
    cost = glove_epoch(p, rows, cols, target, weight, eta=0.1)
    expected = glove_epoch_reference(q, rows[keep], cols[keep], target[keep], weight[keep], eta=0.1)
    assert cost == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(p.W, q.W, rtol=1e-12)


def test_hogwild_threads_train(rng):
    """Two racing threads still fit targets that a rank-D Gram matrix explains exactly."""
    rows, cols, _, weight = records(rng, n=2000)
    u = rng.normal(0, 0.5, (V, D))
    target = np.einsum("nd,nd->n", u[rows], u[cols])
    p = params(rng, True, False)
    costs = [glove_epoch(p, rows, cols, target, weight, eta=0.1, threads=2) for _ in range(20)]
    assert np.all(np.isfinite(costs)) and costs[-1] < 0.05 * costs[0]


def adagrad_by_hand(p, rows, cols, target, weight, eta, order, grad_clip):
    """The spec's per-record AdaGrad (§2.3, glove.c), coordinate by coordinate in plain Python.

    Returns (cost, clipped, eta_below): the coordinates whose |g| exceeded grad_clip, and among those
    the ones with eta |g| under it (where clipping eta g instead of g would change the step).
    """
    W, C, b, c, GW, GC, Gb, Gc = p
    dim, biases = W.shape[1], b.size > 0
    cost, clipped, eta_below = 0.0, 0, 0
    for i, j, t, f in zip(rows.tolist(), cols.tolist(), target.tolist(), weight.tolist()):
        e = sum(float(W[i, k]) * float(C[j, k]) for k in range(dim)) - t
        if biases:
            e += float(b[i]) + float(c[j])
        fe = f * e
        if not math.isfinite(fe):
            continue
        cost += 0.5 * fe * e
        g_w = [fe * float(C[j, k]) for k in range(dim)]       # both from the pre-update vectors
        g_c = [fe * float(W[i, k]) for k in range(dim)]
        u_w, u_c = [], []
        for k in range(dim):
            for g, G, r, u in ((g_w[k], GW, i, u_w), (g_c[k], GC, j, u_c)):
                if order == "su":
                    G[r, k] += g * g
                    u.append(eta * g / math.sqrt(G[r, k] + 1e-8))
                else:
                    clipped += abs(g) > grad_clip
                    eta_below += abs(g) > grad_clip > eta * abs(g)
                    step = eta * max(-grad_clip, min(grad_clip, g))
                    u.append(step / math.sqrt(G[r, k]))
                    G[r, k] += step * step
        if math.isfinite(sum(u_w)) and math.isfinite(sum(u_c)):
            for k in range(dim):
                W[i, k] -= u_w[k]
                C[j, k] -= u_c[k]
        if biases:
            for bias, G, r in ((b, Gb, i), (c, Gc, j)):
                if order == "su":
                    G[r] += fe * fe
                    bias[r] -= eta * fe / math.sqrt(G[r] + 1e-8)
                else:
                    bias[r] -= fe / math.sqrt(G[r])
                    G[r] += fe * fe
    return cost, clipped, eta_below


@pytest.mark.parametrize("shared, biases, order", CONFIGS)
def test_epoch_equals_the_per_record_adagrad_of_the_spec(rng, shared, biases, order):
    """Numba epoch == NumPy definition == the spec's update written out here, with a gradient clip that
    many coordinates exceed while eta |g| stays under it (Stanford's order clips g, then scales by eta)."""
    p = params(rng, shared, biases, scale=2.0)
    by_kernel, by_hand = copy(p), copy(p)
    rows, cols, target, weight = records(rng)
    target *= 4.0
    weight *= 3.0
    eta, grad_clip = (0.1, 100.0) if order == "su" else (0.05, 1.5)
    cost = glove_epoch(by_kernel, rows, cols, target, weight, eta=eta, adagrad=order, grad_clip=grad_clip)
    reference = glove_epoch_reference(p, rows, cols, target, weight, eta=eta, adagrad=order, grad_clip=grad_clip)
    expected, clipped, eta_below = adagrad_by_hand(by_hand, rows, cols, target, weight, eta, order, grad_clip)
    if order == "stanford":
        assert eta_below > 50 and clipped < 2 * D * len(rows) - 50, (clipped, eta_below)
    assert cost == pytest.approx(expected, rel=1e-12) and reference == pytest.approx(expected, rel=1e-12)
    for name in GloVeParams._fields:
        want = getattr(by_hand, name)
        np.testing.assert_allclose(getattr(by_kernel, name), want, rtol=1e-11, atol=1e-13, err_msg=name)
        np.testing.assert_allclose(getattr(p, name), want, rtol=1e-11, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("shared, biases, order", [(True, False, "su"), (False, True, "stanford")])
def test_hogwild_threads_train_every_record_once(rng, threads, shared, biases, order):
    """Records that share no parameter (all ids distinct) do not race: each thread's slice is then
    trained exactly as on one thread, so the result equals the single-thread epoch; a slice skipped,
    trained twice or by the wrong thread changes it. 61 records do not split evenly into 2 or 3."""
    n, dim = 61, D
    ids = rng.permutation(np.arange(1, 2 * n + 1)).astype(np.int32)
    rows, cols = ids[:n], ids[n:]
    target, weight = rng.normal(0.0, 1.0, n), rng.uniform(0.1, 1.0, n)
    p = GloVeParams.init(2 * n + 1, dim, shared=shared, biases=biases, rng=rng)
    p.W[:] *= dim
    if not shared:
        p.C[:] *= dim
    one, many = copy(p), copy(p)
    eta = 0.1 if order == "su" else 0.05
    cost_one = glove_epoch(one, rows, cols, target, weight, eta=eta, adagrad=order)
    cost_many = glove_epoch(many, rows, cols, target, weight, eta=eta, adagrad=order, threads=threads)
    assert cost_many == pytest.approx(cost_one, rel=1e-12)
    for name in GloVeParams._fields:
        np.testing.assert_allclose(getattr(many, name), getattr(one, name), rtol=1e-12, atol=1e-15, err_msg=name)
    assert not np.allclose(one.W, p.W)


def test_glove_weight():
    x = np.array([1.0, 50.0, 100.0, 400.0])
    np.testing.assert_allclose(glove_weight(x), [0.01**0.75, 0.5**0.75, 1.0, 1.0])
    np.testing.assert_allclose(glove_weight(x, truncate=False), [0.01**0.75, 0.5**0.75, 1.0, 4.0**0.75])
    with pytest.raises(ValueError, match="x_max"):
        glove_weight(x, x_max=0)
    with pytest.raises(ValueError, match="alpha"):
        glove_weight(x, alpha=-1)
    for name, value in (("x_max", np.inf), ("x_max", np.nan), ("alpha", np.inf), ("x_max", True)):
        with pytest.raises(ValueError, match=f"^{name} must be"):
            glove_weight(x, **{name: value})
    with pytest.raises(ValueError, match="^truncate must be"):
        glove_weight(x, truncate="no")


@pytest.mark.parametrize("change, message", [
    ({"adagrad": "adam"}, "adagrad"),
    ({"eta": 0.0}, "eta"),
    ({"threads": 0}, "threads"),
    ({"grad_clip": -1.0}, "grad_clip"),
    ({"threads": True}, "threads"),
    ({"eta": np.inf}, "eta"),
    ({"eta": np.nan}, "eta"),
    ({"eta": True}, "eta"),
    ({"grad_clip": np.inf}, "grad_clip"),
    ({"adagrad": True}, "adagrad"),
    ({"rows": np.array([1, 2], np.int64)}, "rows"),
    ({"cols": np.array([1], np.int32)}, "cols"),
    ({"target": np.zeros(2, np.float32)}, "target"),
    ({"rows": np.array([1, V], np.int32)}, "ids"),
])
def test_bad_arguments_raise(rng, change, message):
    args = {"params": params(rng, False, True), "rows": np.array([1, 2], np.int32),
            "cols": np.array([2, 3], np.int32), "target": np.zeros(2), "weight": np.ones(2), "eta": 0.1} | change
    with pytest.raises(ValueError, match=message):
        glove_epoch(**args)


def test_numpy_scalar_settings_give_the_python_float_result(rng):
    """eta and grad_clip of any NumPy width reach the kernel as float64, so the step is the same."""
    p = params(rng, False, True)
    q = copy(p)
    data = records(rng)
    cost = glove_epoch(p, *data, eta=np.float32(0.25), adagrad="stanford", grad_clip=np.float32(1.5))
    expected = glove_epoch(q, *data, eta=float(np.float32(0.25)), adagrad="stanford", grad_clip=1.5)
    assert cost == expected
    np.testing.assert_array_equal(p.W, q.W)


def test_mismatched_parameters_raise(rng):
    p = params(rng, False, True)
    data = records(rng, n=3)
    with pytest.raises(ValueError, match="W and C"):
        glove_epoch(p._replace(C=p.C[:, :2]), *data, eta=0.1)
    with pytest.raises(ValueError, match="biases"):
        glove_epoch(p._replace(b=p.b[:3]), *data, eta=0.1)
