"""Evaluation helpers: word analogies, word-pair similarity, nearest neighbours, perplexity, accuracy.

The word-vector functions take ``vectors (V, d)`` and ``words`` (a list of ``V`` strings, row-aligned,
in decreasing frequency so the first rows are the most frequent words) and follow gensim's protocol
(``KeyedVectors.evaluate_word_analogies`` / ``evaluate_word_pairs``), so their numbers can be compared
with published ones:

- cosine similarity: cos(u, v) = <u, v> / (|u| |v|); rows of zero norm stay zero;
- analogy "a : b :: c : ?" by 3CosAdd: argmax_w cos(w, b̂ + ĉ − â) over the first ``restrict_vocab``
  words, the query words a, b, c excluded (x̂ = x / |x|); case-insensitive; a question with any word
  outside the restricted vocabulary is skipped and counted in the coverage;
- word pairs: Spearman and Pearson correlation between human scores and cos(w1, w2) on the pairs
  whose both words are known; the rest are reported as OOV %;
- sentence classification: a sentence is the mean of the unit vectors of its known words, classified
  by an L2-regularised multinomial logistic regression, scored by stratified k-fold cross-validation.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np
from scipy import optimize, stats

from .datasets.evaluation import Analogies, load_analogies, load_word_pairs
from .validation import boolean, positive_int

_QUESTION_BATCH = 256


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows of ``vectors (V, d)`` scaled to unit L2 norm (zero rows stay zero), float64 ``(V, d)``."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _check_vectors(vectors: Any, words: Sequence[str]) -> np.ndarray:
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or not np.issubdtype(vectors.dtype, np.floating):
        raise ValueError(f"vectors must be a 2-D float array (V, d), got {vectors.dtype} {vectors.shape}")
    if len(words) != vectors.shape[0]:
        raise ValueError(f"words has {len(words)} entries but vectors has {vectors.shape[0]} rows")
    return vectors


def _lowercase_index(words: Sequence[str], limit: int | None = None) -> dict[str, int]:
    """Lower-cased word -> row among the first ``limit`` rows; the most frequent spelling wins (as gensim)."""
    rows = range(len(words) if limit is None else min(limit, len(words)))
    index: dict[str, int] = {}
    for row in rows:
        index.setdefault(words[row].lower(), row)
    return index


def most_similar(vectors: np.ndarray, words: Sequence[str], word: str, topn: int = 10) -> list[tuple[str, float]]:
    """The ``topn`` words of highest cosine similarity to ``word`` (the query itself excluded).

    vectors: ``(V, d)``; returns ``[(word, cosine), ...]`` in decreasing similarity.
    """
    vectors = _check_vectors(vectors, words)
    topn = positive_int("topn", topn)
    try:
        query = list(words).index(word)
    except ValueError:
        raise KeyError(f"word {word!r} is not in the vocabulary") from None
    unit = unit_rows(vectors)
    cosine = unit @ unit[query]
    cosine[query] = -np.inf
    best = np.argsort(-cosine, kind="stable")[:min(topn, len(words) - 1)]
    return [(words[i], float(cosine[i])) for i in best]


def analogy_accuracy(vectors: np.ndarray, words: Sequence[str], analogies: Analogies | str | PathLike | None = None,
                     restrict_vocab: int = 30000, normalize: bool = True) -> dict[str, Any]:
    """Accuracy on the Google analogy questions "a : b :: c : d" by 3CosAdd (gensim's protocol).

    The prediction is argmax over the first ``restrict_vocab`` rows w ∉ {a, b, c} of cos(w, q) with
    q = b̂ + ĉ − â (``normalize=True``, gensim) or q = b + c − a on the raw vectors
    (``normalize=False``, where vector norms carry meaning). Questions with a word outside the first
    ``restrict_vocab`` rows are skipped.

    Returns a dict: ``accuracy`` (correct / seen over all sections), ``semantic``, ``syntactic``,
    ``correct``, ``seen``, ``total`` (questions in the file), ``coverage`` (seen / total) and
    ``sections``, a dict section name -> ``{"correct", "seen", "total", "accuracy"}``. An accuracy
    with no question seen is NaN.
    """
    vectors = _check_vectors(vectors, words)
    restrict_vocab = positive_int("restrict_vocab", restrict_vocab)
    normalize = boolean("normalize", normalize)
    if not isinstance(analogies, Analogies):
        analogies = load_analogies(analogies)
    index = _lowercase_index(words, restrict_vocab)
    limit = min(restrict_vocab, len(words))
    candidates = unit_rows(vectors[:limit])
    queries = candidates if normalize else np.asarray(vectors[:limit], dtype=np.float64)

    sections = {}
    for section in analogies.sections:
        ids = np.array([[index[w] for w in q] for q in section.questions if all(w in index for w in q)],
                       dtype=np.int64).reshape(-1, 4)
        correct = sum(int(np.sum(_predict(candidates, queries, batch) == batch[:, 3]))
                      for batch in np.array_split(ids, max(1, math.ceil(len(ids) / _QUESTION_BATCH))))
        sections[section.name] = {"correct": correct, "seen": len(ids), "total": len(section.questions),
                                  "accuracy": _ratio(correct, len(ids))}

    def pooled(names: list[str]) -> tuple[int, int]:
        return sum(sections[n]["correct"] for n in names), sum(sections[n]["seen"] for n in names)

    correct, seen = pooled(list(sections))
    return {
        "accuracy": _ratio(correct, seen),
        "semantic": _ratio(*pooled([s.name for s in analogies.semantic])),
        "syntactic": _ratio(*pooled([s.name for s in analogies.syntactic])),
        "correct": correct, "seen": seen, "total": len(analogies), "coverage": _ratio(seen, len(analogies)),
        "sections": sections,
    }


def _predict(candidates: np.ndarray, queries: np.ndarray, abcd: np.ndarray) -> np.ndarray:
    """3CosAdd answers for question rows ``abcd (n, 4)``: argmax_w cos(w, b + c − a), w ∉ {a, b, c}."""
    if len(abcd) == 0:
        return np.empty(0, dtype=np.int64)
    a, b, c = abcd[:, 0], abcd[:, 1], abcd[:, 2]
    target = unit_rows(queries[b] + queries[c] - queries[a])
    scores = target @ candidates.T
    rows = np.arange(len(abcd))
    for excluded in (a, b, c):
        scores[rows, excluded] = -np.inf
    return np.argmax(scores, axis=1)


def word_pair_similarity(vectors: np.ndarray, words: Sequence[str],
                         pairs: str | PathLike = "wordsim353") -> dict[str, float]:
    """Correlation of cos(w1, w2) with human similarity scores (gensim's ``evaluate_word_pairs``).

    ``pairs``: ``"wordsim353"``, ``"simlex999"`` or the path of a ``word1<TAB>word2<TAB>score`` file.
    Returns ``spearman``, ``pearson`` (on the covered pairs, NaN when fewer than 2), ``covered``,
    ``pairs`` and ``oov_percent`` (100 · uncovered / pairs).
    """
    vectors = _check_vectors(vectors, words)
    word_pairs, gold = load_word_pairs(pairs)
    index = _lowercase_index(words)
    known = np.array([w1 in index and w2 in index for w1, w2 in word_pairs], dtype=bool)
    first = np.array([index[w1] for (w1, _), k in zip(word_pairs, known) if k], dtype=np.int64)
    second = np.array([index[w2] for (_, w2), k in zip(word_pairs, known) if k], dtype=np.int64)
    unit = unit_rows(vectors)
    cosine = np.sum(unit[first] * unit[second], axis=1)
    enough = known.sum() >= 2
    return {
        "spearman": float(stats.spearmanr(gold[known], cosine).statistic) if enough else math.nan,
        "pearson": float(stats.pearsonr(gold[known], cosine).statistic) if enough else math.nan,
        "covered": int(known.sum()),
        "pairs": len(word_pairs),
        "oov_percent": 100.0 * float(np.mean(~known)),
    }


def bits_per_token(mean_nll_nats: float) -> float:
    """Mean negative log-likelihood in nats -> bits per token: nll / ln 2."""
    return mean_nll_nats / math.log(2)


def perplexity(mean_nll_nats: float) -> float:
    """Mean negative log-likelihood in nats -> perplexity exp(nll)."""
    return math.exp(mean_nll_nats)


def accuracy(predictions: Any, targets: Any) -> float:
    """Fraction of ``predictions`` equal to ``targets`` (same shape, any integer labels)."""
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    if predictions.shape != targets.shape:
        raise ValueError(f"predictions has shape {predictions.shape} but targets has shape {targets.shape}")
    if predictions.size == 0:
        raise ValueError("predictions is empty")
    return float(np.mean(predictions == targets))


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def word_vector_scores(vectors: np.ndarray, words: Sequence[str], restrict_vocab: int = 30000,
                       normalize: bool = True) -> dict[str, float]:
    """The usual summary: analogy accuracy (overall, semantic, syntactic, coverage), WS353 and SimLex
    Spearman with their OOV %, as one flat dict of floats."""
    analogies = analogy_accuracy(vectors, words, restrict_vocab=restrict_vocab, normalize=normalize)
    scores = {"analogy": analogies["accuracy"], "analogy_semantic": analogies["semantic"],
              "analogy_syntactic": analogies["syntactic"], "analogy_seen": float(analogies["seen"]),
              "analogy_coverage": analogies["coverage"]}
    for name in ("wordsim353", "simlex999"):
        pairs = word_pair_similarity(vectors, words, name)
        scores[f"{name}_spearman"] = pairs["spearman"]
        scores[f"{name}_oov_percent"] = pairs["oov_percent"]
    return scores


def sentence_classification(vectors: np.ndarray, words: Sequence[str], sentences: Sequence[Sequence[str]],
                            labels: Any, *, folds: int = 10, l2: float = 1.0, seed: int = 0) -> dict[str, float]:
    """Cross-validated accuracy of a logistic regression on sentence vectors.

    A sentence's vector is the mean of x̂ = x / |x| over its words found in ``words`` (case-insensitive;
    zero when none is). The sentences of each class are shuffled with ``seed`` and dealt round-robin
    into ``folds`` folds; each fold is scored by a model fitted on the others, on features standardised
    with the training folds' mean and deviation: softmax regression, loss mean cross-entropy +
    ``l2``/(2n) |W|² (bias not penalised), minimised by L-BFGS. Returns ``accuracy`` (all held-out
    predictions), ``fold_spread`` (standard deviation of the folds' accuracies), ``coverage`` (known
    tokens / tokens) and ``empty`` (sentences with no known word).
    """
    unit = unit_rows(_check_vectors(vectors, words))
    index = _lowercase_index(words)
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (len(sentences),) or len(sentences) == 0:
        raise ValueError(f"labels must hold one class per sentence, got shape {labels.shape} for {len(sentences)}")
    folds = positive_int("folds", folds)
    features = np.zeros((len(sentences), unit.shape[1]))
    known = total = empty = 0
    for row, sentence in enumerate(sentences):
        ids = [index[w.lower()] for w in sentence if w.lower() in index]
        known, total = known + len(ids), total + len(sentence)
        if ids:
            features[row] = unit[ids].mean(axis=0)
        else:
            empty += 1
    fold_of = np.empty(len(labels), dtype=np.int64)
    rng = np.random.default_rng(seed)
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        fold_of[members] = np.arange(members.size) % folds
    correct, fold_accuracies = 0, []
    for f in range(folds):
        test = fold_of == f
        if not test.any():
            continue
        mean, std = features[~test].mean(axis=0), features[~test].std(axis=0) + 1e-12
        model = _fit_softmax_regression((features[~test] - mean) / std, labels[~test], labels.max() + 1, l2)
        predicted = _softmax_regression_logits((features[test] - mean) / std, model).argmax(axis=1)
        correct += int((predicted == labels[test]).sum())
        fold_accuracies.append(float((predicted == labels[test]).mean()))
    return {"accuracy": correct / len(labels), "fold_spread": float(np.std(fold_accuracies)),
            "coverage": _ratio(known, total), "empty": empty}


def _softmax_regression_logits(x: np.ndarray, params: np.ndarray) -> np.ndarray:
    weights, bias = params[:-1], params[-1]
    return x @ weights + bias


def _fit_softmax_regression(x: np.ndarray, y: np.ndarray, classes: int, l2: float) -> np.ndarray:
    """Parameters (d + 1, classes), the last row the bias, of the regression of the docstring above."""
    n, d = x.shape
    onehot = np.eye(classes)[y]

    def loss_and_grad(flat):
        params = flat.reshape(d + 1, classes)
        logits = _softmax_regression_logits(x, params)
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        residual = (np.exp(log_p) - onehot) / n
        grad = np.vstack([x.T @ residual + l2 / n * params[:-1], residual.sum(axis=0)])
        loss = -(onehot * log_p).sum() / n + l2 / (2 * n) * (params[:-1] ** 2).sum()
        return loss, grad.ravel()

    result = optimize.minimize(loss_and_grad, np.zeros((d + 1) * classes), jac=True, method="L-BFGS-B")
    return result.x.reshape(d + 1, classes)
