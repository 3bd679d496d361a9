"""TransformerLM: every position variant runs and is causal; the model loss gradchecks; bad options raise."""
import numpy as np
import pytest

from scratch import gradcheck
from scratch.training.lm import lm_loss
from scratch.models.transformer import POSITIONS, TransformerConfig, TransformerLM

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
    model = TransformerLM(TransformerConfig(position="alibi", **{k: v for k, v in TINY.items()}))
    with pytest.raises(ValueError, match="rerope"):
        model(np.zeros((1, 4), int), rerope=2)
