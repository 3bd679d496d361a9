"""Every public entry refuses a bad argument where it enters, with an error naming the argument.

One row per (entry, argument, bad value): ``True`` is never a number, a string never a boolean, a
hyper-parameter is never infinite or NaN, and the message names the argument (and shows the value
where there is one). NumPy scalars are numbers: ``test_numpy_scalars_are_numbers``.
"""
import numpy as np
import pytest

from scratch import nn, optim
from scratch.autograd import functional as F
from scratch.kernels.glove import GloVeParams, glove_epoch
from scratch.kernels.routing import route
from scratch.kernels.vq_attention import quadratic_vq_attention, vq_attention
from scratch.kernels.window_attention import window_attention
from scratch.models.capsule import margin_loss, squash
from scratch.models.capsule.layers import Margin
from scratch.models.capsule.networks import Training
from scratch.models.glove import GloVe, SimplerGloVe
from scratch.models.perturb_max import perturb_max_log_probs, perturb_max_loss, perturb_max_probs
from scratch.models.transformer import TransformerConfig
from scratch.models.transformer_vq import TransformerVQConfig
from scratch.models.word2vec import Word2Vec
from scratch.training.lm import TrainConfig
from scratch.validation import NonFiniteError

INF, NAN = float("inf"), float("nan")
X = np.zeros((1, 1, 4, 2))
U_HAT = np.zeros((2, 3, 4, 5))
MU = np.zeros((2, 3))


def _vq(**kw):
    q = np.zeros((1, 8, 2))
    return vq_attention(q, q, q, np.zeros((1, 8), int), np.zeros((3, 2)), **{"block": 4, **kw})


def _glove_epoch(**kw):
    p = GloVeParams.init(3, 2, shared=False, biases=True, rng=np.random.default_rng(0))
    empty_ids, empty = np.zeros(0, np.int32), np.zeros(0)
    return glove_epoch(p, empty_ids, empty_ids, empty, empty, **{"eta": 0.05, **kw})


def _param():
    return [nn.Parameter(np.zeros(3))]


