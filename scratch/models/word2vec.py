"""word2vec with the "random softmax" loss (spec word_vectors.md §1): CBOW or skip-gram.

Examples (§1.1): for each centre position i of a line, the context is up to ``window`` words on the
left and ``window`` on the right (``window − 1`` with ``right_off_by_one``, the TF class's slice),
optionally shrunk to a uniform random reach in 1..window (``shrink_window``, word2vec.c/gensim).
CBOW: one example, h = Σ_j E[c_j] (or the mean, ``cbow_mean``), target t = the centre word; missing
context slots are the padding id 0 when ``pad_context`` (the TF class: E[0] is trained, nothing is
masked). Skip-gram: one example per (context c, centre t) with h = E[c].

Loss (§1.2): the target and K = ``negative`` sampled ids, scored against the output table W (W ≡ E,
b ≡ 0 when ``shared``), softmax cross-entropy with the target in slot 0 — see
``scratch.kernels.sampled_softmax.loss`` for the equations. ``loss`` picks one of three presets,
each of whose parts can be overridden:

=====================  ===========  ===========  =====  ==============  ==================
loss                   objective    sampler      log-Q  accidental hits  negatives
=====================  ===========  ===========  =====  ==============  ==================
"random-softmax"       softmax      uniform      no     kept            fresh per example
"sampled-softmax"      softmax      log-uniform  yes    removed          shared per batch
"nce"                  sigmoid      log-uniform  yes    kept            shared per batch
=====================  ===========  ===========  =====  ==============  ==================

"unigram" is word2vec's sampler, q ∝ count^0.75. The sampled ids are drawn with replacement and log-Q
subtracts log(K q), their expected count; TensorFlow's sampled losses draw K distinct ids and use
log(1 − (1 − q)^tries) instead, which agrees when K q ≪ 1. Subsampling (word2vec.c's keep probability,
threshold ``sample``) is "off" (the TF class), "centre" (the Keras script: only centre positions are
dropped) or "both" (word2vec.c/gensim: dropped words leave the line before windowing).

Training: ``optimizer="sgd"`` runs the fused Numba kernel, SGD with the learning rate decaying
linearly from ``alpha`` to ``min_alpha`` (gensim's schedule), Hogwild over ``threads`` parts of each
corpus chunk. ``"lazy-adam"`` and ``"lazy-adagrad"`` run the same kernel with per-row Adam/Adagrad at
the constant rate ``lr``, updating only the rows each example touches (``scratch.optim``'s
lazy-sparse rule, one example at a time). ``optimizer="adam"`` is the original's dense Adam on the
autograd path (``random_softmax_loss``), batches of ``batch_size`` examples built by the same kernel
walker.
The corpus is tokenized once; every epoch streams its ids in chunks of ``chunk_tokens`` tokens, so memory
does not grow with its length.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import functional as F
from .. import validation
from ..autograd import Tensor, concatenate, where
from ..datasets.text import TokenChunk, Vocab, load_corpus, subsample_keep_probs
from ..datasets.tokens import corpus_tokens
from ..kernels import sampled_softmax as kernel
from ..nn import Module, Parameter
from ..optim import Adam
from ..progress import Progress, check_finite
from .word_vectors import WordVectorsMixin

PRESETS = {
    "random-softmax": dict(objective="softmax", sampler="uniform", log_q=False, remove_accidental_hits=False,
                           shared_negatives=1),
    "sampled-softmax": dict(objective="softmax", sampler="log-uniform", log_q=True, remove_accidental_hits=True,
                            shared_negatives=None),
    "nce": dict(objective="nce", sampler="log-uniform", log_q=True, remove_accidental_hits=False,
                shared_negatives=None),
}
OPTIMIZERS = ("sgd", "lazy-adam", "lazy-adagrad", "adam")
CHOICES = {"loss": tuple(PRESETS), "sampler": tuple(kernel.SAMPLERS), "subsample": tuple(kernel.SUBSAMPLING),
           "optimizer": OPTIMIZERS}


class LazyOptimizer:
    """The kernel's lazy Adagrad/Adam state (a ``kernel.LazyState``), saved and restored like an optimizer."""

    def __init__(self, state: kernel.LazyState):
        self.state = state

    def state_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self.state, name) for name in kernel.MOMENTS}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for name in kernel.MOMENTS:
            getattr(self.state, name)[...] = state[name]


