"""Co-occurrence counting against a naive dictionary count, chunked merging, totals, records, bad input."""
import math
from collections import defaultdict
from fractions import Fraction

import numpy as np
import pytest

from scratch.datasets import TokenChunk, Vocab
from scratch.datasets.cooccurrence import (Cooccurrence, chunk_tokens_for, corpus_cooccurrences, count_corpus,
                                           count_cooccurrences, ordered_records, _count_pairs, _dense_layout)


def random_lines(rng, n_lines=40, size=12, max_len=15):
    """Lines of ids in [0, size) (0 = unknown), Zipf-like so that pairs repeat."""
    weights = 1.0 / np.arange(1, size + 1)
    return [rng.choice(size, size=rng.integers(0, max_len), p=weights / weights.sum()).astype(np.int32)
            for _ in range(n_lines)]


def chunks_of(lines, per_chunk):
    """Pack lines into TokenChunks of ``per_chunk`` lines each."""
    for start in range(0, len(lines), per_chunk):
        group = lines[start:start + per_chunk]
        offsets = np.zeros(len(group) + 1, dtype=np.int64)
        np.cumsum([line.size for line in group], out=offsets[1:])
        yield TokenChunk(np.concatenate(group), offsets)


def naive_counts(lines, window, weighting):
    """X as a dict {(i, j): x} over ordered pairs, diagonal included, by the definition."""
    counts = defaultdict(float)
    for line in lines:
        for k, i in enumerate(line):
            for d in range(1, window + 1):
                if k + d >= len(line):
                    break
                j = line[k + d]
                if i == 0 or j == 0:
                    continue
                w = 1.0 / d if weighting == "harmonic" else 1.0
                counts[int(i), int(j)] += w
                counts[int(j), int(i)] += w
    return counts


@pytest.mark.parametrize("weighting", ["harmonic", "uniform"])
@pytest.mark.parametrize("window", [1, 3, 10])
@pytest.mark.parametrize("memory", [1.0, 4e-7, 1e-9])  # all pairs in the dense table, some, none
def test_counts_equal_the_naive_count(rng, weighting, window, memory):
    lines = random_lines(rng)
    unigram = np.bincount(np.concatenate(lines), minlength=12)
    cooc = count_cooccurrences(chunks_of(lines, 7), unigram, window, weighting, memory)
    expected = np.zeros((12, 12))
    for (i, j), x in naive_counts(lines, window, weighting).items():
        expected[i, j] = x
    # the diagonal pair (i, i) was added twice above, once per direction, but is one co-occurrence
    expected[np.diag_indices(12)] /= 2
    np.testing.assert_allclose(cooc.to_dense(), expected, rtol=1e-12)
    assert np.all(cooc.rows < cooc.cols) and np.all(cooc.counts > 0)
    keys = cooc.rows.astype(np.int64) * 12 + cooc.cols
    assert np.all(np.diff(keys) > 0), "records must be unique and sorted by (i, j)"
    assert cooc.rows.dtype == cooc.cols.dtype == np.int32 and cooc.counts.dtype == np.float64


def test_harmonic_counts_are_the_exact_sums_correctly_rounded_for_any_chunking_and_memory(rng):
    lines = random_lines(rng, n_lines=120, size=9, max_len=40)
    unigram = np.bincount(np.concatenate(lines), minlength=9)
    exact = defaultdict(Fraction)
    for line in lines:
        for k in range(len(line)):
            for d in range(1, min(7, len(line) - 1 - k) + 1):
                i, j = sorted((int(line[k]), int(line[k + d])))
                if i != 0:
                    exact[i, j] += Fraction(1, d)
    for per_chunk, memory in ((120, 1.0), (1, 1.0), (5, 4e-7), (3, 1e-9)):
        cooc = count_cooccurrences(chunks_of(lines, per_chunk), unigram, 7, "harmonic", memory)
        assert cooc.counts.tolist() == [float(exact[i, j]) for i, j in zip(cooc.rows.tolist(), cooc.cols.tolist())]
        assert cooc.diagonal[1:].tolist() == [float(exact[i, i]) for i in range(1, 9)]


