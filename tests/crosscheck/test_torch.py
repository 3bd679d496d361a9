"""The kit against torch: our torch implementations pass every case, and planted mistakes in torch
implementations are reported with the tensor they break (skipped without torch)."""
import math

import numpy as np
import pytest

from scratch.crosscheck import case, cases, check

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from scratch.crosscheck.torch_reference import functions  # noqa: E402 (needs torch)
from scratch.crosscheck.torch_reference import capsule, perturb_max, transformer, transformer_vq  # noqa: E402

FUNCTIONS = functions()
ALL = cases()


def test_every_case_has_a_torch_implementation():
    assert sorted(FUNCTIONS) == sorted(c.name for c in ALL)


@pytest.mark.parametrize("c", ALL, ids=lambda c: c.name)
def test_our_torch_implementation_passes(c):
    report = check(c, FUNCTIONS[c.name], framework="torch")
    assert report.passed, str(report)
    assert [r.name for r in report.results] == [*c.outputs, *c.grads]


# --- planted mistakes ----------------------------------------------------------------------------------

def route_softmax_over_inputs(u_hat, iterations, mode, eps):
    """Routing with c = softmax over the N inputs (axis 2) instead of the K outputs."""
    b = torch.zeros(u_hat.shape[:3], dtype=u_hat.dtype)
    for t in range(iterations):
        s = torch.einsum("bkn,bknd->bkd", torch.softmax(b, dim=2), u_hat)
        if t == iterations - 1:
            return capsule.squash(s, eps)
        o = torch.nn.functional.normalize(s, dim=-1, eps=1e-6) if mode == "su2" else capsule.squash(s, eps)
        a = torch.einsum("bknd,bkd->bkn", u_hat, o)
        b = b + a if mode == "sabour" else a


def window_attention_without_scale(q, k, v, window):
    """Window attention with the logits q·k, the 1/√D forgotten."""
    return transformer.window_attention(q * math.sqrt(q.shape[-1]), k, v, window)


def window_attention_one_key_too_many(q, k, v, window):
    """Query t sees keys t − window … t: the window is one key too wide."""
    delta = transformer.distances(q.shape[-2])
    scores = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).masked_fill((delta < 0) | (delta > window), -math.inf)
    return torch.softmax(scores, dim=-1) @ v


def quantizer_without_straight_through(k, codebook):
    """k̂ = codebook[codes], the codebook row detached from k: no gradient reaches the keys through k̂."""
    _, codes, commit = transformer_vq.quantize(k, codebook)
    return {"k_hat": codebook[codes], "codes": codes, "commit_loss": commit}


def vq_attention_with_detached_bias(q, k_hat, v, u, w, r, codes, codebook, block):
    """VQ attention whose content bias u is used detached (it gets no gradient)."""
    return transformer_vq.vq_attention(q, k_hat, v, u.detach(), w, r, codes, codebook, block, blockwise=False)


def logistic_log_probs_with_the_cdf_as_density(mu, law, scale):
    """Logistic perturb-max with log f(e) = log σ(e), the CDF in place of the density σ(e)σ(−e)."""
    laws = dict(perturb_max.LAWS)
    log_cdf, _, support, panels, kinks = laws["logistic"]
    laws["logistic"] = (log_cdf, torch.nn.functional.logsigmoid, support, panels, kinks)
    original = perturb_max.LAWS
    perturb_max.LAWS = laws
    try:
        return perturb_max.log_probs(mu, law, scale)
    finally:
        perturb_max.LAWS = original


def kerple_without_softplus(q, k, v, a, b, window, form):
    """KERPLE with r1 = a instead of softplus(a)."""
    delta = torch.arange(window, dtype=a.dtype)
    bias = -a[:, None] * torch.log1p(torch.nn.functional.softplus(b)[:, None] * delta)
    return transformer.window_attention(q, k, v, window, bias=bias)


PLANTED = {
    "softmax over the wrong axis in routing": ("capsule/route_su2", route_softmax_over_inputs,
                                               [("output", "v"), ("gradient", "u_hat")]),
    "missing 1/√D": ("transformer/window_attention", window_attention_without_scale,
                     [("output", "o"), ("gradient", "q"), ("gradient", "k"), ("gradient", "v")]),
    "key window off by one": ("transformer/window_attention", window_attention_one_key_too_many,
                              [("output", "o"), ("gradient", "q"), ("gradient", "k"), ("gradient", "v")]),
    "detached codebook row (no straight-through)": ("transformer_vq/quantizer", quantizer_without_straight_through,
                                                    [("gradient", "k")]),
    "detached attention bias": ("transformer_vq/quadratic_vq_attention", vq_attention_with_detached_bias,
                                [("gradient", "u")]),
    "keys older than the window read from the codebook": ("transformer_vq/quadratic_vq_attention",
                                                           transformer_vq.vq_attention, [("gradient", "k_hat")]),
    "wrong noise-law density": ("perturb_max/log_probs_logistic", logistic_log_probs_with_the_cdf_as_density,
                                [("output", "log_probs"), ("gradient", "mu")]),
    "KERPLE r1 without softplus": ("transformer/kerple_log", kerple_without_softplus,
                                   [("output", "o"), ("gradient", "q"), ("gradient", "k"), ("gradient", "v"),
                                    ("gradient", "a"), ("gradient", "b")]),
}


@pytest.mark.parametrize("mistake", PLANTED)
def test_a_planted_mistake_is_reported_with_the_tensor_it_breaks(mistake):
    name, fn, broken = PLANTED[mistake]
    report = check(case(name), fn, framework="torch")
    assert [(r.kind, r.name) for r in report.failures] == broken, str(report)
    first = report.failures[0]
    assert first.message.startswith(f"{name}: {first.kind} of {first.name!r} differs at index {list(first.worst_index)}")
    with pytest.raises(AssertionError, match=f"{first.kind} of {first.name!r}"):
        report.raise_for_failure()


def test_a_missing_output_and_a_wrong_shape_are_reported():
    quantizer = case("transformer_vq/quantizer")
    report = check(quantizer, lambda k, codebook: {"k_hat": k, "codes": torch.zeros(k.shape[:2], dtype=torch.long)})
    assert "output of 'commit_loss' is missing" in str(report)
    report = check(case("capsule/squash"), lambda s, eps: capsule.squash(s, eps)[..., :-1])
    assert "has shape (2, 3, 3), expected (2, 3, 4)" in str(report)


def test_a_torch_module_loads_the_case_parameters_as_they_are():
    """The Su capsule net case's parameters are a state dict of the torch module of the same layout."""
    c = case("capsule/su_capsule_net")
    net = capsule.torch_model("capsule", (2, 3, 3, 4), 3, "su2", num_classes=3, capsule_dim=4).double()
    net.load_state_dict({k: torch.from_numpy(v) for k, v in c.parameters.items()})
    scores = net(torch.from_numpy(c.inputs["images"])).detach().numpy()
    np.testing.assert_allclose(scores, c.outputs["scores"], rtol=1e-12, atol=1e-14)