@dataclass
class Word2VecConfig:
    """Hyper-parameters of ``Word2Vec`` (defaults: the spec's faithful settings, §1.1–1.2).

    ``sampler``, ``log_q``, ``remove_accidental_hits`` and ``shared_negatives`` default (None) to the
    ``loss`` preset's; ``resolved`` holds the preset with them applied.
    """

    dim: int = 128
    window: int = 5
    negative: int = 16
    sg: bool = False
    cbow_mean: bool = False
    shared: bool = True
    bias: bool = True
    loss: str = "random-softmax"
    sampler: str | None = None
    log_q: bool | None = None
    remove_accidental_hits: bool | None = None
    shared_negatives: int | None = None
    exclude_padding: bool = False
    pad_context: bool = True
    right_off_by_one: bool = False
    shrink_window: bool = False
    subsample: str = "off"
    sample: float = 1e-3
    min_count: int = 5
    epochs: int = 2
    optimizer: str = "sgd"
    alpha: float = 0.025
    min_alpha: float = 0.0001
    lr: float = 1e-3
    batch_size: int = 8000
    init_scale: float = 0.05
    threads: int = 1
    seed: int = 0
    chunk_tokens: int = 1 << 18
    resolved: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name in ("dim", "window", "negative", "min_count", "epochs", "batch_size", "threads", "chunk_tokens"):
            setattr(self, name, validation.positive_int(name, getattr(self, name)))
        for name in ("sg", "cbow_mean", "shared", "bias", "exclude_padding", "pad_context", "right_off_by_one",
                     "shrink_window"):
            setattr(self, name, validation.boolean(name, getattr(self, name)))
        for name, allowed in CHOICES.items():
            if name != "sampler" or self.sampler is not None:
                validation.choice(name, getattr(self, name), allowed)
        for name in ("log_q", "remove_accidental_hits"):
            if getattr(self, name) is not None:
                setattr(self, name, validation.boolean(name, getattr(self, name)))
        self.shared_negatives = validation.optional_positive_int("shared_negatives", self.shared_negatives)
        for name in ("sample", "alpha", "lr", "init_scale"):
            setattr(self, name, validation.positive_real(name, getattr(self, name)))
        self.min_alpha = validation.real("min_alpha", self.min_alpha, minimum=0.0, maximum=self.alpha)
        self.seed = validation.integer("seed", self.seed, minimum=0)
        preset = dict(PRESETS[self.loss])
        for name in ("sampler", "log_q", "remove_accidental_hits", "shared_negatives"):
            if getattr(self, name) is not None:
                preset[name] = getattr(self, name)
        if preset["shared_negatives"] is None:
            preset["shared_negatives"] = self.batch_size
        self.resolved = preset

    def walker_config(self) -> kernel.WalkerConfig:
        """How the kernel builds examples from lines (``scratch.kernels.sampled_softmax.walker``)."""
        r = self.resolved
        return kernel.WalkerConfig(sg=self.sg, window=self.window, right_trim=int(self.right_off_by_one),
                                   shrink=self.shrink_window, pad=self.pad_context, cbow_mean=self.cbow_mean,
                                   subsampling=kernel.SUBSAMPLING[self.subsample], negative=self.negative,
                                   share=r["shared_negatives"], remove_hits=r["remove_accidental_hits"])


def sampling_distribution(counts: np.ndarray, sampler: str, exclude_padding: bool = False) -> np.ndarray:
    """Probabilities q ``(V+1,)`` of drawing each id: uniform on 0..V (1..V with ``exclude_padding``),
    unigram q ∝ count^0.75 (id 0 has count 0), or log-uniform q(k+1) = log((k+2)/(k+1)) / log(V+1)."""
    validation.choice("sampler", sampler, CHOICES["sampler"])
    rows = counts.shape[0]
    if sampler == "uniform":
        q = np.ones(rows)
        q[0] = 0.0 if exclude_padding else 1.0
    elif sampler == "unigram":
        q = counts.astype(np.float64) ** 0.75
    else:
        k = np.arange(rows - 1, dtype=np.float64)
        q = np.concatenate([[0.0], np.log((k + 2) / (k + 1))])
    return q / q.sum()


