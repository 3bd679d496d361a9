"""Analogy and word-pair sets: the shipped files and malformed ones made here."""
import numpy as np
import pytest

from scratch.datasets import load_analogies, load_word_pairs


def test_shipped_analogies_have_the_google_counts():
    analogies = load_analogies()
    assert len(analogies) == 19_544
    assert len(analogies.sections) == 14
    assert sum(len(s.questions) for s in analogies.semantic) == 8_869
    assert sum(len(s.questions) for s in analogies.syntactic) == 10_675
    first = analogies.sections[0]
    assert first.name == "capital-common-countries" and not first.syntactic
    assert first.questions[0] == ("athens", "greece", "baghdad", "iraq")
    assert [s.name for s in analogies.syntactic][0] == "gram1-adjective-to-adverb"
    assert len(analogies.questions()) == 19_544


@pytest.mark.parametrize("name, size", [("wordsim353", 353), ("simlex999", 999)])
def test_shipped_word_pairs(name, size):
    pairs, scores = load_word_pairs(name)
    assert len(pairs) == size and scores.shape == (size,) and scores.dtype == np.float64
    assert all(a == a.lower() and b == b.lower() for a, b in pairs)
    assert 0 <= scores.min() and scores.max() <= 10


def test_files_given_by_path_skip_comments(tmp_path):
    path = tmp_path / "analogies.txt"
    path.write_text("# a comment\n: family\nBoy Girl King Queen\n\n: gram2-opposite\nsure unsure known unknown\n")
    analogies = load_analogies(path)
    assert [s.name for s in analogies.sections] == ["family", "gram2-opposite"]
    assert analogies.sections[0].questions == [("boy", "girl", "king", "queen")]
    pairs_file = tmp_path / "pairs.tsv"
    pairs_file.write_text("# Word 1\tWord 2\tScore\nTiger\tcat\t7.35\n")
    pairs, scores = load_word_pairs(pairs_file)
    assert pairs == [("tiger", "cat")] and scores.tolist() == [7.35]


def test_malformed_files_raise_naming_file_and_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.txt"):
        load_analogies(tmp_path / "nothing.txt")
    path = tmp_path / "analogies.txt"
    path.write_text(": family\nboy girl king\n")
    with pytest.raises(ValueError, match="analogies.txt, line 2: expected 4 words"):
        load_analogies(path)
    path.write_text("boy girl king queen\n")
    with pytest.raises(ValueError, match="line 1: question before"):
        load_analogies(path)
    pairs_file = tmp_path / "pairs.tsv"
    pairs_file.write_text("tiger\tcat\tseven\n")
    with pytest.raises(ValueError, match="pairs.tsv, line 1"):
        load_word_pairs(pairs_file)
    with pytest.raises(FileNotFoundError, match="wordsim"):
        load_word_pairs(tmp_path / "wordsim.tsv")
