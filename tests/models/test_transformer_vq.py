"""Transformer-VQ model (spec §2, §3.1, §8): EMA step, STE identity, commitment gradient, model gradchecks,
decoding == parallel forward, training smoke test and input checks."""
import numpy as np
import pytest

from scratch import Tensor, gradcheck, no_grad
from scratch.training.lm import TrainConfig, sample, train_lm
from scratch.models.transformer_vq import TrainingView, TransformerVQ
from scratch.models.transformer_vq.quantizer import VectorQuantizer


def tiny(attention="vq", dtype=np.float64, **kw):
    options = dict(d_model=8, d_k=4, layers=1, attention=attention, codebook_size=5, block=4,
                   rng=np.random.default_rng(1), dtype=dtype)
    return TransformerVQ(**{**options, **kw})


def test_codeword_is_sum_over_clipped_count(rng):
    vq = VectorQuantizer(4, 3, rng=rng, dtype=np.float64)
    vq.c_count[:] = [2.0, 0.5, 0.001, 0.0]
    np.testing.assert_array_equal(vq.codebook, vq.c_sum / np.array([2.0, 0.5, 0.01, 0.01])[:, None])


def test_assignment_is_the_nearest_codeword(rng):
    vq = VectorQuantizer(7, 3, rng=rng, dtype=np.float64)
    k = rng.standard_normal((5, 6, 3))
    distances = np.sum((k[..., None, :] - vq.codebook) ** 2, axis=-1)
    np.testing.assert_array_equal(vq.assign(k), distances.argmin(-1))


def test_one_ema_step_equals_the_formula(rng):
    vq = VectorQuantizer(4, 3, gamma=0.99, rng=rng, dtype=np.float64)
    old_sum, old_count = vq.c_sum.copy(), vq.c_count.copy()
    k = Tensor(rng.standard_normal((2, 10, 3)))
    _, codes, _ = vq(k)
    vq.update()
    flat_codes, flat_k = codes.reshape(-1), k.data.reshape(-1, 3)
    for s in range(4):
        chosen = flat_codes == s
        np.testing.assert_allclose(vq.c_sum[s], 0.99 * old_sum[s] + 0.01 * flat_k[chosen].sum(0), rtol=1e-15)
        np.testing.assert_allclose(vq.c_count[s], 0.99 * old_count[s] + 0.01 * chosen.sum(), rtol=1e-15)


def test_no_ema_step_in_eval_mode(rng):
    vq = VectorQuantizer(4, 3, rng=rng, dtype=np.float64)
    before = vq.c_sum.copy()
    vq.eval()
    vq(Tensor(rng.standard_normal((2, 5, 3))))
    vq.update()
    np.testing.assert_array_equal(vq.c_sum, before)


def test_straight_through_forward_is_the_codeword_and_backward_the_identity(rng):
    """k̂ = sg(C_z) + k − sg(k): value C_z exactly, dL/dk = dL/dk̂ + β ∂l_commit/∂k with ∂l_commit/∂k = 2(k − C_z)/N."""
    vq = VectorQuantizer(6, 4, rng=rng, dtype=np.float64)
    k = Tensor(rng.standard_normal((3, 5, 4)), requires_grad=True)
    k_hat, codes, commit = vq(k)
    np.testing.assert_array_equal(k_hat.data, vq.codebook[codes])
    upstream, beta = rng.standard_normal(k.shape), 1e-4
    ((k_hat * upstream).sum() + beta * commit).backward()
    expected = upstream + beta * 2 * (k.data - vq.codebook[codes]) / 15
    np.testing.assert_allclose(k.grad, expected, rtol=1e-13)


def test_dead_code_reseeding_is_off_by_default(rng):
    keys = Tensor(rng.standard_normal((1, 8, 3)) + 5)
    for reseed in (False, True):
        vq = VectorQuantizer(16, 3, gamma=0.0, reseed_dead=reseed, rng=np.random.default_rng(0), dtype=np.float64)
        vq(keys)
        vq.update()
        dead = vq.c_count < 1
        assert dead.any() != reseed
        if reseed:
            assert all(any(np.allclose(c, k) for k in keys.data[0]) for c in vq.codebook[vq.c_count == 1])


def test_health_metrics(rng):
    vq = VectorQuantizer(4, 2, rng=rng, dtype=np.float64)
    codes = np.array([0, 0, 1, 1])
    health = vq.health(vq.codebook[codes], codes)
    assert health["perplexity"] == pytest.approx(2.0) and health["quant_error"] == pytest.approx(0.0)
    vq.c_count[:] = [2, 2, 0.5, 0.5]
    assert vq.health(vq.codebook[codes], codes)["dead"] == 2


