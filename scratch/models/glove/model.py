"""GloVe (Pennington et al., Stanford's glove.c) and Su's simpler GloVe (spec ``word_vectors.md`` §2).

Both fit word vectors to co-occurrence counts X by weighted least squares over the observed
ordered pairs i != j, trained by AdaGrad over records shuffled once (``scratch.kernels.glove``):

    GloVe          <W_i, C_j> + b_i + c_j ~ log X_ij                     output W + C (or W)
    simpler GloVe  <v_i, v_j> ~ m_ij = log[(X_ij / T) / ((n_i / N)(n_j / N))]  (the PMI)

with weight f(X_ij) = min(1, (X_ij / x_max)^alpha) (simpler GloVe: uncapped when ``truncate`` is
off). Simpler GloVe's ``model``: ``"shared"`` one vector per word (v = W = C, Su's model 0),
``"concat"`` separate centre and context vectors output side by side [W, C] (model 1), ``"sum"``
output W + C (model 2).

    model = SimplerGloVe(dim=128, window=10).fit("english")
    model.most_similar("king"); model.save("vectors.txt", format="glove")
"""
from __future__ import annotations

import inspect
import os
from collections.abc import Callable

import numpy as np

from ... import validation
from ...datasets.cooccurrence import Cooccurrence, count_corpus, ordered_records
from ...datasets.text import CORPORA, Vocab, load_corpus
from ...kernels.glove import ADAGRAD_ORDERS, GloVeParams, glove_epoch, glove_weight
from ..word_vectors import WordVectorsMixin

EpochCallback = Callable[[int, float], None]
DTYPES = ("float32", "float64")


