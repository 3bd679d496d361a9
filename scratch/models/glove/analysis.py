"""What simpler-GloVe vectors say beyond similarity (spec ``word_vectors.md`` §2.4–2.5).

With <v_i, v_j> ~ PMI(i, j), the raw inner product ranks *related* words, the norm behaves as an
importance weight (stopwords have PMI ~ 0 with everything, so their norms shrink), and the
Cholesky-whitened cosine ranks *similar* words. All functions take ``vectors (V + 1, d)`` and
``words`` aligned row by row, row 0 the unknown-word row, rows in decreasing frequency (as
``WordVectors`` and the models' ``.vectors`` / ``.vocab.words``); row 0 is never returned.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from ... import validation
from ...datasets.cooccurrence import Cooccurrence
from ...evaluate import analogy_accuracy, unit_rows, word_pair_similarity

Neighbours = list[tuple[str, float]]
# N of the whitened similarity: the most frequent words whose PMI profiles are compared (Su's demo).
CONTEXT_WORDS = 10000
# How many smallest-norm words the norm-vs-frequency analysis lists.
SMALLEST_NORMS = 50


def most_correlative(vectors: np.ndarray, words: Sequence[str], word: str, topn: int = 20,
                     normalize: bool = True) -> Neighbours:
    """Words ranked by cos(v_w, v_x) (``normalize``) or by the raw <v_w, v_x> ~ PMI ("related words")."""
    vectors, index = _checked(vectors, words)
    query = vectors[_row(index, word)]
    scores = (unit_rows(vectors) @ (query / np.linalg.norm(query)) if validation.boolean("normalize", normalize)
              else vectors @ query)
    return _top(scores, words, topn, exclude=[_row(index, word)])


def whitening(vectors: np.ndarray, context_words: int = CONTEXT_WORDS) -> np.ndarray:
    """U = cholesky(V_c^T V_c), V_c the first ``context_words`` word rows (1..N) centred: ``(d, d)``.

    cos(x U, y U) is the Pearson correlation of the PMI profiles <x, v_k>, <y, v_k> over those N
    most frequent words k (spec §2.4, article eqs 31–39).
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    context_words = validation.integer("context_words", context_words, minimum=2)
    context = vectors[1:context_words + 1]
    context = context - context.mean(axis=0)
    return np.linalg.cholesky(context.T @ context)


def most_similar_whitened(vectors: np.ndarray, words: Sequence[str], word: str, topn: int = 20,
                          context_words: int = CONTEXT_WORDS) -> Neighbours:
    """Words ranked by the cosine of the whitened vectors x U ("similar words", Su's ``most_similar``)."""
    vectors, index = _checked(vectors, words)
    whitened = unit_rows(vectors @ whitening(vectors, context_words))
    row = _row(index, word)
    return _top(whitened @ whitened[row], words, topn, exclude=[row])


def analogy(vectors: np.ndarray, words: Sequence[str], a: str, b: str, c: str, topn: int = 6,
            normalize: bool = False, exclude_query: bool = False) -> Neighbours:
    """a : b :: c : ?  ranked by cos(x, q), q = b + c - a from raw vectors (Su) or unit ones (gensim).

    Su's helper keeps the query words among the answers; ``exclude_query`` drops them (gensim).
    """
    vectors, index = _checked(vectors, words)
    ids = [_row(index, w) for w in (a, b, c)]
    source = unit_rows(vectors) if validation.boolean("normalize", normalize) else vectors
    query = source[ids[1]] + source[ids[2]] - source[ids[0]]
    scores = unit_rows(vectors) @ (query / np.linalg.norm(query))
    return _top(scores, words, topn, exclude=ids if validation.boolean("exclude_query", exclude_query) else [])


def norm_frequency(vectors: np.ndarray, words: Sequence[str], counts: np.ndarray, smallest: int = SMALLEST_NORMS
                   ) -> tuple[float, Neighbours]:
    """Spearman correlation of ||v_w|| with log count over words 1..V, and the ``smallest`` norms.

    counts: ``(V + 1,)`` word counts aligned with ``vectors`` (``Vocab.counts``).
    """
    vectors, _ = _checked(vectors, words)
    smallest = validation.positive_int("smallest", smallest)
    counts = np.asarray(counts)
    if counts.shape != (vectors.shape[0],):
        raise ValueError(f"counts has shape {counts.shape}, expected ({vectors.shape[0]},) aligned with vectors")
    norms = np.linalg.norm(vectors[1:], axis=1)
    rho = float(stats.spearmanr(norms, np.log(counts[1:])).statistic)
    order = np.argsort(norms, kind="stable")[:smallest]
    return rho, [(words[k + 1], float(norms[k])) for k in order]


def sentence_vector(vectors: np.ndarray, words: Sequence[str], tokens: Sequence[str], mean: bool = False
                    ) -> np.ndarray:
    """Sum (or mean) of the vectors of the known ``tokens``: ``(d,)``."""
    vectors, index = _checked(vectors, words)
    rows = [index[t] for t in tokens if t in index]
    if not rows:
        raise ValueError(f"tokens has no known word: {list(tokens)[:10]!r}")
    total = vectors[rows].sum(axis=0)
    return total / len(rows) if validation.boolean("mean", mean) else total