def random_softmax_loss(E: Tensor, W: Tensor | None, b: Tensor | None, contexts: np.ndarray, scale: np.ndarray,
                        samples: np.ndarray, valid: np.ndarray, log_expected: np.ndarray | None = None,
                        objective: str = "softmax") -> Tensor:
    """The mean loss of a batch of examples from engine ops — the readable definition (§1.2).

    E: ``(V+1, d)``; W: ``(V+1, d)`` or None when shared (W ≡ E, b ≡ 0); b: ``(V+1,)`` or None;
    contexts: ``(B, C)`` ids, −1 for an empty slot; scale: ``(B,)``; samples: ``(B, K+1)`` ids,
    target in slot 0; valid: ``(B, K+1)`` bool; log_expected: ``(V+1,)`` log(K q) or None;
    objective: "softmax" or "nce". When every example of the batch has the same negatives (one shared
    set, as TF's sampled losses draw it), their logits are computed as one product h Sᵀ instead of
    B gathered copies of the K rows, the same values in O(K d) memory instead of O(B K d).
    """
    validation.choice("objective", objective, kernel.LOSSES)
    slots = contexts >= 0
    vectors = F.embedding(E, np.where(slots, contexts, 0))                  # (B, C, d)
    h = (vectors * slots[:, :, None]).sum(axis=1) * scale[:, None]          # (B, d)
    table = E if W is None else W
    if len(samples) > 1 and np.all(samples[1:, 1:] == samples[:1, 1:]):
        # one negative set for the whole batch (TF's sampled losses): its logits are one product h Sᵀ
        target = (F.embedding(table, samples[:, 0]) * h).sum(axis=1)        # (B,)
        z = concatenate([target.reshape(-1, 1), h @ F.embedding(table, samples[0, 1:]).T], axis=1)
    else:
        rows = F.embedding(table, samples)                                  # (B, K+1, d)
        z = (rows * h.reshape(h.shape[0], 1, h.shape[1])).sum(axis=2)      # (B, K+1)
    if b is not None:
        z = z + b[samples]
    if log_expected is not None:
        z = z - log_expected[samples]
    if objective == "softmax":
        return F.cross_entropy(where(valid, z, F.MASKED), np.zeros(len(samples), dtype=np.int64))
    labels = np.zeros(samples.shape)
    labels[:, 0] = 1.0
    losses = F.binary_cross_entropy_with_logits(z, labels, reduction="none") * valid
    return losses.sum(axis=1).mean()