@pytest.mark.parametrize("attention", ["vq", "local", "window", "full"])
def test_model_loss_gradcheck(attention):
    """CE + β Σ l_commit w.r.t. every parameter of every variant, float64, dropout-free, EMA off (§8).

    Quantized variants are checked on their linearisation at the current keys (``_freeze_linearised``),
    after checking that no key is near an assignment flip.
    """
    model = tiny(attention)
    ids = np.random.default_rng(2).integers(0, 256, (2, 11))
    model.eval()
    model.loss(ids[:, :-1], ids[:, 1:])
    for unit in model.units:
        if unit.quantizer is not None:
            codebook = unit.quantizer.codebook
            scores = np.sort(unit.last_keys @ codebook.T - 0.5 * np.sum(codebook**2, axis=1), axis=-1)
            assert np.min(scores[..., -1] - scores[..., -2]) > 1e-4
            _freeze_linearised(unit.quantizer, unit.last_keys, unit.last_codes)
    params = list(model.parameters())
    assert gradcheck(lambda *ps: model.loss(ids[:, :-1], ids[:, 1:])[0], params, max_elementwise=64, directions=4)


def _freeze_linearised(quantizer, k0, codes):
    """Replace the quantizer by its linearisation at keys k0 (§8.2): k̂ = C_z + (k − k0) with the codes z fixed.

    Its value at k0 and its derivative equal the straight-through estimator's, and it is smooth, so
    finite differences of the model loss test the STE gradient of every parameter upstream of the keys.
    """
    chosen = quantizer.codebook[codes]

    def linearised(k):
        return k + (chosen - k0), codes, ((k - chosen) ** 2).sum(axis=-1).mean()

    quantizer.forward = linearised


@pytest.mark.parametrize("window", [0, 2, 4])
def test_decoding_equals_the_parallel_forward(window):
    model = tiny("vq", window=window)
    ids = np.random.default_rng(3).integers(0, 256, (2, 13))
    with no_grad():
        parallel = model(ids).data
    states = [unit.decoder(2) for unit in model.units]
    steps = np.stack([model._step(ids[:, t], states) for t in range(13)], axis=1)
    np.testing.assert_allclose(steps, parallel, rtol=0, atol=1e-12)


def test_constant_state_sampling_equals_sampling_by_recomputation():
    model = tiny("vq")
    model.eval()
    prompt = np.array([72, 105, 32])
    for temperature in (0.0, 1.0):
        by_state = sample(model.decoding_forward(), prompt, 12, temperature=temperature, rng=np.random.default_rng(5))
        by_forward = sample(model, prompt, 12, temperature=temperature, rng=np.random.default_rng(5))
        np.testing.assert_array_equal(by_state, by_forward)
    with pytest.raises(ValueError, match="attention='vq'"):
        tiny("full").decoding_forward()


def test_vq_equals_local_when_every_key_is_in_the_window():
    """For T ≤ W + 1 nothing reaches the cache: the blockwise kernel and the dense sliding window agree."""
    ids = np.random.default_rng(4).integers(0, 256, (2, 9))
    with no_grad():
        blockwise = tiny("vq", block=8)(ids).data
        dense = tiny("local", block=8)(ids).data
    np.testing.assert_allclose(blockwise, dense, rtol=0, atol=1e-12)


def test_training_reduces_the_loss_and_updates_the_codebook():
    data = np.frombuffer(b"abcabcabd " * 300, np.uint8).astype(np.int64)
    model = tiny("vq", dtype=np.float32, d_model=16, codebook_size=8)
    before = model.units[0].quantizer.c_sum.copy()
    view = TrainingView(model, health_every=1000)
    config = TrainConfig(seq_len=16, batch_size=4, steps=40, lr=1e-2, final_lr=1e-3, warmup=2)
    losses = train_lm(view, data, config, log_every=1e9)
    view.finish()
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert not np.allclose(model.units[0].quantizer.c_sum, before)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="attention"):
        tiny("linear")
    with pytest.raises(ValueError, match="window"):
        tiny(window=5)
    with pytest.raises(ValueError, match="d_model"):
        tiny(d_model=7)
    with pytest.raises(ValueError, match="ids"):
        tiny()(np.array([[1, 300]]))
    with pytest.raises(ValueError, match="gamma"):
        VectorQuantizer(4, 2, gamma=1.0)
    with pytest.raises(ValueError, match="keys must end"):
        VectorQuantizer(4, 2)(Tensor(np.zeros((2, 3))))
