"""Transformer-VQ model (spec §2, §3.1, §8): EMA step, STE identity, commitment gradient, model gradchecks,
decoding == parallel forward, training smoke test, exact resume with the EMA codebook and input checks."""
import numpy as np
import pytest

from scratch import Tensor, gradcheck, no_grad
from scratch.models.transformer_vq import TransformerVQ, TransformerVQConfig, codebook_after_step
from scratch.models.transformer_vq.quantizer import VectorQuantizer
from scratch.training.lm import TrainConfig, sample, train_lm

TEXT = np.frombuffer(b"abcabcabd " * 300, np.uint8).astype(np.int64)


def tiny(attention="vq", dtype=np.float64, **kw):
    options = dict(d_model=8, d_k=4, layers=1, attention=attention, codebook_size=5, block=4)
    return TransformerVQ(TransformerVQConfig(**{**options, **kw}), rng=np.random.default_rng(1), dtype=dtype)


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


class Crash(Exception):
    """Stands for a run killed between two checkpoints."""


def train_tiny_vq(config, path=None, resume=False, interrupt_after=None):
    """A float32 VQ model trained by ``train_lm`` with the model's hooks; ``interrupt_after=s`` stops the run
    with an exception after step s, as a crash would (its checkpoint is the last one written before)."""
    model = tiny("vq", dtype=np.float32, d_model=16, codebook_size=8)
    ema = codebook_after_step(model, health_every=10**6)

    def after_step(step):
        ema(step)
        if step == interrupt_after:
            raise Crash

    try:
        losses = train_lm(model, TEXT, config, checkpoint_path=path, resume=resume, log_every=1e9,
                          extra_loss=model.auxiliary_loss, after_step=after_step)
    except Crash:
        losses = None
    return model, losses


def test_training_reduces_the_loss_and_updates_the_codebook():
    before = tiny("vq", dtype=np.float32, d_model=16, codebook_size=8).units[0].quantizer.c_sum.copy()
    config = TrainConfig(seq_len=16, batch_size=4, steps=40, lr=1e-2, final_lr=1e-3, warmup=2)
    model, losses = train_tiny_vq(config)
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert not np.allclose(model.units[0].quantizer.c_sum, before)


def test_resume_is_exact_for_parameters_and_codebooks(tmp_path):
    """N steps straight == N/2 steps, a checkpoint, a crash, a resume and N/2 steps, bit for bit: the EMA step
    of step s runs in the after-step hook, before the checkpoint of step s, so the checkpoint holds it."""
    config = TrainConfig(seq_len=16, batch_size=2, steps=6, lr=1e-2, final_lr=1e-3, warmup=2, checkpoint_every=3)
    straight, _ = train_tiny_vq(config)
    path = tmp_path / "vq.npz"
    train_tiny_vq(config, path, interrupt_after=4)
    resumed, losses = train_tiny_vq(config, path, resume=True)
    assert len(losses) == 3
    for (name, expected), (_, actual) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        np.testing.assert_array_equal(actual, expected, err_msg=name)
    fresh = tiny("vq", dtype=np.float32, d_model=16, codebook_size=8)
    assert not np.array_equal(resumed.units[1].quantizer.c_count, fresh.units[1].quantizer.c_count)


def test_auxiliary_loss_is_beta_times_the_commitment_sum():
    model = tiny("vq", layers=2, commit_weight=0.5)
    ids = np.random.default_rng(6).integers(0, 256, (2, 9))
    total, ce = model.loss(ids[:, :-1], ids[:, 1:])
    commits = sum(unit.commit_loss.item() for unit in model.units)
    assert model.auxiliary_loss().item() == pytest.approx(0.5 * commits, rel=1e-14)
    assert total.item() == pytest.approx(ce.item() + 0.5 * commits, rel=1e-14)
    assert tiny("full").auxiliary_loss().item() == 0.0


@pytest.mark.parametrize("name, value", [
    ("vocab", True), ("d_model", True), ("d_model", 7), ("d_k", True), ("layers", True), ("layers", 0),
    ("codebook_size", True), ("block", True), ("block", 0), ("window", True), ("window", 5), ("window", -1),
    ("attention", "linear"), ("commit_weight", float("inf")), ("commit_weight", -1.0), ("commit_weight", True),
    ("reseed_dead", "no"), ("reseed_dead", 1),
])
def test_bad_config_is_named(name, value):
    with pytest.raises(ValueError, match=name):
        tiny(**{name: value})


@pytest.mark.parametrize("arguments, name", [
    (dict(num_codes=True, dim=2), "num_codes"), (dict(num_codes=4, dim=True), "dim"),
    (dict(num_codes=4, dim=2, gamma=1.0), "gamma"), (dict(num_codes=4, dim=2, gamma=float("inf")), "gamma"),
    (dict(num_codes=4, dim=2, gamma=True), "gamma"), (dict(num_codes=4, dim=2, reseed_dead=1), "reseed_dead"),
])
def test_bad_quantizer_arguments_are_named(arguments, name):
    with pytest.raises(ValueError, match=name):
        VectorQuantizer(**arguments)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="ids"):
        tiny()(np.array([[1, 300]]))
    with pytest.raises(ValueError, match="k must have shape"):
        VectorQuantizer(4, 2)(Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="batch"):
        tiny().units[0].decoder(True)
    with pytest.raises(ValueError, match="health_every"):
        codebook_after_step(tiny(), health_every=True)
    with pytest.raises(TypeError, match="config"):
        TransformerVQ(dict(block=4))
