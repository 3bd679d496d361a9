"""The token cache: tokenized once, read back as exactly the chunks and vocabulary of the text readers;
never read for other text; training from it equals training from the text."""
import gzip
import json

import numpy as np
import pytest

from scratch.datasets import tokens
from scratch.datasets.cooccurrence import corpus_cooccurrences, count_corpus
from scratch.datasets.text import Vocab, iter_token_chunks, tokenize
from scratch.datasets.tokens import TokenCache, corpus_tokens
from scratch.models.glove import SimplerGloVe
from scratch.models.word2vec import Word2Vec

# Empty lines, lines of unknown words only, a long line, apostrophes (’ too), case, CRLF line ends,
# the Greek final sigma, no final line break.
TRICKY = ("The cat sat.\r\nThe dog sat!\n\n  \nA cat, the dog and THE bird don\u2019t.\nzebra yak\n"
          + "the cat " * 40 + "\nΟΔΟΣ ΟΔΟΣ οδος the\n'quoted' workers' o'clock the cat\nthe dog")


def random_corpus(rng, lines=300):
    words = [f"w{i}" for i in range(60)]
    probs = 1.0 / np.arange(1, 61)
    out = []
    for _ in range(lines):
        n = int(rng.integers(0, 30))
        out.append(" ".join(rng.choice(words, size=n, p=probs / probs.sum())))
    return "\n".join(out) + "\n"


@pytest.fixture
def tricky(tmp_path):
    path = tmp_path / "tricky.txt"
    path.write_bytes(TRICKY.encode("utf-8"))
    return path


def assert_same_chunks(cached, streamed):
    cached, streamed = list(cached), list(streamed)
    assert len(cached) == len(streamed)
    for a, b in zip(cached, streamed):
        assert a.ids.dtype == b.ids.dtype == np.int32 and a.offsets.dtype == b.offsets.dtype == np.int64
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.offsets, b.offsets)


@pytest.mark.parametrize("id_block", [7, 1 << 22])
def test_chunks_and_vocabulary_equal_the_text_readers(tmp_path, tricky, rng, monkeypatch, id_block):
    """Every chunk size, with and without unknown words, blocks of the memory map smaller than a line."""
    monkeypatch.setattr(tokens, "_ID_BLOCK", id_block)
    big = tmp_path / "big.txt.gz"
    big.write_bytes(gzip.compress(random_corpus(rng).encode()))
    for path in (tricky, big):
        cache = TokenCache.open(path, folder=tmp_path / "cache")
        for min_count in (1, 2, 5):
            vocab = Vocab.from_corpus(path, min_count)
            assert cache.vocab(min_count).words == vocab.words
            np.testing.assert_array_equal(cache.vocab(min_count).counts, vocab.counts)
            for chunk_tokens in (1, 2, 5, 37, 200, 10_000):
                for drop in (False, True):
                    assert_same_chunks(cache.chunks(vocab, chunk_tokens, drop_unknown=drop),
                                       iter_token_chunks(path, vocab, chunk_tokens, drop_unknown=drop))