CASES = [
    # the cases of the issue
    ("SimplerGloVe window=True", lambda: SimplerGloVe(window=True), "window", True),
    ("SimplerGloVe epochs=True", lambda: SimplerGloVe(epochs=True), "epochs", True),
    ("SimplerGloVe dim=True", lambda: SimplerGloVe(dim=True), "dim", True),
    ("SimplerGloVe eta=inf", lambda: SimplerGloVe(eta=INF), "eta", INF),
    ("GloVe eta=inf", lambda: GloVe(eta=INF), "eta", INF),
    ("GloVe eta=nan", lambda: GloVe(eta=NAN), "eta", NAN),
    ("vq_attention block=True", lambda: _vq(block=True), "block", True),
    ("route eps=True", lambda: route(U_HAT, eps=True), "eps", True),
    ("route eps='x'", lambda: route(U_HAT, eps="x"), "eps", "x"),
    ("perturb_max_probs scale=True", lambda: perturb_max_probs(MU, scale=True), "scale", True),
    ("Word2Vec sg='no'", lambda: Word2Vec(sg="no"), "sg", "no"),
    ("Word2Vec alpha=inf", lambda: Word2Vec(alpha=INF), "alpha", INF),
    ("SGD lr=inf", lambda: optim.SGD(_param(), lr=INF), "lr", INF),
    ("Adam lr=inf", lambda: optim.Adam(_param(), lr=INF), "lr", INF),
    ("window_attention D=0", lambda: window_attention(np.zeros((1, 1, 4, 0)), np.zeros((1, 1, 4, 0)),
                                                       np.zeros((1, 1, 4, 0)), 2), "head size D", 0),
    ("window_attention scale='a'", lambda: window_attention(X, X, X, 2, scale="a"), "scale", "a"),
    ("window_attention log_n='64'", lambda: window_attention(X, X, X, 2, log_n="64"), "log_n", "64"),
    ("cross_entropy empty batch", lambda: F.cross_entropy(np.zeros((0, 3)), np.zeros(0, int)), "logits", None),
    ("cross_entropy -inf on the target", lambda: F.cross_entropy(np.array([[0.0, -INF, 1.0]]), np.array([1])),
     "logits", None),
    # kernels' entries
    ("window_attention window=True", lambda: window_attention(X, X, X, True), "window", True),
    ("window_attention scale=inf", lambda: window_attention(X, X, X, 2, scale=INF), "scale", INF),
    ("window_attention log_n=True", lambda: window_attention(X, X, X, 2, log_n=True), "log_n", True),
    ("window_attention implementation", lambda: window_attention(X, X, X, 2, implementation="cuda"),
     "implementation", "cuda"),
    ("route iterations=True", lambda: route(U_HAT, iterations=True), "iterations", True),
    ("route eps=inf", lambda: route(U_HAT, eps=INF), "eps", INF),
    ("route mode", lambda: route(U_HAT, mode="su3"), "mode", "su3"),
    ("route stop_gradient='yes'", lambda: route(U_HAT, stop_gradient="yes"), "stop_gradient", "yes"),
    ("vq_attention block=0", lambda: _vq(block=0), "block", 0),
    ("vq_attention implementation", lambda: _vq(implementation="cuda"), "implementation", "cuda"),
    ("glove_epoch eta=inf", lambda: _glove_epoch(eta=INF), "eta", INF),
    ("glove_epoch grad_clip=True", lambda: _glove_epoch(grad_clip=True), "grad_clip", True),
    ("glove_epoch threads=True", lambda: _glove_epoch(threads=True), "threads", True),
    ("glove_epoch adagrad", lambda: _glove_epoch(adagrad="adam"), "adagrad", "adam"),
    # perturb-max
    ("perturb_max_probs scale=inf", lambda: perturb_max_probs(MU, scale=INF), "scale", INF),
    ("perturb_max_probs law", lambda: perturb_max_probs(MU, law="student"), "law", "student"),
    ("perturb_max_log_probs scale='1'", lambda: perturb_max_log_probs(MU, scale="1"), "scale", "1"),
    ("perturb_max_loss kind", lambda: perturb_max_loss(MU, np.array([0, 1]), kind="hinge"), "kind", "hinge"),
    # capsules
    ("squash eps=True", lambda: squash(np.ones((2, 3)), True), "eps", True),
    ("margin_loss lam=inf", lambda: margin_loss(np.zeros((2, 3)), np.array([0, 1]), lam=INF), "lam", INF),
    ("Margin m_pos=True", lambda: Margin(m_pos=True), "m_pos", True),
    ("Training epochs=True", lambda: Training(epochs=True), "epochs", True),
    ("Training lr=inf", lambda: Training(lr=INF), "lr", INF),
    # word vectors
    ("Word2Vec dim=True", lambda: Word2Vec(dim=True), "dim", True),
    ("Word2Vec window=2.0", lambda: Word2Vec(window=2.0), "window", 2.0),
    ("Word2Vec negative=True", lambda: Word2Vec(negative=True), "negative", True),
    ("Word2Vec alpha=nan", lambda: Word2Vec(alpha=NAN), "alpha", NAN),
    ("Word2Vec sampler", lambda: Word2Vec(sampler="zipf"), "sampler", "zipf"),
    ("Word2Vec threads=True", lambda: Word2Vec(threads=True), "threads", True),
    ("SimplerGloVe x_max=inf", lambda: SimplerGloVe(x_max=INF), "x_max", INF),
    ("GloVe alpha=True", lambda: GloVe(alpha=True), "alpha", True),
    ("GloVe epochs=2.5", lambda: GloVe(epochs=2.5), "epochs", 2.5),
    # model and training configurations
    ("TransformerConfig dim=True", lambda: TransformerConfig(dim=True), "dim", True),
    ("TransformerConfig heads=0", lambda: TransformerConfig(heads=0), "heads", 0),
    ("TransformerConfig prenorm='no'", lambda: TransformerConfig(prenorm="no"), "prenorm", "no"),
    ("TransformerConfig position", lambda: TransformerConfig(position="sinusoid"), "position", "sinusoid"),
    ("TransformerConfig sandwich_scale=inf", lambda: TransformerConfig(sandwich_scale=INF), "sandwich_scale", INF),
    ("TransformerVQConfig block=True", lambda: TransformerVQConfig(block=True), "block", True),
    ("TransformerVQConfig attention", lambda: TransformerVQConfig(attention="linear"), "attention", "linear"),
    ("TransformerVQConfig commit_weight=inf", lambda: TransformerVQConfig(commit_weight=INF), "commit_weight", INF),
    ("TrainConfig steps=True", lambda: TrainConfig(steps=True), "steps", True),
    ("TrainConfig lr=inf", lambda: TrainConfig(lr=INF), "lr", INF),
    ("TrainConfig clip=nan", lambda: TrainConfig(clip=NAN), "clip", NAN),
    # optimizers and clipping
    ("SGD momentum=True", lambda: optim.SGD(_param(), lr=0.1, momentum=True), "momentum", True),
    ("SGD lr=nan", lambda: optim.SGD(_param(), lr=NAN), "lr", NAN),
    ("Adam betas", lambda: optim.Adam(_param(), betas=(0.9, 1.5)), "betas", None),
    ("Adam eps=inf", lambda: optim.Adam(_param(), eps=INF), "eps", INF),
    ("AdamW weight_decay=inf", lambda: optim.AdamW(_param(), weight_decay=INF), "weight_decay", INF),
    ("Adagrad lr=True", lambda: optim.Adagrad(_param(), lr=True), "lr", True),
    ("clip_grad_norm max_norm=inf", lambda: optim.clip_grad_norm(_param(), INF), "max_norm", INF),
    ("warmup_cosine peak_lr=inf", lambda: optim.warmup_cosine(0, warmup=1, total=2, peak_lr=INF), "peak_lr", INF),
    # layers and init helpers
    ("Linear in_features=True", lambda: nn.Linear(True, 2), "in_features", True),
    ("Embedding embedding_dim=0", lambda: nn.Embedding(3, 0), "embedding_dim", 0),
    ("Dropout p=1.5", lambda: nn.Dropout(1.5), "p", 1.5),
    ("Dropout p=True", lambda: nn.Dropout(True), "p", True),
    ("uniform_ b=inf", lambda: nn.init.uniform_(np.zeros(3), 0.0, INF), "b", INF),
    ("normal_ std=nan", lambda: nn.init.normal_(np.zeros(3), 0.0, NAN), "std", NAN),
    ("xavier_uniform_ gain=True", lambda: nn.init.xavier_uniform_(np.zeros((2, 2)), True), "gain", True),
    ("kaiming_normal_ mode", lambda: nn.init.kaiming_normal_(np.zeros((2, 2)), mode="fan_avg"), "mode", "fan_avg"),
    # functional losses and ops
    ("cross_entropy reduction", lambda: F.cross_entropy(np.zeros((2, 3)), np.zeros(2, int), reduction="avg"),
     "reduction", "avg"),
    ("cross_entropy NaN logits", lambda: F.cross_entropy(np.array([[NAN, 0.0]]), np.array([0])), "logits", None),
    ("mse_loss inf target", lambda: F.mse_loss(np.zeros(2), np.array([0.0, INF])), "target", None),
    ("dropout p=True", lambda: F.dropout(np.zeros(3), True), "p", True),
]