def test_the_compiled_pair_loop_equals_its_python_source(rng):
    lines = random_lines(rng, n_lines=30)
    (chunk,) = chunks_of(lines, 30)
    weights = 2520 / np.arange(1, 11)
    row_start, row_last = _dense_layout(12, 20)
    results = []
    for loop in (_count_pairs, _count_pairs.py_func):
        dense, diagonal, overflow = np.zeros(row_start[-1]), np.zeros(12), np.zeros(chunk.ids.size * 10, np.int64)
        written = loop(chunk.ids, chunk.offsets, 12, weights, row_start, row_last, dense, diagonal, overflow)
        results.append((dense, diagonal, np.sort(overflow[:written])))
    for compiled, python in zip(*results):
        np.testing.assert_array_equal(compiled, python)
    assert 0 < row_start[-1] <= 20 and results[0][2].size > 0  # both the table and the overflow are used


def test_lines_are_boundaries():
    lines = [np.array([1, 2], np.int32), np.array([3, 4], np.int32)]
    cooc = count_cooccurrences(chunks_of(lines, 2), np.ones(5, np.int64), window=5)
    assert list(zip(cooc.rows.tolist(), cooc.cols.tolist())) == [(1, 2), (3, 4)]


def test_small_memory_merges_many_chunks_to_the_same_counts(rng):
    lines = random_lines(rng, n_lines=200)
    unigram = np.bincount(np.concatenate(lines), minlength=12)
    whole = count_cooccurrences(chunks_of(lines, 200), unigram, 4)
    # a budget of a few bytes merges after every chunk
    merged = count_cooccurrences(chunks_of(lines, 3), unigram, 4, memory=1e-9)
    for name in ("rows", "cols"):
        np.testing.assert_array_equal(getattr(merged, name), getattr(whole, name))
    np.testing.assert_allclose(merged.counts, whole.counts, rtol=1e-12)
    np.testing.assert_allclose(merged.diagonal, whole.diagonal, rtol=1e-12)


def test_totals_and_pmi_follow_the_spec(rng):
    lines = random_lines(rng)
    unigram = np.bincount(np.concatenate(lines), minlength=12)
    unigram[0] = 0
    cooc = count_cooccurrences(chunks_of(lines, 40), unigram, 5, "uniform")
    dense = cooc.to_dense()
    off_diagonal = dense.sum() - np.trace(dense)
    assert cooc.total == pytest.approx(off_diagonal, rel=1e-12)
    assert cooc.tokens == unigram.sum()
    i, j = cooc.rows, cooc.cols
    expected = np.log((dense[i, j] / off_diagonal) / ((unigram[i] / unigram.sum()) * (unigram[j] / unigram.sum())))
    np.testing.assert_allclose(cooc.pmi(), expected, rtol=1e-10, atol=1e-12)


