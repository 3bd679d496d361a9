"""TransformerLM: every position variant runs and is causal; the model loss gradchecks; bad options raise."""
import numpy as np
import pytest

from scratch import gradcheck
from scratch.training.lm import lm_loss
from scratch.models.transformer import POSITIONS, CausalSelfAttention, TransformerConfig, TransformerLM

TINY = dict(vocab_size=11, dim=8, layers=2, heads=2, ffn_dim=12, train_len=6)


@pytest.mark.parametrize("position", POSITIONS)
def test_causal(position):
    model = TransformerLM(TransformerConfig(position=position, **TINY), dtype=np.float64)
    ids = np.random.default_rng(0).integers(0, 11, (2, 9))
    changed = ids.copy()
    changed[:, 5:] = (changed[:, 5:] + 1) % 11
    np.testing.assert_allclose(model(ids).data[:, :5], model(changed).data[:, :5], atol=1e-12)


@pytest.mark.parametrize("options", [dict(position="kerple_power"), dict(position="rope", log_n=True),
                                     dict(position="rope", hwfa_window=3), dict(position="alibi", prenorm=False,
                                                                                norm="layer", activation="silu")])
def test_loss_gradcheck(options):
    model = TransformerLM(TransformerConfig(**{**TINY, **options}), dtype=np.float64)
    ids = np.random.default_rng(1).integers(0, 11, (2, 7))
    params = list(model.parameters())

    def loss(*_):
        return lm_loss(model(ids[:, :-1]), ids[:, 1:])
    assert gradcheck(loss, params)


def test_inference_variants_run():
    model = TransformerLM(TransformerConfig(**TINY), dtype=np.float64)
    ids = np.random.default_rng(2).integers(0, 11, (1, 20))
    full = model(ids).data
    np.testing.assert_allclose(model(ids, window=20).data, full, atol=1e-12)
    np.testing.assert_allclose(model(ids, rerope=20).data, full, atol=1e-10)
    for kwargs in (dict(window=6), dict(log_n_clip=True), dict(rerope=3, leaky_k=4.0)):
        assert np.isfinite(model(ids, **kwargs).data).all()


def test_bad_options():
    with pytest.raises(ValueError, match="position"):
        TransformerConfig(position="t5")
    with pytest.raises(ValueError, match="heads"):
        TransformerConfig(dim=10, heads=4)
    model = TransformerLM(TransformerConfig(position="sinusoidal", **{k: v for k, v in TINY.items()}))
    with pytest.raises(ValueError, match="rerope"):
        model(np.zeros((1, 4), int), rerope=2)
    with pytest.raises(ValueError, match="rope_scaling"):
        model(np.zeros((1, 4), int), rope_scaling="pi")


INT_FIELDS = ("vocab_size", "dim", "layers", "heads", "ffn_dim", "train_len")


@pytest.mark.parametrize("name", INT_FIELDS)
@pytest.mark.parametrize("value", [True, False, np.bool_(True), 0, -1, 2.0, "8", None])
def test_config_integer_fields_reject_bool_and_non_positive(name, value):
    with pytest.raises(ValueError, match=name):
        TransformerConfig(**{**TINY, name: value})


@pytest.mark.parametrize("name, value", [
    ("norm", "batch"), ("norm", True), ("activation", "relu"), ("activation", None), ("position", "t5"),
    ("position", 1), ("prenorm", 1), ("prenorm", "yes"), ("log_n", 1), ("log_n", None), ("hwfa_window", True),
    ("hwfa_window", 0), ("hwfa_window", 2.5), ("sandwich_scale", np.inf), ("sandwich_scale", np.nan),
    ("sandwich_scale", True), ("sandwich_scale", "1"),
])
def test_config_bad_options_name_the_field(name, value):
    with pytest.raises(ValueError, match=name):
        TransformerConfig(**{**TINY, name: value})


def test_config_accepts_numpy_scalars():
    config = TransformerConfig(**{**TINY, "dim": np.int64(8), "hwfa_window": np.int32(3),
                                  "sandwich_scale": np.float32(0.5), "log_n": np.bool_(True)})
    assert config.hwfa_window == 3


def test_layers_check_their_arguments():
    config = TransformerConfig(**TINY)
    rng = np.random.default_rng(0)
    for kwargs, match in ((dict(position="t5"), "position"), (dict(position=True), "position"),
                          (dict(window=True), "window"), (dict(window=0), "window"), (dict(log_n=1), "log_n"),
                          (dict(log_n=True), "log_n"), (dict(log_n=np.inf), "log_n")):
        with pytest.raises(ValueError, match=match):
            CausalSelfAttention(config, **{"position": "rope", **kwargs}, rng=rng)
    with pytest.raises(TypeError, match="config"):
        CausalSelfAttention(dict(TINY), "rope", rng=rng)
    with pytest.raises(TypeError, match="config"):
        TransformerLM(dict(TINY))
    with pytest.raises(TypeError, match="dtype"):
        TransformerLM(config, dtype=np.int64)
    with pytest.raises(TypeError, match="rng"):
        TransformerLM(config, rng=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(window=True), "window"), (dict(window=0), "window"), (dict(window=3.0), "window"),
    (dict(rerope=True), "rerope"), (dict(rerope=0), "rerope"), (dict(log_n_clip=1), "log_n_clip"),
    (dict(log_n_clip="yes"), "log_n_clip"), (dict(leaky_k=4.0), "leaky_k needs rerope"),
    (dict(rerope=3, leaky_k=0.5), "leaky_k"), (dict(rerope=3, leaky_k=np.inf), "leaky_k"),
    (dict(rerope=3, leaky_k=True), "leaky_k"), (dict(rope_scaling="linear"), "rope_scaling"),
    (dict(rope_scaling=True), "rope_scaling"), (dict(rope_scaling="pi", rerope=3), "rope_scaling and rerope"),
])
def test_forward_checks_the_inference_keywords(kwargs, match):
    model = TransformerLM(TransformerConfig(**TINY), dtype=np.float64)
    with pytest.raises(ValueError, match=match):
        model(np.zeros((1, 5), int), **kwargs)


def test_forward_checks_the_ids():
    model = TransformerLM(TransformerConfig(**TINY), dtype=np.float64)
    with pytest.raises(ValueError, match="ids must have shape"):
        model(np.zeros(5, int))
    with pytest.raises(ValueError, match="length T"):
        model(np.zeros((1, 0), int))
    with pytest.raises(IndexError, match="ids out of range"):
        model(np.full((1, 4), 11))
    ids = np.random.default_rng(3).integers(0, 11, (1, 9))
    np.testing.assert_array_equal(model(ids, window=np.int64(4), rerope=np.int32(3), leaky_k=np.float32(2)).data,
                                  model(ids, window=4, rerope=3, leaky_k=2.0).data)