def keywords(vectors: np.ndarray, words: Sequence[str], tokens: Sequence[str], topn: int = 10) -> Neighbours:
    """The distinct known tokens ranked by <v_w, sum_k v_k> (article eqs 40–43)."""
    vectors, index = _checked(vectors, words)
    topn = validation.positive_int("topn", topn)
    total = sentence_vector(vectors, words, tokens)
    unique = list(dict.fromkeys(t for t in tokens if t in index))
    scores = [(w, float(vectors[index[w]] @ total)) for w in unique]
    return sorted(scores, key=lambda item: -item[1])[:topn]


def sentence_similarity(vectors: np.ndarray, words: Sequence[str], first: Sequence[str], second: Sequence[str],
                        normalize: bool = True) -> float:
    """<sum v, sum v'> of two token lists, or their cosine when ``normalize`` (article eqs 44–46)."""
    u = sentence_vector(vectors, words, first)
    v = sentence_vector(vectors, words, second)
    dot = float(u @ v)
    return dot / float(np.linalg.norm(u) * np.linalg.norm(v)) if validation.boolean("normalize", normalize) else dot


def pmi_fit_r2(vectors: np.ndarray, cooccurrence: Cooccurrence, weight: np.ndarray,
               context: np.ndarray | None = None) -> float:
    """Weighted R^2 of the fit <W_i, C_j> ~ m_ij over the ordered records (i, j) and (j, i):

        R^2 = 1 - sum f (<W_i, C_j> - m_ij)^2 / sum f (m_ij - mean_f m)^2

    vectors W: ``(V, d)`` aligned with the co-occurrence ids; ``context`` C defaults to W (shared
    model); weight: ``(U,)`` f per unordered record.
    """
    W = np.asarray(vectors, dtype=np.float64)
    C = W if context is None else np.asarray(context, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != cooccurrence.vocab_size or C.shape != W.shape:
        raise ValueError(f"vectors and context must be ({cooccurrence.vocab_size}, d), got {W.shape}, {C.shape}")
    if weight.shape != (len(cooccurrence),):
        raise ValueError(f"weight has shape {weight.shape}, expected ({len(cooccurrence)},)")
    i, j = cooccurrence.rows, cooccurrence.cols
    m = cooccurrence.pmi()
    residual = sum(weight @ (np.einsum("nd,nd->n", W[a], C[b]) - m) ** 2 for a, b in ((i, j), (j, i)))
    mean = np.average(m, weights=weight)
    return 1.0 - float(residual) / float(2 * weight @ (m - mean) ** 2)


def evaluation_summary(vectors: np.ndarray, words: Sequence[str], counts: np.ndarray, smallest: int = 30
                       ) -> dict[str, object]:
    """The figures of the quality table: analogy accuracy on unit (gensim) and raw (Su) vectors,
    WordSim-353 and SimLex-999 Spearman, Spearman(||v||, log count) and the smallest-norm words."""
    rho, small = norm_frequency(vectors, words, counts, smallest)
    rows, names = np.asarray(vectors)[1:], list(words)[1:]
    return {
        "analogy": analogy_accuracy(rows, names, normalize=True),
        "analogy_raw": analogy_accuracy(rows, names, normalize=False),
        "wordsim353": word_pair_similarity(rows, names, "wordsim353"),
        "simlex999": word_pair_similarity(rows, names, "simlex999"),
        "norm_log_count_spearman": rho,
        "smallest_norms": small,
    }


def plot_norm_frequency(vectors: np.ndarray, counts: np.ndarray, path: str, title: str = "") -> bool:
    """Scatter ||v_w|| against log count into the PNG ``path``; False when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    norms = np.linalg.norm(np.asarray(vectors, dtype=np.float64)[1:], axis=1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(np.log(np.asarray(counts)[1:]), norms, s=2, alpha=0.3)
    ax.set_xlabel("log count")
    ax.set_ylabel("||v||")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def _checked(vectors: np.ndarray, words: Sequence[str]) -> tuple[np.ndarray, dict[str, int]]:
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(words) or len(words) < 2:
        raise ValueError(f"vectors must be (V + 1, d) with V + 1 = len(words) = {len(words)}, got {vectors.shape}")
    return vectors, {w: i for i, w in enumerate(words) if i > 0}


def _row(index: dict[str, int], word: str) -> int:
    try:
        return index[word]
    except KeyError:
        raise KeyError(f"word {word!r} is not in the vocabulary") from None


def _top(scores: np.ndarray, words: Sequence[str], topn: int, exclude: Sequence[int]) -> Neighbours:
    topn = validation.positive_int("topn", topn)
    scores = np.array(scores, dtype=np.float64)
    scores[0] = -np.inf
    scores[list(exclude)] = -np.inf
    order = np.argsort(-scores, kind="stable")[:topn]
    return [(words[k], float(scores[k])) for k in order if np.isfinite(scores[k])]
