"""Tokenizer, vocabulary, corpus streaming and subsampling, on small text made here and on the shipped corpus."""
import gzip
import math

import numpy as np
import pytest

from scratch.datasets import (TokenChunk, Vocab, iter_lines, iter_token_chunks, load_corpus, subsample_keep_probs,
                              tokenize)

TEXT = "The cat sat.\nThe dog sat!\n\nA cat, the dog and THE bird don't.\n"


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "tiny.txt.gz"
    path.write_bytes(gzip.compress(TEXT.encode("utf-8")))
    return path


def test_tokenize_lowercases_and_keeps_inner_apostrophes():
    assert tokenize("Don't stop: anti-war 3.5 workers' O\u2019Neil café_2") == [
        "don't", "stop", "anti", "war", "3", "5", "workers", "o'neil", "café", "2"]


def test_iter_lines_reads_plain_and_gzip(tmp_path, corpus):
    plain = tmp_path / "tiny.txt"
    plain.write_text(TEXT, encoding="utf-8")
    assert list(iter_lines(plain)) == list(iter_lines(corpus)) == TEXT.split("\n")[:-1]


def test_vocab_orders_by_count_then_alphabet_and_reserves_id_0(corpus):
    vocab = Vocab.from_corpus(corpus, min_count=2)
    # counts: the 4, cat 2, dog 2, sat 2; a, and, bird, don't 1
    assert vocab.words == ["<unk>", "the", "cat", "dog", "sat"]
    assert vocab.counts.dtype == np.int64
    assert vocab.counts.tolist() == [0, 4, 2, 2, 2]
    assert len(vocab) == 5
    assert vocab["dog"] == 3 and vocab.index("dog") == 3
    assert "cat" in vocab and "bird" not in vocab and Vocab.UNKNOWN not in vocab


def test_unknown_words_encode_to_0_and_getitem_raises(corpus):
    vocab = Vocab.from_corpus(corpus, min_count=2)
    ids = vocab.encode(["the", "bird", "sat"])
    assert ids.dtype == np.int32 and ids.tolist() == [1, 0, 4]
    assert vocab.index("bird") == 0
    with pytest.raises(KeyError, match="'bird' is not in the vocabulary"):
        vocab["bird"]


def test_vocab_save_load_round_trip(tmp_path, corpus):
    vocab = Vocab.from_corpus(corpus, min_count=1)
    vocab.save(tmp_path / "vocab.txt")
    assert (tmp_path / "vocab.txt").read_text().splitlines()[:2] == ["the 4", "cat 2"]
    loaded = Vocab.load(tmp_path / "vocab.txt")
    assert loaded.words == vocab.words
    np.testing.assert_array_equal(loaded.counts, vocab.counts)


def test_streaming_in_small_chunks_equals_reading_whole(corpus):
    vocab = Vocab.from_corpus(corpus, min_count=2)
    whole = [vocab.encode(tokenize(line)) for line in iter_lines(corpus) if tokenize(line)]
    for chunk_tokens in (1, 3, 7, 1000):
        chunks = list(iter_token_chunks(corpus, vocab, chunk_tokens))
        assert all(isinstance(c, TokenChunk) and c.ids.dtype == np.int32 and c.offsets.dtype == np.int64
                   for c in chunks)
        lines = [c.ids[a:b] for c in chunks for a, b in zip(c.offsets[:-1], c.offsets[1:])]
        assert [line.tolist() for line in lines] == [line.tolist() for line in whole]
    assert len(list(iter_token_chunks(corpus, vocab, 1000))) == 1


def test_streaming_can_drop_unknown_words(corpus):
    vocab = Vocab.from_corpus(corpus, min_count=2)
    (chunk,) = iter_token_chunks(corpus, vocab, 1000, drop_unknown=True)
    assert chunk.ids.tolist() == [1, 2, 4, 1, 3, 4, 2, 1, 3, 1]
    assert chunk.offsets.tolist() == [0, 3, 6, 10]


def test_subsample_keep_probs_is_the_word2vec_c_formula():
    counts = np.array([0, 5000, 300, 20, 1], dtype=np.int64)
    total, t = counts.sum(), 1e-3
    expected = [1.0] + [min(1.0, (math.sqrt(c / (t * total)) + 1) * (t * total) / c) for c in counts[1:]]
    np.testing.assert_allclose(subsample_keep_probs(counts, t), expected, rtol=1e-12)
    assert subsample_keep_probs(counts, t)[1] < 1.0
    np.testing.assert_allclose(subsample_keep_probs(counts, t, total=10 * total)[1],
                               min(1.0, (math.sqrt(5000 / (t * 10 * total)) + 1) * (t * 10 * total) / 5000))


def test_default_corpus_is_large_enough():
    vocab = Vocab.from_corpus(load_corpus(), min_count=5)
    n_tokens = sum(len(tokenize(line)) for line in iter_lines(load_corpus()))
    assert n_tokens >= 1_400_000
    assert len(vocab) - 1 >= 14_000


def test_shipped_corpora_load_by_name():
    assert load_corpus().name == "english.txt.gz"
    lee = Vocab.from_corpus(load_corpus("lee"), min_count=5)
    assert 1_500 < len(lee) < 2_500


def test_bad_inputs_raise_naming_the_file_or_argument(tmp_path, corpus):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        Vocab.from_corpus(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n... !\n")
    with pytest.raises(ValueError, match="corpus .*empty.txt is empty"):
        Vocab.from_corpus(empty)
    with pytest.raises(ValueError, match="min_count=50"):
        Vocab.from_corpus(corpus, min_count=50)
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="min_count"):
            Vocab.from_corpus(corpus, min_count=bad)
    with pytest.raises(ValueError, match="chunk_tokens"):
        next(iter_token_chunks(corpus, Vocab.from_corpus(corpus, 1), 0))
    with pytest.raises(ValueError, match="threshold"):
        subsample_keep_probs(np.array([1, 2]), threshold=0.0)
    with pytest.raises(ValueError, match="counts"):
        subsample_keep_probs(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="unknown corpus name 'text9'"):
        load_corpus("text9")
    with pytest.raises(ValueError, match="whitespace"):
        Vocab(["two words"], [3])
    with pytest.raises(ValueError, match="duplicates"):
        Vocab(["a", "a"], [3, 2])
    bad_vocab = tmp_path / "vocab.txt"
    bad_vocab.write_text("the 4\ncat\n")
    with pytest.raises(ValueError, match="vocab.txt, line 2"):
        Vocab.load(bad_vocab)


def test_bools_and_non_finite_floats_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="min_count must be a positive integer, got True"):
        Vocab.from_counts({"a": 3}, min_count=True)
    vocab = Vocab(["<unk>", "a"], [0, 3])
    path = tmp_path / "corpus.txt"
    path.write_text("a a a\n")
    with pytest.raises(ValueError, match="chunk_tokens must be a positive integer, got True"):
        next(iter_token_chunks(path, vocab, True))
    with pytest.raises(ValueError, match="drop_unknown must be True or False, got 1"):
        next(iter_token_chunks(path, vocab, drop_unknown=1))
    with pytest.raises(ValueError, match="threshold must be a finite real number, got inf"):
        subsample_keep_probs(np.array([0, 3]), threshold=float("inf"))
    with pytest.raises(ValueError, match="total must be a positive integer, got True"):
        subsample_keep_probs(np.array([0, 3]), total=True)
