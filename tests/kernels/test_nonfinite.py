"""Non-finite input to every kernel: the Numba kernel gives its NumPy twin's result (NaN and ±inf in
the same places, the same finite values elsewhere) or both raise the same clear error at the entry.

Policies (docs/reliability.md): window attention and the GloVe and sampled-softmax loops propagate
like their twins; routing, VQ attention and the perturb-max entries refuse a non-finite array at the
entry.
"""
import numpy as np
import pytest

from scratch import Tensor
from scratch.kernels import sampled_softmax as ss
from scratch.kernels.glove import GloVeParams, glove_epoch, glove_epoch_reference
from scratch.kernels.routing import route
from scratch.kernels.vq_attention import quadratic_vq_attention, vq_attention
from scratch.kernels.window_attention import QUERY_BLOCK, window_attention
from scratch.models.perturb_max import perturb_max_log_probs, perturb_max_loss, perturb_max_probs
from scratch.models.transformer import TransformerConfig, TransformerLM
from scratch.models.transformer_vq import TransformerVQ, TransformerVQConfig
from scratch.progress import NonFiniteLossError
from scratch.training.lm import TrainConfig, train_lm
from scratch.validation import NonFiniteError

BAD = [np.nan, np.inf, -np.inf]


def assert_same_values(actual, expected, rtol=1e-10, atol=1e-12, what=""):
    """NaN where ``expected`` has NaN, the same infinities, and close finite values elsewhere."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, what
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=f"{what}: NaN positions")
    np.testing.assert_array_equal(np.where(np.isinf(actual), actual, 0), np.where(np.isinf(expected), expected, 0),
                                  err_msg=f"{what}: infinities")
    finite = np.isfinite(expected)
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=rtol, atol=atol, err_msg=what)


def _with(array, index, value):
    out = array.copy()
    out[index] = value
    return out


# --- window attention: propagates ----------------------------------------------------------------

def _window_values_and_grads(arrays, window, implementation, upstream):
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    q, k, v, bias = tensors
    out = window_attention(q, k, v, window, bias=bias, implementation=implementation)
    out.backward(upstream)
    return [out.data] + [t.grad for t in tensors]


def _window_problem(rng, dtype=np.float64, T=2 * QUERY_BLOCK + 11, window=20):
    """Two query blocks and a tail, so a bad key sits in one block's range and out of another's band."""
    q, k, v = (rng.standard_normal((2, 2, T, 3)).astype(dtype) for _ in range(3))
    return [q, k, v, rng.standard_normal((2, window)).astype(dtype)], window


@pytest.mark.parametrize("position", [(1, 0, QUERY_BLOCK + 3, 1), (0, 1, 0, 2), (0, 0, QUERY_BLOCK - 1, 0),
                                      (1, 1, 2 * QUERY_BLOCK + 10, 2)])  # the last position of the last head
@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("which", [0, 1, 2])
def test_window_attention_propagates_like_the_reference(rng, which, bad, position):
    arrays, window = _window_problem(rng)
    arrays[which] = _with(arrays[which], position, bad)
    upstream = rng.standard_normal(arrays[0].shape)
    got = _window_values_and_grads(arrays, window, "numba", upstream)
    want = _window_values_and_grads(arrays, window, "numpy", upstream)
    for name, x, y in zip(("o", "dq", "dk", "dv", "dbias"), got, want):
        assert_same_values(x, y, rtol=1e-9, atol=1e-11, what=name)
    t = position[2]
    rows = (~np.isfinite(got[0][position[0], position[1]])).any(axis=-1)
    # q_t reaches row t only; k_t, v_t the rows t .. t + w − 1 whose band holds them (an infinite key
    # may give a −∞ logit there, a key of weight 0, so only NaN and values are sure to reach them all)
    reach = np.zeros(rows.shape, bool)
    reach[t:t + (1 if which == 0 else window)] = True
    assert not rows[~reach].any()
    if which != 1 or np.isnan(bad):
        assert rows[reach].all()


@pytest.mark.parametrize("bad", BAD)
def test_window_attention_bias_and_the_float32_kernel_propagate_like_the_reference(rng, bad):
    arrays, window = _window_problem(rng, dtype=np.float32)
    arrays[3] = _with(arrays[3], (1, 4), bad)
    upstream = rng.standard_normal(arrays[0].shape).astype(np.float32)
    got = _window_values_and_grads(arrays, window, "numba", upstream)
    want = _window_values_and_grads(arrays, window, "numpy", upstream)
    for name, x, y in zip(("o", "dq", "dk", "dv", "dbias"), got, want):
        assert_same_values(x, y, rtol=2e-4, atol=2e-5, what=name)


def test_window_attention_overflowing_logits_give_the_reference_nan_rows(rng):
    q, k, v = (rng.standard_normal((1, 1, 50, 4)).astype(np.float32) for _ in range(3))
    q[0, 0, 30] = k[0, 0, 28] = 1e20  # finite, but q_30·k_28 overflows float32
    got = window_attention(q, k, v, 8).data
    want = window_attention(q, k, v, 8, implementation="numpy").data
    assert np.isnan(got[0, 0, 30]).all()
    assert_same_values(got, want, rtol=1e-5, atol=1e-6)


def test_a_minus_inf_bias_masks_a_distance(rng):
    arrays, window = _window_problem(rng)
    q, k, v, bias = arrays
    masked = bias.copy()
    masked[:, 3] = -np.inf
    got = window_attention(q, k, v, window, bias=masked).data
    assert np.isfinite(got).all()
    assert_same_values(got, window_attention(q, k, v, window, bias=masked, implementation="numpy").data)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_window_attention_one_nan_gives_the_reference_in_100_of_100_calls(rng, which):
    """The fastmath kernel used to return uninitialised values or raise SystemError now and then."""
    q, k, v = arrays = [rng.standard_normal((2, 2, 150, 8)).astype(np.float32) for _ in range(3)]
    arrays[which][1, 0, 70, 3] = np.nan
    want = window_attention(q, k, v, 16, implementation="numpy").data
    for _ in range(100):
        assert_same_values(window_attention(q, k, v, 16).data, want, rtol=1e-5, atol=1e-6)


# --- routing and VQ attention: refuse at the entry ------------------------------------------------

@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("implementation", ["numba", "numpy"])
@pytest.mark.parametrize("mode", ["sabour", "su1", "su2"])
def test_route_refuses_non_finite_predictions(rng, mode, implementation, bad):
    u_hat = _with(rng.standard_normal((2, 3, 4, 5)), (1, 2, 3, 4), bad)
    with pytest.raises(NonFiniteError, match=r"u_hat contains NaN or infinite values \(1 of 120"):
        route(u_hat, mode=mode, implementation=implementation)


def _vq_problem(rng, T=21, Dk=4, S=5, W=3):
    codebook = rng.standard_normal((S, Dk))
    codes = rng.integers(0, S, (2, T))
    q, v = rng.standard_normal((2, T, Dk)), rng.standard_normal((2, T, 3))
    bias = [rng.standard_normal(Dk), rng.standard_normal(Dk), rng.standard_normal((W + 1, Dk))]
    return dict(q=q, k_hat=codebook[codes], v=v, codebook=codebook, u=bias[0], w=bias[1], r=bias[2]), codes


VQ_NAMES = {"q": "q", "k_hat": "k_hat", "v": "v", "codebook": "codebook", "u": "window_bias u", "w": "window_bias w",
            "r": "window_bias r"}


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("entry", ["numba", "numpy", "quadratic"])
@pytest.mark.parametrize("which", list(VQ_NAMES))
def test_vq_attention_refuses_a_non_finite_array(rng, which, entry, bad):
    arrays, codes = _vq_problem(rng)
    arrays[which] = _with(arrays[which], (0,) * arrays[which].ndim, bad)
    a = arrays
    kwargs = dict(block=4, window_bias=(a["u"], a["w"], a["r"]))
    if entry != "quadratic":
        kwargs["implementation"] = entry
    call = vq_attention if entry != "quadratic" else quadratic_vq_attention
    with pytest.raises(NonFiniteError, match=f"{VQ_NAMES[which]} contains NaN or infinite values"):
        call(a["q"], a["k_hat"], a["v"], codes, a["codebook"], **kwargs)


# --- perturb-max: the public entries refuse non-finite logits, whichever loop runs behind them -----

@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("call", [perturb_max_probs, perturb_max_log_probs,
                                  lambda mu: perturb_max_loss(mu, np.array([0, 1]), "normal")])
def test_perturb_max_entries_refuse_non_finite_logits(call, bad):
    with pytest.raises(NonFiniteError, match=r"mu contains NaN or infinite values \(1 of 6"):
        call(np.array([[0.0, 1.0, 2.0], [0.5, bad, 1.0]]))


# --- GloVe: non-finite records skipped, updates dropped, as in the twin (and glove.c) -------------

def _glove_params(rng, biases):
    p = GloVeParams.init(7, 3, shared=not biases, biases=biases, rng=rng, dtype=np.float64)
    if biases:
        p.b[:], p.c[:] = rng.normal(0, 0.3, 7), rng.normal(0, 0.3, 7)
    return p


def _glove_copy(p):
    arrays = {name: x.copy() for name, x in p._asdict().items()}
    if p.shared:
        arrays["C"], arrays["GC"] = arrays["W"], arrays["GW"]
    return GloVeParams(**arrays)


GLOVE_INPUTS = ["W", "C", "b", "c", "GW", "Gb", "target", "weight"]


@pytest.mark.parametrize("order", ["su", "stanford"])
@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("which", GLOVE_INPUTS)
def test_glove_epoch_treats_non_finite_values_like_the_reference(rng, which, bad, order):
    p = _glove_params(rng, biases=True)
    rows = rng.integers(0, 7, 40).astype(np.int32)
    cols = ((rows + rng.integers(1, 7, 40)) % 7).astype(np.int32)
    data = {"target": rng.normal(0, 1, 40), "weight": rng.uniform(0.1, 1, 40)}
    if which in data:
        data[which][5] = bad
    else:
        getattr(p, which)[rows[3]] = bad
    q = _glove_copy(p)
    cost = glove_epoch(p, rows, cols, data["target"], data["weight"], eta=0.05, adagrad=order)
    with np.errstate(invalid="ignore", over="ignore"):
        expected = glove_epoch_reference(q, rows, cols, data["target"], data["weight"], eta=0.05, adagrad=order)
    assert_same_values(cost, expected, what="cost")
    for name in GloVeParams._fields:
        assert_same_values(getattr(p, name), getattr(q, name), what=name)


# --- sampled softmax (word2vec): propagates like the twin -----------------------------------------

@pytest.mark.parametrize("loss", ["softmax", "nce"])
@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("which", ["E", "W", "b", "scale"])
def test_sampled_softmax_step_propagates_like_the_reference(rng, which, bad, loss):
    E, W, b = rng.normal(scale=0.7, size=(9, 4)), rng.normal(scale=0.7, size=(9, 4)), rng.normal(scale=0.3, size=9)
    contexts = rng.integers(1, 9, size=(5, 3))
    samples = rng.integers(1, 9, size=(5, 4))
    valid = np.ones(samples.shape, bool)
    scale, alpha = np.full(5, 1 / 3), np.full(5, 0.1)
    arrays = {"E": E, "W": W, "b": b, "scale": scale}
    target = arrays[which]
    target[(samples[2, 0],) if which == "b" else (samples[2, 0], 1) if target.ndim == 2 else (2,)] = bad
    ref = [x.copy() for x in (E, W, b)]
    with np.errstate(invalid="ignore", over="ignore"):
        want = ss.sgd_step_reference(*ref, contexts, scale, samples, valid, alpha, None, loss)
    got_arrays = [x.copy() for x in (E, W, b)]
    got = ss.sgd_step_kernel(*got_arrays, contexts, scale, samples, valid, alpha,
                             ss.Objective(ss.LOSSES[loss], False, np.zeros(9)))
    assert_same_values(got, want, what="loss")
    for name, x, y in zip("EWb", got_arrays, ref):
        assert_same_values(x, y, what=name)


# --- a NaN anywhere in a model's forward stops train_lm through its guard -------------------------

def _stops_on_a_nan_in_every_parameter(make_model, stream, config, **hooks):
    names = [name for name, _ in make_model().named_parameters()]
    assert names
    for name in names:
        model = make_model()
        param = dict(model.named_parameters())[name].data
        if name.startswith("embedding"):
            param[stream[0], 0] = np.nan  # a row the batch uses: unused rows are no part of the forward
        else:
            param.flat[0] = np.nan
        with pytest.raises(NonFiniteLossError, match="at step 1"):
            train_lm(model, stream, config, log_every=1e9, **({k: f(model) for k, f in hooks.items()}))


def test_a_nan_in_any_transformer_lm_parameter_stops_training():
    config = TransformerConfig(vocab_size=5, dim=8, layers=1, heads=2, ffn_dim=16, train_len=8)
    stream = np.tile(np.array([0, 1, 2, 3, 4, 3, 2, 1]), 20)
    _stops_on_a_nan_in_every_parameter(lambda: TransformerLM(config), stream, TrainConfig(seq_len=8, batch_size=2,
                                                                                          steps=2, warmup=0))


@pytest.mark.parametrize("attention", ["vq", "full"])
def test_a_nan_in_any_transformer_vq_parameter_stops_training(attention):
    config = TransformerVQConfig(d_model=8, d_k=4, layers=1, attention=attention, codebook_size=5, block=4)
    stream = np.frombuffer(b"abcabcabd " * 10, np.uint8).astype(np.int64)
    _stops_on_a_nan_in_every_parameter(lambda: TransformerVQ(config, rng=np.random.default_rng(1)), stream,
                                       TrainConfig(seq_len=8, batch_size=2, steps=2, warmup=0),
                                       extra_loss=lambda model: model.auxiliary_loss)