def test_corpus_file_skips_unknown_words_without_a_window_position(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("a rare b\nb a\n", encoding="utf-8")
    vocab = Vocab.from_counts({"a": 2, "b": 2, "rare": 1}, min_count=2)
    cooc = corpus_cooccurrences(path, vocab, window=1, weighting="uniform")
    a, b = vocab["a"], vocab["b"]
    # "rare" is dropped, so a and b are adjacent on line 1, and again on line 2
    assert cooc.to_dense()[a, b] == 2.0
    np.testing.assert_array_equal(cooc.unigram, vocab.counts)


def test_ordered_records_hold_both_directions_shuffled(rng):
    lines = random_lines(rng)
    unigram = np.bincount(np.concatenate(lines), minlength=12)
    cooc = count_cooccurrences(chunks_of(lines, 40), unigram, 3)
    rows, cols, x = ordered_records(cooc, cooc.counts, np.random.default_rng(1))
    assert rows.size == cols.size == x.size == 2 * len(cooc)
    dense = np.zeros((12, 12))
    np.add.at(dense, (rows, cols), x)
    off = cooc.to_dense()
    off[np.diag_indices(12)] = 0
    np.testing.assert_array_equal(dense, off)
    in_order = ordered_records(cooc, cooc.counts)
    assert not np.array_equal(rows, in_order[0])


def test_chunk_size_follows_the_memory_budget():
    assert chunk_tokens_for(1.0, 10) > chunk_tokens_for(0.1, 10) > chunk_tokens_for(0.1, 20)


@pytest.mark.parametrize("kwargs, message", [
    ({"window": 0}, "window"),
    ({"window": 2.5}, "window"),
    ({"window": True}, "window"),
    ({"weighting": True}, "weighting"),
    ({"memory": np.inf}, "memory"),
    ({"memory": np.nan}, "memory"),
    ({"weighting": "linear"}, "weighting"),
    ({"memory": 0}, "memory"),
    ({"unigram": np.ones((3, 3), np.int64)}, "unigram"),
    ({"unigram": np.ones(5)}, "unigram"),
])
def test_bad_arguments_raise(kwargs, message):
    args = {"chunks": chunks_of([np.array([1, 2, 3], np.int32)], 1), "unigram": np.ones(5, np.int64),
            "window": 2, "weighting": "harmonic"} | kwargs
    with pytest.raises(ValueError, match=message):
        count_cooccurrences(**args)


def test_ids_out_of_range_and_corpora_without_pairs_raise():
    with pytest.raises(ValueError, match="token ids"):
        count_cooccurrences(chunks_of([np.array([1, 7], np.int32)], 1), np.ones(5, np.int64))
    with pytest.raises(ValueError, match="no pair"):
        count_cooccurrences(chunks_of([np.array([1], np.int32), np.array([2], np.int32)], 1), np.ones(5, np.int64))
    with pytest.raises(ValueError, match="values"):
        cooc = Cooccurrence(np.array([1], np.int32), np.array([2], np.int32), np.ones(1), np.zeros(3),
                            np.ones(3, np.int64), 1, "uniform")
        ordered_records(cooc, np.ones(2))


def test_pmi_of_a_corpus_of_one_repeated_pair():
    # two words, each line "1 2": X_12 = X_21 = lines, T = 2 lines, n = (lines, lines), N = 2 lines
    lines = [np.array([1, 2], np.int32)] * 10
    cooc = count_cooccurrences(chunks_of(lines, 10), np.array([0, 10, 10]), 1)
    # P(1, 2) = 1/2 and P(1) P(2) = 1/4, so m = log 2
    assert cooc.pmi() == pytest.approx([math.log(2.0)])


@pytest.mark.parametrize("memory", [1.0, 1e-6])
def test_one_pass_count_equals_vocab_then_count(tmp_path, rng, memory):
    """count_corpus == Vocab.from_corpus + corpus_cooccurrences; a tiny memory spills ids to disk."""
    words = [f"w{k}" for k in range(30)]
    weights = 1.0 / np.arange(1, 31)
    lines = [" ".join(rng.choice(words, size=rng.integers(0, 12), p=weights / weights.sum())) for _ in range(300)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    vocab, cooc = count_corpus(path, min_count=4, window=3, memory=memory)
    expected_vocab = Vocab.from_corpus(path, min_count=4)
    expected = corpus_cooccurrences(path, expected_vocab, window=3)
    assert vocab.words == expected_vocab.words
    np.testing.assert_array_equal(vocab.counts, expected_vocab.counts)
    np.testing.assert_array_equal(cooc.rows, expected.rows)
    np.testing.assert_array_equal(cooc.cols, expected.cols)
    np.testing.assert_allclose(cooc.counts, expected.counts, rtol=1e-12)
    np.testing.assert_allclose(cooc.diagonal, expected.diagonal, rtol=1e-12)


def test_one_pass_count_of_an_empty_corpus_raises(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n...\n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        count_corpus(path)


@pytest.mark.parametrize("kwargs, message", [
    ({"min_count": True}, "min_count"),
    ({"window": True}, "window"),
    ({"memory": np.inf}, "memory"),
])
def test_one_pass_count_checks_its_arguments_before_reading(tmp_path, kwargs, message):
    path = tmp_path / "corpus.txt"
    path.write_text("a b a b\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"^{message} must be"):
        count_corpus(path, **kwargs)
