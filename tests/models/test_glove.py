"""GloVe and SimplerGloVe models and the simpler-GloVe analysis: the planted-PMI recovery test,
training smoke tests, seeds, resuming, output variants, file formats, analysis identities, bad input."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

from scratch.datasets.cooccurrence import Cooccurrence
from scratch.datasets.text import Vocab
from scratch.models.glove import analysis
from scratch.models.glove import GloVe, SimplerGloVe
from scratch.models.word_vectors import WordVectors

TEXT = """the cat sat on the mat and the dog sat on the rug
a cat and a dog ran in the park while the bird sang
the king and the queen ruled the land with the prince
the queen spoke to the king about the prince and the land
the dog chased the cat around the mat in the park
""" * 6


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def planted_pmi(rng, size=30, dim=3):
    """Counts whose PMI m_ij equals a rank-``dim`` Gram matrix G off the diagonal.

    X_ij = s exp(G_ij) n_i n_j gives m_ij = G_ij + log(N^2 / sum_{i != j} exp(G_ij) n_i n_j); G = t G_0
    with t chosen (by root finding) so that this constant is 0.
    """
    u = rng.normal(0, 1, (size, dim))
    n = rng.integers(50, 1000, size).astype(np.int64)
    i, j = np.triu_indices(size, 1)
    gram0 = u @ u.T
    t = brentq(lambda t: 2 * np.sum(n[i] * n[j] * np.exp(t * gram0[i, j])) - float(n.sum()) ** 2, 0, 10)
    gram = t * gram0
    counts = 1e6 * np.exp(gram[i, j]) * n[i] * n[j] / float(n.sum()) ** 2
    cooc = Cooccurrence((i + 1).astype(np.int32), (j + 1).astype(np.int32), counts, np.zeros(size + 1),
                        np.r_[0, n], 1, "uniform")
    return cooc, Vocab([f"w{k}" for k in range(size)], n), gram


def test_planted_rank_d_pmi_is_recovered(rng):
    cooc, vocab, gram = planted_pmi(rng)
    i, j = np.triu_indices(gram.shape[0], 1)
    np.testing.assert_allclose(cooc.pmi(), gram[i, j], atol=1e-12)
    # x_max at the smallest count: every weight is 1
    model = SimplerGloVe(dim=3, epochs=200, x_max=float(cooc.counts.min())).fit_cooccurrence(cooc, vocab)
    W = model.params.W[1:]
    np.testing.assert_allclose((W @ W.T)[i, j], gram[i, j], atol=1e-8)
    weight = np.ones(len(cooc))
    assert analysis.pmi_fit_r2(model.params.W, cooc, weight) == pytest.approx(1.0, abs=1e-12)


def test_simpler_glove_trains_and_a_seed_reproduces_it(corpus):
    first = SimplerGloVe(dim=8, window=3, min_count=2, epochs=15, seed=3, x_max=5.0).fit(corpus)
    again = SimplerGloVe(dim=8, window=3, min_count=2, epochs=15, seed=3, x_max=5.0).fit(corpus)
    other = SimplerGloVe(dim=8, window=3, min_count=2, epochs=15, seed=4, x_max=5.0).fit(corpus)
    assert first.costs[-1] < 0.05 * first.costs[0]
    np.testing.assert_array_equal(first.vectors, again.vectors)
    assert not np.array_equal(first.vectors, other.vectors)
    assert first.vectors.shape == (len(first.vocab), 8) and first.vectors.dtype == np.float32
    assert np.all(first.vectors[0] == 0)
    assert len(first.most_similar("cat", topn=3)) == 3


def test_classic_glove_trains_with_both_adagrad_orders(corpus):
    for order, eta in (("stanford", 0.05), ("su", 0.1)):
        model = GloVe(dim=8, window=3, min_count=2, epochs=15, adagrad=order, eta=eta).fit(corpus)
        assert model.costs[-1] < 0.5 * model.costs[0], order
        np.testing.assert_allclose(model.vectors[1:], (model.params.W + model.params.C)[1:], rtol=1e-6)
    word_only = GloVe(dim=8, window=3, min_count=2, epochs=2, output="word").fit(corpus)
    np.testing.assert_allclose(word_only.vectors[1:], word_only.params.W[1:], rtol=1e-6)


def test_simpler_glove_model_variants(corpus):
    shapes = {}
    for variant in SimplerGloVe.MODELS:
        model = SimplerGloVe(dim=6, window=3, min_count=2, epochs=3, model=variant).fit(corpus)
        shapes[variant] = model.vectors.shape[1]
        assert (model.params.C is model.params.W) == (variant == "shared")
    assert shapes == {"shared": 6, "concat": 12, "sum": 6}


def test_truncation_switch_changes_the_weights(corpus):
    truncated = SimplerGloVe(dim=4, window=3, min_count=2, epochs=1, x_max=2.0).fit(corpus)
    untruncated = SimplerGloVe(dim=4, window=3, min_count=2, epochs=1, x_max=2.0, truncate=False).fit(corpus)
    w1, w2 = truncated.weights(truncated.cooccurrence), untruncated.weights(untruncated.cooccurrence)
    assert w1.max() == 1.0 and w2.max() > 1.0
    np.testing.assert_allclose(w1, np.minimum(w2, 1.0))


@pytest.mark.parametrize("make", [lambda: SimplerGloVe(dim=5, window=3, min_count=2, epochs=6),
                                  lambda: GloVe(dim=5, window=3, min_count=2, epochs=6)])
def test_resuming_from_a_state_continues_the_same_run(corpus, make):
    straight = make().fit(corpus)
    half = make()
    half.epochs = 3
    half.fit(corpus)
    state = {k: v.copy() for k, v in half.state().items()}
    resumed = make()
    resumed.load_state(state)
    resumed.fit(corpus)
    np.testing.assert_array_equal(resumed.vectors, straight.vectors)
    assert resumed.costs == straight.costs


def test_saved_vectors_load_back(corpus, tmp_path):
    model = SimplerGloVe(dim=4, window=3, min_count=2, epochs=2).fit(corpus)
    for fmt in ("glove", "word2vec", "word2vec-binary"):
        model.save(tmp_path / f"v.{fmt}", format=fmt)
        loaded = WordVectors.load(tmp_path / f"v.{fmt}", format=fmt)
        assert loaded.words == model.vocab.words
        np.testing.assert_allclose(loaded.vectors, model.vectors, rtol=1e-6)


def test_whitened_cosine_is_the_pearson_correlation_of_pmi_profiles(rng):
    vectors = rng.normal(0, 1, (40, 5))
    words = ["<unk>"] + [f"w{k}" for k in range(39)]
    U = analysis.whitening(vectors, context_words=20)
    x, y = vectors[7], vectors[30]
    context = vectors[1:21]
    pearson = np.corrcoef(context @ x, context @ y)[0, 1]
    cosine = (x @ U) @ (y @ U) / np.linalg.norm(x @ U) / np.linalg.norm(y @ U)
    assert cosine == pytest.approx(pearson, rel=1e-10)
    top = analysis.most_similar_whitened(vectors, words, "w6", topn=39, context_words=20)
    assert dict(top)["w29"] == pytest.approx(pearson, rel=1e-10)
    assert "w6" not in dict(top) and "<unk>" not in dict(top)


def test_related_words_by_inner_product_and_by_cosine():
    vectors = np.array([[0, 0], [1, 0], [10, 1], [0.5, 0.01], [0, 3]], dtype=float)
    words = ["<unk>", "a", "big", "small", "other"]
    related = analysis.most_correlative(vectors, words, "a", 3, normalize=False)
    assert [w for w, _ in related] == ["big", "small", "other"]
    cosine = analysis.most_correlative(vectors, words, "a", 3)
    assert [w for w, _ in cosine] == ["small", "big", "other"]
    assert cosine[0][1] == pytest.approx(0.5 / np.hypot(0.5, 0.01))


def test_analogy_raw_and_normalised():
    vectors = np.array([[0, 0], [1, 0], [0, 1], [3, 0], [2.9, 1.1], [0.5, 0.5]], dtype=float)
    words = ["<unk>", "a", "b", "c", "d", "e"]
    # q = b + c - a = (2, 1) from raw vectors; from unit vectors (1, 1)
    raw = analysis.analogy(vectors, words, "a", "b", "c", topn=5)
    assert raw[0][0] == "d"
    unit = analysis.analogy(vectors, words, "a", "b", "c", topn=5, normalize=True, exclude_query=True)
    assert unit[0][0] == "e" and not {"a", "b", "c"} & {w for w, _ in unit}


def test_norm_frequency_and_smallest_norms():
    counts = np.array([0, 1000, 500, 100, 10])
    vectors = np.array([[0, 0], [0.1, 0], [0, 0.5], [1, 1], [3, 0]], dtype=float)
    words = ["<unk>", "the", "of", "cat", "zebra"]
    rho, smallest = analysis.norm_frequency(vectors, words, counts, smallest=2)
    assert rho == pytest.approx(-1.0)
    assert [w for w, _ in smallest] == ["the", "of"]
    with pytest.raises(ValueError, match="counts"):
        analysis.norm_frequency(vectors, words, counts[:3])


def test_keywords_sentence_vectors_and_similarity():
    vectors = np.array([[0, 0], [0.1, 0.1], [2, 0], [1.5, 0.2], [0, 1]], dtype=float)
    words = ["<unk>", "the", "tax", "budget", "cat"]
    tokens = ["the", "tax", "budget", "the", "unknown"]
    np.testing.assert_allclose(analysis.sentence_vector(vectors, words, tokens), [3.7, 0.4])
    np.testing.assert_allclose(analysis.sentence_vector(vectors, words, tokens, mean=True), [3.7 / 4, 0.1])
    assert [w for w, _ in analysis.keywords(vectors, words, tokens)] == ["tax", "budget", "the"]
    assert analysis.sentence_similarity(vectors, words, ["tax"], ["cat"]) == pytest.approx(0.0)
    assert analysis.sentence_similarity(vectors, words, ["tax"], ["budget"], normalize=False) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="no known word"):
        analysis.sentence_vector(vectors, words, ["unknown"])


def test_unknown_words_raise():
    vectors, words = np.eye(3), ["<unk>", "a", "b"]
    with pytest.raises(KeyError, match="zebra"):
        analysis.most_correlative(vectors, words, "zebra")
    with pytest.raises(ValueError, match="topn"):
        analysis.most_correlative(vectors, words, "a", topn=0)


@pytest.mark.parametrize("make, message", [
    (lambda: SimplerGloVe(dim=0), "dim"),
    (lambda: SimplerGloVe(window=-1), "window"),
    (lambda: SimplerGloVe(model="tied"), "model"),
    (lambda: SimplerGloVe(adagrad="adam"), "adagrad"),
    (lambda: SimplerGloVe(eta=0), "eta"),
    (lambda: SimplerGloVe(dtype="float16"), "dtype"),
    (lambda: GloVe(output="context"), "output"),
    (lambda: GloVe(x_max=-1), "x_max"),
    (lambda: GloVe(threads=0), "threads"),
])
def test_bad_hyper_parameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make, message", [
    (lambda: SimplerGloVe(window=True, epochs=True), "window"),
    (lambda: SimplerGloVe(epochs=True), "epochs"),
    (lambda: SimplerGloVe(dim=True), "dim"),
    (lambda: GloVe(min_count=True), "min_count"),
    (lambda: GloVe(threads=True), "threads"),
    (lambda: SimplerGloVe(seed=True), "seed"),
    (lambda: SimplerGloVe(dim=8.0), "dim"),
])
def test_true_is_not_an_integer_hyper_parameter(make, message):
    """``True`` is an int in Python; taken as one, ``window=True`` would train with a window of 1."""
    with pytest.raises(ValueError, match=f"^{message} must be"):
        make()


@pytest.mark.parametrize("name", ["eta", "x_max", "alpha", "memory"])
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_non_finite_real_hyper_parameters_raise(name, value):
    for model in (SimplerGloVe, GloVe):
        with pytest.raises(ValueError, match=f"^{name} must be a finite real number"):
            model(**{name: value})


def test_numpy_scalars_are_accepted_and_stored_as_python_numbers():
    model = SimplerGloVe(dim=np.int64(8), eta=np.float32(0.25), x_max=np.float64(10.0), truncate=np.bool_(False))
    assert (model.dim, model.eta, model.x_max, model.truncate) == (8, 0.25, 10.0, False)
    assert type(model.dim) is int and type(model.eta) is float and model.truncate is False


@pytest.mark.parametrize("make, message", [
    (lambda: SimplerGloVe(truncate="no"), "truncate"),
    (lambda: SimplerGloVe(truncate=0), "truncate"),
    (lambda: SimplerGloVe(model=True), "model"),
    (lambda: GloVe(output=None), "output"),
])
def test_flags_and_choices_are_checked(make, message):
    with pytest.raises(ValueError, match=f"^{message} must be"):
        make()


def test_defaults_are_the_constructors():
    assert SimplerGloVe.defaults()["window"] == SimplerGloVe().window == 10
    assert GloVe.defaults()["adagrad"] == GloVe().adagrad == "stanford"
    assert "output" in GloVe.defaults() and "output" not in SimplerGloVe.defaults()


@pytest.mark.parametrize("call, message", [
    (lambda v, w: analysis.most_correlative(v, w, "a", topn=True), "topn"),
    (lambda v, w: analysis.keywords(v, w, ["a", "b"], topn=True), "topn"),
    (lambda v, w: analysis.most_correlative(v, w, "a", normalize="yes"), "normalize"),
    (lambda v, w: analysis.analogy(v, w, "a", "b", "a", exclude_query=1), "exclude_query"),
    (lambda v, w: analysis.whitening(v, context_words=True), "context_words"),
    (lambda v, w: analysis.norm_frequency(v, w, np.ones(3), smallest=True), "smallest"),
    (lambda v, w: analysis.sentence_vector(v, w, ["a"], mean=1), "mean"),
])
def test_analysis_arguments_are_checked(call, message):
    vectors, words = np.eye(3), ["<unk>", "a", "b"]
    with pytest.raises(ValueError, match=f"^{message} must be"):
        call(vectors, words)


def test_untrained_model_and_empty_corpus_raise(tmp_path):
    with pytest.raises(RuntimeError, match="fit"):
        SimplerGloVe().vectors
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        SimplerGloVe().fit(empty)


def _script(name):
    path = Path(__file__).resolve().parents[2] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_resume_and_analyze_scripts_on_the_lee_corpus(tmp_path, capsys):
    train = _script("train_glove")
    common = ["--corpus", "lee", "--dim", "8", "--threads", "1", "--out", str(tmp_path)]
    assert train.main([*common, "--epochs", "1"]) == 0
    assert train.main([*common, "--epochs", "2", "--resume"]) == 0
    summary = capsys.readouterr().out
    assert "2 iterations" in summary and "Spearman(||v||, log count)" in summary
    loaded = WordVectors.load(tmp_path / "vectors.w2v.txt", format="word2vec")
    assert loaded.vectors.shape[1] == 8
    with pytest.raises(SystemExit, match=r"--model glove \(the run.s: simpler\)"):
        train.main([*common, "--epochs", "3", "--resume", "--model", "glove"])
    assert _script("analyze_glove").main(["--vectors", str(tmp_path), "--probe", "fire", "--topn", "3"]) == 0
    assert "related (<v, v_w>)" in capsys.readouterr().out