@pytest.mark.parametrize("call, name, value", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_bad_argument_is_refused_naming_it(call, name, value):
    with pytest.raises((ValueError, TypeError)) as error:
        call()
    message = str(error.value)
    assert name in message
    if value is not None:
        assert repr(value) in message or str(value) in message


def test_non_finite_losses_are_non_finite_errors():
    """The loss of a non-finite input is both a ValueError and the FloatingPointError training loops stop on."""
    for call in (lambda: F.cross_entropy(np.array([[0.0, -INF]]), np.array([1])),
                 lambda: F.nll_loss(np.array([[0.0, -INF]]), np.array([1])),
                 lambda: F.binary_cross_entropy_with_logits(np.array([NAN]), np.array([0.5]))):
        with pytest.raises(NonFiniteError, match="the loss is (NaN|infinite): .* contain NaN or infinity"):
            call()


@pytest.mark.parametrize("call", [
    lambda: perturb_max_probs(MU, scale=np.float32(1)),
    lambda: route(U_HAT, iterations=np.int64(2), eps=np.float32(0.5)),
    lambda: window_attention(X, X, X, np.int64(2), scale=np.float32(0.5), log_n=np.int32(64)),
    lambda: _vq(block=np.int64(4)),
    lambda: SimplerGloVe(dim=np.int64(4), window=np.int32(2), eta=np.float32(0.1)),
    lambda: Word2Vec(dim=np.int64(4), alpha=np.float32(0.025)),
    lambda: optim.SGD(_param(), lr=np.float32(0.1)),
    lambda: TransformerConfig(dim=np.int64(8), heads=np.int64(2)),
], ids=["perturb_max_probs", "route", "window_attention", "vq_attention", "SimplerGloVe", "Word2Vec", "SGD",
        "TransformerConfig"])
def test_numpy_scalars_are_numbers(call):
    call()