class Word2Vec(Module, WordVectorsMixin):
    """CBOW / skip-gram word vectors trained with a sampled softmax; see the module docstring.

    ``Word2Vec(**hyper_parameters).fit(corpus)``; then ``.vectors (V+1, d)``, ``.vocab``,
    ``.most_similar(word, topn)``, ``.save(path, format)``, ``.log_proba(words)``.
    """

    def __init__(self, **hyper_parameters: Any):
        super().__init__()
        self.config = Word2VecConfig(**hyper_parameters)
        self.vocab: Vocab | None = None
        self.history: list[dict[str, float]] = []

    # --- set-up ---------------------------------------------------------------------------------

    def build(self, vocab: Vocab) -> Word2Vec:
        """Allocate E (and W, b unless shared; b only with ``bias``) for ``vocab``: U(±init_scale), b = 0 (§1.2)."""
        c = self.config
        self.vocab = vocab
        rng = np.random.default_rng(c.seed)
        rows = len(vocab)
        self.embedding = Parameter(rng.uniform(-c.init_scale, c.init_scale, (rows, c.dim)).astype(np.float32))
        if not c.shared:
            self.output = Parameter(rng.uniform(-c.init_scale, c.init_scale, (rows, c.dim)).astype(np.float32))
            self.bias = Parameter(np.zeros(rows, np.float32)) if c.bias else None
        q = sampling_distribution(vocab.counts, c.resolved["sampler"], c.exclude_padding)
        self._sampler = kernel.Sampler(kernel.SAMPLERS[c.resolved["sampler"]], int(c.exclude_padding),
                                       *kernel.alias_table(q))
        self.optimizer = None
        if c.optimizer == "adam":
            self.optimizer = Adam(list(self.parameters()), lr=c.lr)
        elif c.optimizer != "sgd":
            self.optimizer = LazyOptimizer(kernel.lazy_state(c.optimizer.removeprefix("lazy-"), *self._tables()))
        with np.errstate(divide="ignore"):
            self._log_expected = np.log(c.negative * q)
        self._objective = kernel.Objective(kernel.LOSSES[c.resolved["objective"]], c.resolved["log_q"],
                                           self._log_expected)
        self._keep = (subsample_keep_probs(vocab.counts, c.sample) if c.subsample != "off"
                      else np.ones(rows))
        return self

    @property
    def vectors(self) -> np.ndarray:
        """The input embedding E ``(V+1, d)``, row 0 the padding/unknown row."""
        return self.embedding.data

    def _tables(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        if self.config.shared:
            return self.embedding.data, None, None
        return self.embedding.data, self.output.data, None if self.bias is None else self.bias.data

    # --- training -------------------------------------------------------------------------------

    def fit(self, corpus: str | os.PathLike | None = None, *, start_epoch: int = 0,
            on_epoch_end: Callable[[Word2Vec, int], None] | None = None, encoding: str = "utf-8",
            token_cache: str | os.PathLike | None = None) -> Word2Vec:
        """Train on ``corpus`` (a file path in ``encoding``, a shipped corpus name, or None for the default corpus).

        The corpus is tokenized once into ``int32`` ids (``scratch.datasets.tokens``), kept in the
        folder ``token_cache`` for later runs (a temporary folder when None); the vocabulary is
        counted from them unless ``build`` was called; then each of the ``epochs`` passes streams the
        memory-mapped ids in chunks of ``chunk_tokens``, so memory does not grow with the corpus.
        ``on_epoch_end(model, epoch)`` runs after each epoch (checkpoints); ``start_epoch`` resumes
        after a checkpoint.
        """
        validation.integer("start_epoch", start_epoch, minimum=0, maximum=self.config.epochs)
        path = resolve_corpus(corpus)
        with corpus_tokens(path, encoding, token_cache) as tokens:
            if self.vocab is None:
                self.build(tokens.vocab(self.config.min_count))

            def chunks() -> Iterable[TokenChunk]:
                return tokens.chunks(self.vocab, self.config.chunk_tokens, drop_unknown=True)

            return self.fit_chunks(chunks, start_epoch=start_epoch, on_epoch_end=on_epoch_end, source=str(path))

    def fit_chunks(self, chunks: Callable[[], Iterable[TokenChunk]], *, start_epoch: int = 0,
              on_epoch_end: Callable[[Word2Vec, int], None] | None = None, source: str = "corpus") -> Word2Vec:
        """Train on the ``TokenChunk``s that ``chunks()`` yields afresh for each epoch (ids of ``vocab``)."""
        if self.vocab is None:
            raise ValueError("call build(vocab) or fit(corpus) before fit_chunks(chunks)")
        c = self.config
        start_epoch = validation.integer("start_epoch", start_epoch, minimum=0, maximum=c.epochs)
        epoch_words = float(self.vocab.counts.sum())
        total_words = epoch_words * c.epochs
        progress = Progress(total=int(total_words), unit="words", label="words")
        done = epoch_words * start_epoch
        for epoch in range(start_epoch, c.epochs):
            loss_sum, examples, kept = 0.0, 0, 0
            for index, chunk in enumerate(chunks()):
                chunk_index = epoch * 1_000_003 + index
                if c.optimizer != "adam":
                    rate = (c.alpha, c.min_alpha) if c.optimizer == "sgd" else (c.lr, c.lr)
                    loss, count, words, centres = kernel.train_chunk(
                        chunk.ids, chunk.offsets, *self._tables(), c.walker_config(), self._keep,
                        self._sampler, self._objective, alpha=rate, progress=done, total_words=total_words,
                        seed=c.seed, chunk_index=chunk_index, threads=c.threads,
                        lazy=self.optimizer.state if self.optimizer is not None else None)
                    kept += centres
                else:
                    loss, count, words = self._adam_chunk(chunk, chunk_index)
                check_finite(loss, epoch)
                loss_sum, examples, done = loss_sum + loss, examples + count, done + words
                progress.update(int(done), items=words, epoch=epoch + 1, loss=loss_sum / max(examples, 1))
            if examples == 0:
                raise ValueError(f"{source} gave no training example (lines too short for a context?)")
            record = {"epoch": epoch + 1, "loss": loss_sum / examples, "examples": examples}
            if c.optimizer != "adam":  # words left after subsampling (gensim's "effective words")
                record["kept"] = kept
            self.history.append(record)
            if on_epoch_end is not None:
                on_epoch_end(self, epoch + 1)
        progress.close()
        return self

    def _adam_chunk(self, chunk, chunk_index: int) -> tuple[float, int, int]:
        """Dense Adam (TF1/Keras semantics, §1.4) on the autograd loss, batch by batch."""
        c = self.config
        contexts, samples, _, _ = kernel.trace_chunk(chunk.ids, chunk.offsets, len(self.vocab), c.walker_config(),
                                                     self._keep, self._sampler, seed=c.seed,
                                                     chunk_index=chunk_index)
        loss_sum = 0.0
        for start in range(0, len(samples), c.batch_size):
            batch = slice(start, start + c.batch_size)
            loss = self.batch_loss(contexts[batch], samples[batch])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            loss_sum += float(loss.data) * len(samples[batch])
        return loss_sum, len(samples), int(chunk.offsets[-1])

    def batch_loss(self, contexts: np.ndarray, samples: np.ndarray) -> Tensor:
        """``random_softmax_loss`` of examples ``contexts (B, C)`` / ``samples (B, K+1)`` with this model's options."""
        c = self.config
        valid, scale = example_masks(contexts, samples, c)
        log_expected = self._log_expected if c.resolved["log_q"] else None
        W, b = (None, None) if c.shared else (self.output, self.bias)
        return random_softmax_loss(self.embedding, W, b, contexts, scale, samples, valid, log_expected,
                                   c.resolved["objective"])

    # --- inference ------------------------------------------------------------------------------

    def log_proba(self, words: list[str]) -> np.ndarray:
        """log p(w | words) over the vocabulary ``(V+1,)`` (§1.5).

        CBOW: the full softmax of h = Σ_i E[c_i] (× 1/n with ``cbow_mean``) against W (+ b).
        Skip-gram: naive Bayes, Σ_i log p(w | c_i) − (n − 1) log P(w), with P(w) = count / total.
        Unknown words are ignored; ``ValueError`` when none is known. For skip-gram, the padding row
        (count 0) gets −inf.
        """
        ids = [self.vocab.index(w) for w in words if w in self.vocab]
        if not ids:
            raise ValueError(f"words holds no word of the vocabulary: {words!r}")
        E, W, b = self._tables()
        W = E if W is None else W
        b = 0.0 if b is None else b

        def log_softmax(h: np.ndarray) -> np.ndarray:
            z = W.astype(np.float64) @ h + b
            return z - np.logaddexp.reduce(z, axis=0)

        if not self.config.sg:
            h = E[ids].astype(np.float64).sum(axis=0)
            return log_softmax(h / len(ids) if self.config.cbow_mean else h)
        counts = self.vocab.counts
        seen = counts > 0
        log_prior = np.log(counts / counts.sum(), where=seen, out=np.zeros(len(counts)))
        log_p = sum(log_softmax(E[i].astype(np.float64)) for i in ids) - (len(ids) - 1) * log_prior
        log_p[~seen] = -np.inf  # the padding row is not a word: P(w) = 0
        return log_p


def example_masks(contexts: np.ndarray, samples: np.ndarray, config: Word2VecConfig) -> tuple[np.ndarray, np.ndarray]:
    """``valid (B, K+1)`` (accidental hits out when removed) and the input scale ``(B,)`` of examples."""
    valid = np.ones(samples.shape, dtype=bool)
    if config.resolved["remove_accidental_hits"]:
        valid[:, 1:] = samples[:, 1:] != samples[:, :1]
    n = (contexts >= 0).sum(axis=1)
    scale = 1.0 / n if config.cbow_mean and not config.sg else np.ones(len(contexts))
    return valid, scale


def resolve_corpus(corpus: str | os.PathLike | None) -> str | os.PathLike:
    """A shipped corpus name (or None, the default) → its path; any other value is a file path."""
    if corpus is None or (isinstance(corpus, str) and not os.path.exists(corpus) and "/" not in corpus):
        return load_corpus(corpus)
    return corpus