def test_tokens_are_those_of_tokenize_line_by_line(tricky, tmp_path, monkeypatch):
    """Text blocks cut mid-line (a tiny read size) give the tokens of ``tokenize`` per line."""
    monkeypatch.setattr(tokens, "_TEXT_BLOCK", 5)
    cache = TokenCache.open(tricky, folder=tmp_path)
    lines = [tokenize(line) for line in tricky.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    read = [[cache.words[i] for i in cache.ids[a:b]] for a, b in zip(cache.lines[:-1], cache.lines[1:])]
    assert read == lines


def test_a_second_open_reads_the_cache_without_tokenizing(tricky, tmp_path, monkeypatch):
    first = TokenCache.open(tricky, folder=tmp_path)
    monkeypatch.setattr(TokenCache, "build", lambda *a: pytest.fail("tokenized again"))
    again = TokenCache.open(tricky, folder=tmp_path)
    assert again.folder == first.folder and again.words == first.words
    np.testing.assert_array_equal(again.ids, first.ids)
    np.testing.assert_array_equal(again.lines, first.lines)


def test_a_changed_corpus_or_another_encoding_is_tokenized_afresh(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("the cat sat\nthe dog sat\n", encoding="utf-8")
    before = TokenCache.open(path, folder=tmp_path / "cache")
    path.write_text("the cow sat\nthe dog sat\n", encoding="utf-8")  # same size
    after = TokenCache.open(path, folder=tmp_path / "cache")
    assert after.folder != before.folder
    assert "cow" in after.vocab(1) and "cat" not in after.vocab(1)
    latin = TokenCache.open(path, encoding="latin-1", folder=tmp_path / "cache")
    assert latin.folder not in (before.folder, after.folder)
    assert json.loads((after.folder / "key.json").read_text())["sha256"] != before.key["sha256"]


def test_an_interrupted_build_is_not_read_and_a_damaged_cache_raises(tricky, tmp_path):
    cache = TokenCache.open(tricky, folder=tmp_path)
    (cache.folder / "key.json").unlink()  # as if the build stopped before its last file
    rebuilt = TokenCache.open(tricky, folder=tmp_path)
    assert rebuilt.ids.size == cache.ids.size
    with open(rebuilt.folder / "ids.bin", "ab") as f:
        f.write(b"\0\0\0\0")
    with pytest.raises(ValueError, match="damaged"):
        TokenCache.open(tricky, folder=tmp_path)


def test_bad_bytes_name_the_file_and_line_and_empty_corpora_raise(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine line\nbad \xff byte\n")
    with pytest.raises(UnicodeDecodeError, match=r"line 2"):
        TokenCache.open(bad, folder=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # nothing half-made is left
    empty = tmp_path / "empty.txt"
    empty.write_text("\n ... \n", encoding="utf-8")
    with corpus_tokens(empty) as cache, pytest.raises(ValueError, match="empty"):
        cache.vocab(1)


def test_word2vec_trains_the_same_from_the_cache_as_from_the_text(tmp_path, rng):
    path = tmp_path / "corpus.txt"
    lines = random_corpus(rng, lines=400).splitlines()
    for i in range(0, 400, 7):  # words seen once, below min_count: dropped before windowing, as word2vec.c does
        lines[i] = f"once{i} {lines[i]} twice{i}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = dict(dim=8, negative=4, epochs=2, min_count=3, sg=True, shrink_window=True, subsample="both",
                    sample=0.01, chunk_tokens=500, seed=5)
    text = Word2Vec(**settings).build(Vocab.from_corpus(path, 3))
    text.fit_chunks(lambda: iter_token_chunks(path, text.vocab, 500, drop_unknown=True))
    first = Word2Vec(**settings).fit(path, token_cache=tmp_path / "cache")
    second = Word2Vec(**settings).fit(path, token_cache=tmp_path / "cache")  # reads the cache
    temporary = Word2Vec(**settings).fit(path)
    assert len(list((tmp_path / "cache").iterdir())) == 1
    assert "once0" not in text.vocab.words
    for model in (first, second, temporary):
        assert model.vocab.words == text.vocab.words
        np.testing.assert_array_equal(model.vectors, text.vectors)
        assert model.history == text.history
    other = Word2Vec(**(settings | {"min_count": 8})).fit(path, token_cache=tmp_path / "cache")
    assert other.vocab.words == Vocab.from_corpus(path, 8).words


def test_glove_counts_and_trains_the_same_from_the_cache_as_from_the_text(tmp_path, rng):
    path = tmp_path / "corpus.txt"
    path.write_text(random_corpus(rng, lines=200), encoding="utf-8")
    vocab = Vocab.from_corpus(path, 2)
    expected = corpus_cooccurrences(path, vocab, window=4, weighting="uniform")
    for run in range(2):
        counted_vocab, counted = count_corpus(path, 2, 4, "uniform", token_cache=tmp_path / "cache")
        assert counted_vocab.words == vocab.words
        for name in ("rows", "cols", "counts", "diagonal", "unigram"):
            np.testing.assert_array_equal(getattr(counted, name), getattr(expected, name))
    settings = dict(dim=4, window=4, min_count=2, epochs=2, seed=1)
    direct = SimplerGloVe(**settings).fit_cooccurrence(expected, vocab)
    cached = SimplerGloVe(**settings).fit(path, token_cache=tmp_path / "cache")
    np.testing.assert_array_equal(cached.vectors, direct.vectors)
    assert cached.costs == direct.costs
