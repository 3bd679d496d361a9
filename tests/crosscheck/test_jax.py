"""The JAX adapter: JAX implementations of a few cases pass, and a planted mistake is named (skipped
without jax; ``pip install jax`` for the CPU wheel)."""
import math

import pytest

from scratch.crosscheck import case, check

jax = pytest.importorskip("jax")
jnp = jax.numpy


def squash(s, eps):
    n = (s * s).sum(-1, keepdims=True) + 1e-7
    return s * jnp.sqrt(n) / (eps + n)


def route(u_hat, iterations, mode, eps, axis=1):
    b = jnp.zeros(u_hat.shape[:3], u_hat.dtype)
    for t in range(iterations):
        s = jnp.einsum("bkn,bknd->bkd", jax.nn.softmax(b, axis=axis), u_hat)
        if t == iterations - 1:
            return squash(s, eps)
        o = s / jnp.maximum(jnp.linalg.norm(s, axis=-1, keepdims=True), 1e-6) if mode == "su2" else squash(s, eps)
        a = jnp.einsum("bknd,bkd->bkn", u_hat, o)
        b = b + a if mode == "sabour" else a


def window_attention(q, k, v, window):
    t = jnp.arange(q.shape[-2])
    delta = t[:, None] - t[None, :]
    scores = jnp.where((delta >= 0) & (delta < window), q @ jnp.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1]), -jnp.inf)
    return jax.nn.softmax(scores, axis=-1) @ v


def quantizer(k, codebook):
    codes = jnp.argmin(((k[..., None, :] - codebook) ** 2).sum(-1), axis=-1)
    chosen = codebook[codes]
    return {"k_hat": chosen + k - jax.lax.stop_gradient(k), "codes": codes,
            "commit_loss": ((k - chosen) ** 2).sum(-1).mean()}


@pytest.mark.parametrize("name, fn", [
    ("engine/softmax", lambda x, dim: jax.nn.softmax(x, axis=dim)),
    ("engine/cross_entropy", lambda logits, targets, reduction:
        -jnp.take_along_axis(jax.nn.log_softmax(logits), targets[:, None], axis=1).mean()),
    ("capsule/route_sabour", route), ("capsule/route_su2", route),
    ("transformer/window_attention", window_attention),
    ("transformer_vq/quantizer", quantizer),
])
def test_jax_implementations_pass(name, fn):
    report = check(case(name), fn, framework="jax")
    assert report.passed, str(report)


def test_a_planted_mistake_in_jax_is_named():
    report = check(case("capsule/route_su2"), lambda **kw: route(**kw, axis=2), framework="jax")
    assert [(r.kind, r.name) for r in report.failures] == [("output", "v"), ("gradient", "u_hat")]