class _GloVeBase(WordVectorsMixin):
    """Counting, record preparation and the training loop shared by both models."""

    weighting: str

    def __init__(self, *, dim: int, window: int, min_count: int, epochs: int, x_max: float, alpha: float,
                 eta: float, adagrad: str, threads: int, seed: int, memory: float, dtype: str):
        self.dim = validation.positive_int("dim", dim)
        self.window = validation.positive_int("window", window)
        self.min_count = validation.positive_int("min_count", min_count)
        self.epochs = validation.positive_int("epochs", epochs)
        self.x_max = validation.positive_real("x_max", x_max)
        self.alpha = validation.real("alpha", alpha, minimum=0.0)
        self.eta = validation.positive_real("eta", eta)
        self.adagrad = validation.choice("adagrad", adagrad, ADAGRAD_ORDERS)
        self.threads = validation.positive_int("threads", threads)
        self.seed = validation.integer("seed", seed, minimum=0)
        self.memory = validation.positive_real("memory", memory)
        self.dtype = validation.choice("dtype", dtype, DTYPES)
        self.vocab: Vocab | None = None
        self.cooccurrence: Cooccurrence | None = None
        self.params: GloVeParams | None = None
        self.costs: list[float] = []

    @classmethod
    def defaults(cls) -> dict[str, object]:
        """The constructor's default hyper-parameters by name (what the scripts show and fall back to)."""
        return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
                if p.default is not p.empty}

    def fit(self, corpus: str | os.PathLike | None = None, callback: EpochCallback | None = None,
            encoding: str = "utf-8", token_cache: str | os.PathLike | None = None):
        """Count the corpus (a shipped corpus name, a file path in ``encoding``, or None for the default) and
        train.

        ``callback(epoch, mean_cost)`` runs after every epoch (epochs count from 1). The corpus is
        tokenized once; ``token_cache`` names a folder that keeps its ids for later runs
        (``count_corpus``).
        """
        path = load_corpus(corpus) if corpus is None or corpus in CORPORA else corpus
        vocab, cooccurrence = count_corpus(path, self.min_count, self.window, self.weighting, self.memory, encoding,
                                           token_cache)
        return self.fit_cooccurrence(cooccurrence, vocab, callback)

    def fit_cooccurrence(self, cooccurrence: Cooccurrence, vocab: Vocab, callback: EpochCallback | None = None):
        """Train on counted co-occurrences, continuing after ``len(self.costs)`` epochs when parameters
        were restored by ``load_state``."""
        if cooccurrence.vocab_size != len(vocab):
            raise ValueError(f"cooccurrence counts {cooccurrence.vocab_size} ids but vocab has {len(vocab)}")
        self.vocab, self.cooccurrence = vocab, cooccurrence
        rng = np.random.default_rng(self.seed)
        init = GloVeParams.init(len(vocab), self.dim, shared=self.shared, biases=self.biases, rng=rng,
                                dtype=np.dtype(self.dtype).type)
        if self.params is None:
            self.params = init
        elif self.params.W.shape[0] != len(vocab):
            raise ValueError(f"restored parameters have {self.params.W.shape[0]} rows, the vocabulary {len(vocab)}")
        rows, cols, values = ordered_records(cooccurrence, np.stack([self.targets(cooccurrence),
                                                                     self.weights(cooccurrence)], axis=1), rng)
        target, weight = np.ascontiguousarray(values[:, 0]), np.ascontiguousarray(values[:, 1])
        for epoch in range(len(self.costs) + 1, self.epochs + 1):
            cost = glove_epoch(self.params, rows, cols, target, weight, eta=self.eta, adagrad=self.adagrad,
                               threads=self.threads) / rows.size
            self.costs.append(cost)
            if callback is not None:
                callback(epoch, cost)
        return self

    def state(self) -> dict[str, np.ndarray]:
        """The parameters and accumulators (for a checkpoint)."""
        if self.params is None:
            raise RuntimeError("the model is not trained yet")
        return {**self.params._asdict(), "costs": np.array(self.costs)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what ``state`` returned; ``fit`` then runs the remaining epochs."""
        arrays = {k: np.array(state[k]) for k in GloVeParams._fields}
        if self.shared:
            arrays["C"], arrays["GC"] = arrays["W"], arrays["GW"]
        if arrays["W"].shape[1] != self.dim:
            raise ValueError(f"state holds vectors of dimension {arrays['W'].shape[1]}, the model has dim={self.dim}")
        self.params = GloVeParams(**arrays)
        self.costs = [float(c) for c in state["costs"]]

    @property
    def vectors(self) -> np.ndarray:
        """``(V + 1, d)`` (or ``2d`` for a concatenated output) float32; row 0 (unknown words) is zero."""
        if self.params is None:
            raise RuntimeError("the model is not trained yet; call fit first")
        out = self.output_vectors().astype(np.float32)
        out[0] = 0.0
        return out


class GloVe(_GloVeBase):
    """Classic GloVe: t_ij = log X_ij with biases, counts weighted 1/d, Stanford's AdaGrad by default.

    Defaults follow glove.c (window 15, x_max 100, alpha 0.75, eta 0.05, d 50, 25 iterations,
    ``adagrad="stanford"``, ``output="sum"`` = W + C, glove.c's ``-model 2``), with min_count 5.
    """

    weighting = "harmonic"
    shared = False
    biases = True
    OUTPUTS = ("sum", "word")

    def __init__(self, dim: int = 50, window: int = 15, min_count: int = 5, epochs: int = 25, *,
                 x_max: float = 100.0, alpha: float = 0.75, eta: float = 0.05, adagrad: str = "stanford",
                 output: str = "sum", threads: int = 1, seed: int = 0, memory: float = 1.0,
                 dtype: str = "float64"):
        super().__init__(dim=dim, window=window, min_count=min_count, epochs=epochs, x_max=x_max, alpha=alpha,
                         eta=eta, adagrad=adagrad, threads=threads, seed=seed, memory=memory, dtype=dtype)
        self.output = validation.choice("output", output, self.OUTPUTS)

    def targets(self, cooccurrence: Cooccurrence) -> np.ndarray:
        """t_ij = log X_ij per unordered record: ``(U,)``."""
        return np.log(cooccurrence.counts)

    def weights(self, cooccurrence: Cooccurrence) -> np.ndarray:
        """f(X_ij) = min(1, (X_ij / x_max)^alpha) per unordered record: ``(U,)``."""
        return glove_weight(cooccurrence.counts, self.x_max, self.alpha, truncate=True)

    def output_vectors(self) -> np.ndarray:
        """W + C (``output="sum"``, glove.c's ``-model 2``) or W: ``(V, d)``."""
        return self.params.W + self.params.C if self.output == "sum" else self.params.W.copy()


class SimplerGloVe(_GloVeBase):
    """Su's simpler GloVe: <v_i, v_j> ~ PMI m_ij, uniform window weights, Su's AdaGrad (G0 = 1, eta 0.1).

    Defaults follow Su's demo.sh (d 128, window 10, 30 iterations, x_max 100, alpha 0.75,
    ``truncate=True``, ``model="shared"``), with min_count 5.
    """

    weighting = "uniform"
    biases = False
    MODELS = ("shared", "concat", "sum")

    def __init__(self, dim: int = 128, window: int = 10, min_count: int = 5, epochs: int = 30, *,
                 x_max: float = 100.0, alpha: float = 0.75, eta: float = 0.1, adagrad: str = "su",
                 truncate: bool = True, model: str = "shared", threads: int = 1, seed: int = 0,
                 memory: float = 1.0, dtype: str = "float64"):
        super().__init__(dim=dim, window=window, min_count=min_count, epochs=epochs, x_max=x_max, alpha=alpha,
                         eta=eta, adagrad=adagrad, threads=threads, seed=seed, memory=memory, dtype=dtype)
        self.model = validation.choice("model", model, self.MODELS)
        self.truncate = validation.boolean("truncate", truncate)

    @property
    def shared(self) -> bool:
        """One vector per word (C is W)."""
        return self.model == "shared"

    def targets(self, cooccurrence: Cooccurrence) -> np.ndarray:
        """t_ij = m_ij, the PMI, per unordered record: ``(U,)``."""
        return cooccurrence.pmi()

    def weights(self, cooccurrence: Cooccurrence) -> np.ndarray:
        """f(X_ij), capped at 1 when ``truncate``, per unordered record: ``(U,)``."""
        return glove_weight(cooccurrence.counts, self.x_max, self.alpha, truncate=self.truncate)

    def output_vectors(self) -> np.ndarray:
        """W (shared), [W, C] (concat, ``(V, 2d)``) or W + C (sum)."""
        W, C = self.params.W, self.params.C
        if self.model == "concat":
            return np.concatenate([W, C], axis=1)
        return W + C if self.model == "sum" else W.copy()
