"""Language-model streams: loading, split, batches."""
import numpy as np
import pytest

from scratch.datasets import (char_vocab, copy_mix_batches, head_tail_split, load_text, load_text_bytes,
                              random_batches, sequential_batches, stdlib_source_bytes, train_val_split)


def test_default_corpus_as_bytes():
    data = load_text_bytes()
    assert data.dtype == np.uint8 and data.ndim == 1 and data.size > 5_000_000
    assert bytes(data[:100]).decode("utf-8", errors="ignore").strip()


def test_char_vocab_round_trips():
    chars, ids = char_vocab("abracadabra é")
    assert chars == [" ", "a", "b", "c", "d", "r", "é"]
    assert ids.dtype == np.int32 and "".join(chars[i] for i in ids) == "abracadabra é"


def test_train_val_split_takes_the_end_of_every_block():
    data = np.arange(1000)
    train, val = train_val_split(data, val_fraction=0.1, blocks=4)
    assert train.size == 900 and val.size == 100
    assert val[:25].tolist() == list(range(225, 250)) and val[-25:].tolist() == list(range(975, 1000))
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), data)


def test_random_batches_shapes_and_shift(rng):
    data = np.arange(500, dtype=np.uint8) % 251
    x, y = random_batches(data, batch_size=8, seq_len=16, rng=rng)
    assert x.shape == y.shape == (8, 16) and x.dtype == y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    np.testing.assert_array_equal(y[:, -1], (x[:, -1] + 1) % 251)


def test_sequential_batches_cover_every_position_once():
    data = np.arange(103)
    batches = list(sequential_batches(data, batch_size=4, seq_len=10))
    assert [x.shape for x, _ in batches] == [(4, 10), (4, 10), (4, 5)]
    x = np.concatenate([x for x, _ in batches], axis=1)
    y = np.concatenate([y for _, y in batches], axis=1)
    np.testing.assert_array_equal(y, x + 1)
    np.testing.assert_array_equal(np.sort(x.ravel()), np.arange(100))


def test_bad_inputs_raise_naming_them(tmp_path, rng):
    with pytest.raises(FileNotFoundError, match="nothing.txt"):
        load_text(tmp_path / "nothing.txt")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match="corpus .*empty.txt is empty"):
        load_text_bytes(tmp_path / "empty.txt")
    data = np.arange(50)
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(data, val_fraction=1.0)
    with pytest.raises(ValueError, match="blocks"):
        train_val_split(data, blocks=0)
    with pytest.raises(ValueError, match="seq_len"):
        random_batches(data, 4, 0, rng)
    with pytest.raises(ValueError, match="seq_len=50"):
        random_batches(data, 4, 50, rng)
    with pytest.raises(ValueError, match="batch_size"):
        next(sequential_batches(data, 0, 8))
    with pytest.raises(ValueError, match="data must be a 1-D integer array"):
        random_batches(np.zeros((4, 4)), 2, 2, rng)


def test_copy_mix_batches_shapes_and_copy_structure():
    data = np.arange(5000)
    x, y = copy_mix_batches(data, batch_size=10, seq_len=32, rng=np.random.default_rng(3), copy_fraction=0.3)
    assert x.shape == y.shape == (10, 32) and x.dtype == y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    z = np.concatenate([x, y[:, -1:]], axis=1)
    for row in z[:3]:
        # the stream is 0, 1, 2, …, so a copy row is a contiguous span that restarts after its period L
        period = int(np.argmax(np.diff(row) != 1)) + 1
        assert 8 <= period <= 16
        np.testing.assert_array_equal(row[:period], data[row[0]:row[0] + period])
        np.testing.assert_array_equal(row[period:], row[:-period])
    for row in z[3:]:
        assert np.all(np.diff(row) == 1)


def test_copy_mix_batches_are_seeded_and_fraction_zero_is_random_batches():
    data = np.random.default_rng(0).integers(0, 256, 3000)
    a = copy_mix_batches(data, 8, 16, np.random.default_rng(7), 0.5)
    b = copy_mix_batches(data, 8, 16, np.random.default_rng(7), 0.5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    plain = random_batches(data, 8, 16, np.random.default_rng(7))
    zero = copy_mix_batches(data, 8, 16, np.random.default_rng(7), 0.0)
    np.testing.assert_array_equal(zero[0], plain[0])
    np.testing.assert_array_equal(zero[1], plain[1])
    np.testing.assert_array_equal(a[0][4:], plain[0][4:])
    full = copy_mix_batches(data, 8, 16, np.random.default_rng(7), 1.0)[0]
    assert all(any(np.array_equal(r[p:], r[:-p]) for p in range(4, 9)) for r in full)
    with pytest.raises(ValueError, match="copy_fraction"):
        copy_mix_batches(data, 8, 16, np.random.default_rng(7), 1.5)


def test_head_tail_split_and_stdlib_corpus():
    train, val = head_tail_split(np.arange(100), val_fraction=0.1)
    np.testing.assert_array_equal(train, np.arange(90))
    np.testing.assert_array_equal(val, np.arange(90, 100))
    data, digest = stdlib_source_bytes()
    assert data.dtype == np.uint8 and data.size > 1_000_000 and data.max() <= 127 and len(digest) == 64
    assert b"import " in data[:100_000].tobytes()
    with pytest.raises(ValueError, match="val_fraction"):
        head_tail_split(np.arange(10), 0.0)


@pytest.mark.parametrize("call, pattern", [
    (lambda data: random_batches(data, True, 8, np.random.default_rng(0)),
     "batch_size must be a positive integer, got True"),
    (lambda data: list(sequential_batches(data, 2, True)), "seq_len must be a positive integer, got True"),
    (lambda data: train_val_split(data, blocks=True), r"blocks must be an integer in \[1, 100\], got True"),
    (lambda data: train_val_split(data, val_fraction=float("nan")), "val_fraction must be a finite real number"),
    (lambda data: head_tail_split(data, val_fraction=1.0), r"val_fraction must be in \(0, 1\), got 1.0"),
    (lambda data: copy_mix_batches(data, 4, 8, np.random.default_rng(0), float("inf")),
     "copy_fraction must be a finite real number, got inf"),
])
def test_bools_and_non_finite_floats_are_refused_by_name(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(np.arange(100) % 7)
