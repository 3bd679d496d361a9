"""Every public import path and signature that the design document promises still works after the
per-family packages: users and cross-checks import these names."""
import importlib
import inspect

import pytest

PATHS = [
    ("scratch", ["Tensor", "tensor", "Function", "gradcheck", "functional", "concatenate", "stack", "where",
                 "maximum", "no_grad"]),
    ("scratch.kernels.window_attention", ["window_attention"]),
    ("scratch.kernels.routing", ["route"]),
    ("scratch.models.capsule", ["squash", "margin_loss"]),
    ("scratch.models.capsule.networks", ["build_model", "MODEL_NAMES", "two_digit_pairs", "two_digit_metrics"]),
    ("scratch.models.perturb_max", ["perturb_max_probs", "perturb_max_log_probs", "perturb_max_loss"]),
    ("scratch.kernels.vq_attention", ["vq_attention", "quadratic_vq_attention"]),
    ("scratch.models.word2vec", ["Word2Vec"]),
    ("scratch.models.glove", ["GloVe", "SimplerGloVe"]),
    ("scratch.training", ["fit", "predict", "train_lm"]),
    ("scratch.crosscheck", ["FAMILIES", "Case", "Report", "case", "cases", "check", "load_cases"]),
    ("scratch.crosscheck.export", ["export", "manifest"]),
    ("scratch.crosscheck.weights", ["torch_state", "load_torch_state", "save", "load"]),
    ("scratch.functional", ["softmax", "log_softmax", "logsumexp", "cross_entropy", "layer_norm", "rms_norm",
                            "dropout", "conv2d", "embedding", "silu", "gelu", "dense_attention", "MASKED"]),
]


@pytest.mark.parametrize("module, names", PATHS, ids=[m for m, _ in PATHS])
def test_public_names_import(module, names):
    imported = importlib.import_module(module)
    missing = [name for name in names if not hasattr(imported, name)]
    assert not missing, f"{module} lacks {missing}"


def _parameters(fn):
    return {name: (p.kind, p.default) for name, p in inspect.signature(fn).parameters.items()}


def test_documented_signatures():
    from scratch.kernels.routing import route
    from scratch.kernels.vq_attention import quadratic_vq_attention, vq_attention
    from scratch.kernels.window_attention import window_attention
    from scratch.models.capsule import margin_loss, squash
    from scratch.models.perturb_max import perturb_max_probs

    kw = inspect.Parameter.KEYWORD_ONLY
    wa = _parameters(window_attention)
    assert list(wa)[:4] == ["q", "k", "v", "window"]
    assert all(wa[name] == (kw, None) for name in ("bias", "scale", "log_n"))
    r = _parameters(route)
    assert list(r)[:2] == ["u_hat", "iterations"] and r["iterations"][1] == 3
    assert r["mode"] == (kw, "su2") and r["eps"] == (kw, 0.5)
    assert _parameters(squash)["eps"][1] == 0.5 and _parameters(squash)["axis"][1] == -1
    m = _parameters(margin_loss)
    assert (m["m_pos"][1], m["m_neg"][1], m["lam"][1], m["reduction"][1]) == (0.9, 0.1, 0.25, "mean")
    p = _parameters(perturb_max_probs)
    assert p["law"][1] == "normal" and p["scale"] == (kw, 1.0) and p["nodes"] == (kw, None)
    for fn in (vq_attention, quadratic_vq_attention):
        v = _parameters(fn)
        assert list(v)[:5] == ["q", "k_hat", "v", "codes", "codebook"] and v["block"][0] == kw


@pytest.mark.parametrize("cls", ["scratch.models.word2vec:Word2Vec", "scratch.models.glove:GloVe",
                                 "scratch.models.glove:SimplerGloVe"])
def test_word_vector_models_offer_the_documented_methods(cls):
    module, name = cls.split(":")
    model = getattr(importlib.import_module(module), name)
    for method in ("fit", "save", "most_similar"):
        assert callable(getattr(model, method)), f"{name}.{method}"
