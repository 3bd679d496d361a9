"""WordVectors: layout with the padding row, neighbours, and the word2vec / GloVe file formats."""
import numpy as np
import pytest

from scratch.datasets import Vocab
from scratch.models.word_vectors import FORMATS, WordVectors, WordVectorsMixin


@pytest.fixture
def word_vectors(rng):
    words = [Vocab.UNKNOWN, "the", "king", "queen", "man", "woman", "café"]
    return WordVectors(rng.normal(size=(len(words), 5)).astype(np.float32), words)


def test_padding_row_is_neither_a_word_nor_a_neighbour(word_vectors):
    assert len(word_vectors) == 6
    assert Vocab.UNKNOWN not in word_vectors
    neighbours = [w for w, _ in word_vectors.most_similar("king", topn=10)]
    assert sorted(neighbours) == sorted(["the", "queen", "man", "woman", "café"])
    np.testing.assert_array_equal(word_vectors["queen"], word_vectors.vectors[3])


@pytest.mark.parametrize("format", FORMATS)
def test_save_load_round_trip(word_vectors, tmp_path, format):
    path = tmp_path / "vectors.txt"
    word_vectors.save(path, format)
    loaded = WordVectors.load(path, format)
    assert loaded.words == word_vectors.words
    np.testing.assert_array_equal(loaded.vectors[1:], word_vectors.vectors[1:])
    np.testing.assert_array_equal(loaded.vectors[0], 0)


@pytest.mark.parametrize("format", FORMATS)
def test_gensim_reads_our_files(word_vectors, tmp_path, format):
    models = pytest.importorskip("gensim.models")
    path = tmp_path / "vectors.bin"
    word_vectors.save(path, format)
    kv = models.KeyedVectors.load_word2vec_format(
        str(path), binary=format == "word2vec-binary", no_header=format == "glove")
    assert kv.index_to_key == word_vectors.words[1:]
    np.testing.assert_array_equal(kv.vectors, word_vectors.vectors[1:])
    assert [w for w, _ in kv.most_similar("king", topn=3)] == [w for w, _ in word_vectors.most_similar("king", 3)]


@pytest.mark.parametrize("binary", [False, True])
def test_we_read_gensim_files(word_vectors, tmp_path, binary):
    models = pytest.importorskip("gensim.models")
    kv = models.KeyedVectors(word_vectors.dim)
    kv.add_vectors(word_vectors.words[1:], word_vectors.vectors[1:])
    path = tmp_path / "vectors"
    kv.save_word2vec_format(str(path), binary=binary)
    loaded = WordVectors.load(path, "word2vec-binary" if binary else "word2vec")
    assert loaded.words[1:] == kv.index_to_key
    np.testing.assert_allclose(loaded.vectors[1:], kv.vectors, rtol=1e-6)


def test_mixin_exposes_the_model_vectors(word_vectors, tmp_path):
    class Model(WordVectorsMixin):
        vectors = word_vectors.vectors
        vocab = Vocab(word_vectors.words[1:], np.arange(6, 0, -1))

    model = Model()
    assert model.most_similar("man", 2) == word_vectors.most_similar("man", 2)
    model.save(tmp_path / "v.txt", "glove")
    np.testing.assert_array_equal(WordVectors.load(tmp_path / "v.txt", "glove").vectors[1:], word_vectors.vectors[1:])


def test_bad_input(word_vectors, tmp_path):
    with pytest.raises(ValueError, match="format must be one of .*'npy'"):
        word_vectors.save(tmp_path / "v", "npy")
    with pytest.raises(ValueError, match="format must be one of .*'npy'"):
        WordVectors.load(tmp_path / "v", "npy")
    with pytest.raises(ValueError, match="vectors must have shape"):
        WordVectors(np.zeros(3), ["<unk>", "a", "b"])
    with pytest.raises(TypeError, match="vectors must be a floating-point dtype"):
        WordVectors(np.zeros((3, 2), np.int64), ["<unk>", "a", "b"])
    for topn in (0, True, 2.0):
        with pytest.raises(ValueError, match="topn must be a positive integer"):
            word_vectors.most_similar("king", topn)
    with pytest.raises(ValueError, match="words has 2 entries"):
        WordVectors(np.zeros((3, 2)), ["<unk>", "a"])
    with pytest.raises(ValueError, match="contains whitespace"):
        WordVectors(np.zeros((2, 2)), ["<unk>", "a b"])
    with pytest.raises(KeyError, match="'nope'"):
        word_vectors.most_similar("nope")
    (tmp_path / "bad.txt").write_text("2 3\na 1 2 3\nb 1 2\n")
    with pytest.raises(ValueError, match="line 3"):
        WordVectors.load(tmp_path / "bad.txt")
    (tmp_path / "short.txt").write_text("3 3\na 1 2 3\nb 1 2 3\n")
    with pytest.raises(ValueError, match="header says"):
        WordVectors.load(tmp_path / "short.txt")
