"""scratch.evaluate: analogy and word-pair protocols, cross-checked against gensim when installed."""
import math

import numpy as np
import pytest

from scratch import evaluate
from scratch.datasets import data_path, load_analogies, load_word_pairs


def planted_analogy_vectors(rng, d=8, noise=0.3, fillers=40):
    """Vectors where country ≈ capital + one offset (plus noise), other analogy words random.

    Returns ``(vectors, words)`` over the words of two semantic and one syntactic section and some
    filler words, shuffled, so accuracy is neither 0 nor 1 and restriction matters.
    """
    sections = {s.name: s for s in load_analogies().sections}
    capitals = sections["capital-common-countries"].questions
    words = sorted({w for name in ("capital-common-countries", "family", "gram3-comparative")
                    for q in sections[name].questions for w in q})
    words += [f"filler{i}" for i in range(fillers)]
    words = [words[i] for i in rng.permutation(len(words))]
    vectors = {w: rng.normal(size=d) for w in words}
    offset = rng.normal(size=d) * 2
    for capital, country, _, _ in capitals:
        vectors[country] = vectors[capital] + offset + noise * rng.normal(size=d)
    return np.array([vectors[w] for w in words], dtype=np.float32), words


def test_unit_rows_keeps_zero_rows():
    unit = evaluate.unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(unit, [[0.6, 0.8], [0.0, 0.0]])


def test_most_similar_ranks_by_cosine_and_excludes_the_query():
    vectors = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [-1.0, 0.0]])
    words = ["a", "b", "c", "d"]
    result = evaluate.most_similar(vectors, words, "a", topn=10)
    assert [w for w, _ in result] == ["b", "c", "d"]
    assert result[0][1] == pytest.approx(10 / math.sqrt(101))
    assert result[2][1] == pytest.approx(-1.0)


def test_analogy_accuracy_solves_planted_analogies(rng):
    vectors, words = planted_analogy_vectors(rng, d=16, noise=0.0)
    result = evaluate.analogy_accuracy(vectors, words, normalize=False)
    section = result["sections"]["capital-common-countries"]
    assert section["seen"] == section["total"] == 506
    assert section["accuracy"] == 1.0  # b + c − a is exactly d on the raw vectors
    assert result["total"] == len(load_analogies())
    assert result["seen"] == sum(s["seen"] for s in result["sections"].values())
    assert result["coverage"] == pytest.approx(result["seen"] / result["total"])


def test_analogy_restriction_skips_questions_with_rare_words(rng):
    vectors, words = planted_analogy_vectors(rng)
    everything = evaluate.analogy_accuracy(vectors, words)
    restricted = evaluate.analogy_accuracy(vectors, words, restrict_vocab=len(words) // 2)
    assert 0 < restricted["seen"] < everything["seen"]
    assert math.isnan(evaluate.analogy_accuracy(vectors, words, restrict_vocab=1)["accuracy"])


def test_raw_vector_analogies_use_unnormalised_offsets(tmp_path):
    # b + c − a on raw vectors points at "d"; on unit vectors the long "b" shrinks and "e" wins.
    words = ["a", "b", "c", "d", "e"]
    vectors = np.array([[1.0, 0.0, 0.0], [10.0, 10.0, 0.0], [0.0, 0.0, 1.0], [9.0, 10.0, 1.0], [1.0, 1.0, 1.8]])
    path = tmp_path / "questions.txt"
    path.write_text(": test-section\na b c d\n")
    assert evaluate.analogy_accuracy(vectors, words, path, normalize=False)["accuracy"] == 1.0
    assert evaluate.analogy_accuracy(vectors, words, path, normalize=True)["accuracy"] == 0.0


def test_word_pair_similarity_reports_coverage(rng):
    pairs, _ = load_word_pairs("wordsim353")
    words = sorted({w for pair in pairs[:100] for w in pair})
    vectors = rng.normal(size=(len(words), 10))
    result = evaluate.word_pair_similarity(vectors, words, "wordsim353")
    assert result["pairs"] == 353
    assert 100 <= result["covered"] < 353
    assert result["oov_percent"] == pytest.approx(100 * (353 - result["covered"]) / 353)
    assert -1 <= result["spearman"] <= 1 and -1 <= result["pearson"] <= 1


def test_word_pair_similarity_is_one_when_cosines_follow_the_scores(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("a\tb\t1\na\tc\t5\na\td\t9\nzz\ta\t3\n")
    angles = np.array([0.0, 1.2, 0.7, 0.1])
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    result = evaluate.word_pair_similarity(vectors, ["a", "b", "c", "d"], path)
    assert result["spearman"] == pytest.approx(1.0)
    assert result["covered"] == 3 and result["oov_percent"] == pytest.approx(25.0)


def test_perplexity_bits_and_accuracy():
    assert evaluate.bits_per_token(math.log(2) * 3) == pytest.approx(3.0)
    assert evaluate.perplexity(math.log(7.0)) == pytest.approx(7.0)
    assert evaluate.accuracy([1, 2, 3, 4], [1, 0, 3, 0]) == 0.5


@pytest.mark.parametrize("call, match", [
    (lambda: evaluate.most_similar(np.ones((2, 3)), ["a"], "a"), "words has 1 entries"),
    (lambda: evaluate.most_similar(np.ones(3), ["a"], "a"), "vectors must be a 2-D float"),
    (lambda: evaluate.most_similar(np.ones((2, 3)), ["a", "b"], "a", topn=0), "topn"),
    (lambda: evaluate.analogy_accuracy(np.ones((2, 3)), ["a", "b"], restrict_vocab=0), "restrict_vocab"),
    (lambda: evaluate.accuracy([1, 2], [1]), "predictions has shape"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_unknown_word_raises_key_error():
    with pytest.raises(KeyError, match="'zz'"):
        evaluate.most_similar(np.ones((2, 3)), ["a", "b"], "zz")


def gensim_keyed_vectors(vectors, words):
    models = pytest.importorskip("gensim.models")
    kv = models.KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors.astype(np.float32))
    return kv


@pytest.mark.parametrize("restrict", [30000, 60])
def test_analogies_equal_gensim(rng, restrict):
    vectors, words = planted_analogy_vectors(rng)
    kv = gensim_keyed_vectors(vectors, words)
    ours = evaluate.analogy_accuracy(vectors, words, restrict_vocab=restrict)
    score, sections = kv.evaluate_word_analogies(str(data_path("questions-words.txt")), restrict_vocab=restrict)
    theirs = {s["section"]: len(s["correct"]) for s in sections}
    seen = {s["section"]: len(s["correct"]) + len(s["incorrect"]) for s in sections}
    for name, section in ours["sections"].items():
        assert (section["correct"], section["seen"]) == (theirs.get(name, 0), seen.get(name, 0)), name
    assert ours["accuracy"] == pytest.approx(score)
    assert 0 < ours["correct"] < ours["seen"]


def test_word_pairs_equal_gensim(rng):
    pairs, _ = load_word_pairs("simlex999")
    words = sorted({w for pair in pairs[::3] for w in pair})
    vectors = rng.normal(size=(len(words), 12)).astype(np.float32)
    kv = gensim_keyed_vectors(vectors, words)
    pearson, spearman, oov = kv.evaluate_word_pairs(str(data_path("simlex999.txt")))
    ours = evaluate.word_pair_similarity(vectors, words, "simlex999")
    assert ours["pearson"] == pytest.approx(pearson[0], abs=1e-6)
    assert ours["spearman"] == pytest.approx(spearman[0], abs=1e-6)
    assert ours["oov_percent"] == pytest.approx(oov)


def test_most_similar_equals_gensim(rng):
    vectors, words = planted_analogy_vectors(rng)
    kv = gensim_keyed_vectors(vectors, words)
    for word in words[:5]:
        ours = evaluate.most_similar(vectors, words, word, topn=7)
        theirs = kv.most_similar(word, topn=7)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6)


def test_word_vector_scores_gathers_the_summary(rng):
    vectors, words = planted_analogy_vectors(rng)
    scores = evaluate.word_vector_scores(vectors, words)
    analogies = evaluate.analogy_accuracy(vectors, words)
    assert scores["analogy"] == analogies["accuracy"] and scores["analogy_seen"] == analogies["seen"]
    assert scores["simlex999_oov_percent"] == evaluate.word_pair_similarity(vectors, words, "simlex999")["oov_percent"]


def test_counts_and_flags_refuse_bools_and_floats_by_name():
    vectors, words = np.eye(3), ["<unk>", "a", "b"]
    with pytest.raises(ValueError, match="topn must be a positive integer, got True"):
        evaluate.most_similar(vectors, words, "a", topn=True)
    with pytest.raises(ValueError, match="restrict_vocab must be a positive integer, got 1.5"):
        evaluate.analogy_accuracy(vectors, words, restrict_vocab=1.5)
    with pytest.raises(ValueError, match="normalize must be True or False, got 'yes'"):
        evaluate.analogy_accuracy(vectors, words, normalize="yes")


def test_labelled_sentences_of_the_shipped_set():
    from scratch.datasets.evaluation import load_labelled_sentences

    sentences, labels = load_labelled_sentences()
    assert len(sentences) == 200 and np.bincount(labels).tolist() == [100, 100]
    assert sentences[0] == ["simplistic", "silly", "and", "tedious"] and labels[0] == 0  # the corpus tokenizer


def test_labelled_sentences_refuse_a_line_without_label(tmp_path):
    from scratch.datasets.evaluation import load_labelled_sentences

    path = tmp_path / "s.txt"
    path.write_text("__label__a fine\nno label here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        load_labelled_sentences(path)


def _sentiment_world(rng, dim=8):
    """Words 'p*' lean along +e0, 'n*' along −e0, 'x*' are noise; sentences mix noise with one class."""
    words = ["<pad>"] + [f"p{i}" for i in range(20)] + [f"n{i}" for i in range(20)] + [f"x{i}" for i in range(40)]
    vectors = rng.standard_normal((len(words), dim))
    vectors[1:21, 0] += 4.0
    vectors[21:41, 0] -= 4.0
    sentences, labels = [], []
    for s in range(120):
        label = s % 2
        own = [f"{'pn'[label]}{rng.integers(20)}" for _ in range(2)]
        sentences.append(own + [f"x{rng.integers(40)}" for _ in range(4)] + ["unknown"])
        labels.append(label)
    return vectors, words, sentences, np.array(labels)


def test_sentence_classification_separates_planted_classes_and_not_random_labels(rng):
    vectors, words, sentences, labels = _sentiment_world(rng)
    result = evaluate.sentence_classification(vectors, words, sentences, labels, folds=5)
    assert result["accuracy"] >= 0.95
    assert result["coverage"] == pytest.approx(6 / 7) and result["empty"] == 0
    shuffled = np.random.default_rng(1).permutation(labels)
    assert evaluate.sentence_classification(vectors, words, sentences, shuffled, folds=5)["accuracy"] < 0.7


def test_sentence_classification_scores_held_out_folds_only():
    """Random labels on as many independent features as sentences: a model that saw its test rows would
    fit them (accuracy near 1); held out, the accuracy stays near chance."""
    rng = np.random.default_rng(5)
    words = ["<pad>"] + [f"w{i}" for i in range(40)]
    vectors = rng.standard_normal((41, 40))
    sentences, labels = [[f"w{i}"] for i in range(40)], rng.integers(0, 2, 40)
    result = evaluate.sentence_classification(vectors, words, sentences, labels, folds=5, l2=1e-3)
    assert result["accuracy"] < 0.75


def test_softmax_regression_gradient_and_optimum():
    """The fitted parameters zero the gradient of loss + penalty written out here, independently."""
    from scipy.special import log_softmax

    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((40, 3)), rng.integers(0, 3, 40)
    params = evaluate._fit_softmax_regression(x, y, 3, l2=0.5)

    def objective(flat):
        w, b = flat.reshape(4, 3)[:-1], flat.reshape(4, 3)[-1]
        return -log_softmax(x @ w + b, axis=1)[np.arange(40), y].mean() + 0.5 / 80 * (w ** 2).sum()

    flat, step = params.ravel(), 1e-6
    numeric = np.array([(objective(flat + step * e) - objective(flat - step * e)) / (2 * step) for e in np.eye(12)])
    assert np.abs(numeric).max() < 1e-4
