"""word2vec's corpus walker against a plain-Python walker written from the spec (§1.1, pitfall 1).

The kernel draws from word2vec.c's LCG r ← r·25214903917 + 11 (mod 2^64), reads a draw in [0, n) as
(r >> 16) mod n and one in [0, 1) as (r >> 11) / 2^53, and starts each part of a chunk from a state
derived from (seed, chunk index) by NumPy's SeedSequence. The walker below re-implements that generator
from its formula and consumes it in the documented order (per line: the keep decisions of "both"; per
centre: the keep decision of "centre", the shrunk reach, then K samples per example), so the examples
— windows, padding, line boundaries, subsampling, shrinking and the sampled ids — are compared exactly.
"""
import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from scratch.kernels import sampled_softmax as k

V1, K = 9, 3          # rows (V + 1 with the padding row), samples per example
MASK = (1 << 64) - 1


class Lcg:
    """word2vec.c's generator in plain Python integers."""

    def __init__(self, state):
        self.state = int(state)

    def next(self):
        self.state = (self.state * 25214903917 + 11) & MASK
        return self.state

    def below(self, n):
        return (self.next() >> 16) % n

    def unit(self):
        return (self.next() >> 11) / 9007199254740992.0


def start_state(seed, chunk_index):
    """The LCG state a one-part walk of chunk ``chunk_index`` starts from."""
    return int(np.random.SeedSequence([seed, chunk_index]).generate_state(1, dtype=np.uint64)[0])


def window_of(line, i, reach, right_trim, pad):
    """Context ids of centre i: ``reach`` positions left, ``reach − right_trim`` right (the TF slice
    t[i+1 : i+reach] when trimmed); with ``pad`` positions outside the line are id 0 and the window is
    padded to 2·reach slots, as the TF class pads to 2·window; without it they are left out."""
    positions = [*range(i - reach, i), *range(i + 1, i + 1 + reach - right_trim)]
    ids = [line[j] if 0 <= j < len(line) else 0 for j in positions if pad or 0 <= j < len(line)]
    return ids + [0] * (right_trim if pad else 0)


def walk(lines, *, sg=0, window=3, right_trim=0, shrink=0, pad=1, subsampling=k.SUBSAMPLE_OFF, keep=None, sampler=None,
         low=0, share=1, seed=0, chunk_index=0):
    """The examples (context ids, [target, samples...]) of ``lines`` and the number of kept centres.

    sampler(lcg) draws one sample id (uniform on [low, V1) when None). Skip-gram pairs each context word
    with the centre, one example each, left to right; CBOW makes one example per centre. A centre with
    no context word gives no example. With ``share`` > 1 one set of samples serves ``share`` examples.
    """
    lcg = Lcg(start_state(seed, chunk_index))
    keep = np.ones(V1) if keep is None else keep
    draw = sampler or (lambda g: low + g.below(V1 - low))
    examples, kept, samples = [], 0, None
    for line in lines:
        line = [int(w) for w in line]
        if subsampling == k.SUBSAMPLE_BOTH:
            line = [w for w in line if lcg.unit() < keep[w]]
        for i, centre in enumerate(line):
            if subsampling == k.SUBSAMPLE_CENTRE and not lcg.unit() < keep[centre]:
                continue
            kept += 1
            reach = window - lcg.below(window) if shrink else window
            context = window_of(line, i, reach, right_trim, pad and not sg)
            for inputs in ([[c] for c in context] if sg else [context] if context else []):
                if share <= 1 or len(examples) % share == 0:
                    samples = [draw(lcg) for _ in range(K)]
                examples.append((inputs, [centre, *samples]))
    return examples, kept


def settings(tables, sampler=k.SAMPLER_UNIFORM, exclude_padding=False, window=3, **walker):
    """The kernel's WalkerConfig (window 3, K samples) and Sampler of these options."""
    return k.WalkerConfig(window=window, negative=K, **walker), k.Sampler(sampler, exclude_padding, *tables)


def flat(lines):
    ids = np.concatenate([np.asarray(line, np.int32) for line in lines]) if lines else np.zeros(0, np.int32)
    return ids.astype(np.int32), np.concatenate([[0], np.cumsum([len(line) for line in lines])]).astype(np.int64)


def traced(lines, keep=None, tables=None, seed=0, chunk_index=0, **options):
    """The kernel's examples as (context ids, samples) with the empty slots (−1) dropped."""
    ids, offsets = flat(lines)
    keep = np.ones(V1) if keep is None else keep
    tables = (np.ones(V1), np.arange(V1, dtype=np.int64)) if tables is None else tables
    config, sampler = settings(tables, **options)
    contexts, samples, _, _ = k.trace_chunk(ids, offsets, V1, config, keep, sampler, seed=seed,
                                            chunk_index=chunk_index)
    return [([int(c) for c in row if c >= 0], [int(s) for s in sample]) for row, sample in zip(contexts, samples)]


def assert_same_examples(kernel, expected, sg):
    assert len(kernel) == len(expected)
    for n, ((contexts, samples), (want_contexts, want_samples)) in enumerate(zip(kernel, expected)):
        # a CBOW input is a sum: its slot order carries no meaning
        key = (lambda x: x) if sg else sorted
        assert key(contexts) == key(want_contexts), f"example {n}: contexts {contexts} != {want_contexts}"
        assert samples == want_samples, f"example {n}: samples {samples} != {want_samples}"


def short_lines(rng):
    """Lines of 1 to 9 words, one-word lines among them, a long line before short ones (stale buffers)."""
    lengths = [9, 1, 2, 7, 1, 0, 3, 1, 5, 2]
    return [rng.integers(1, V1, size=n) for n in lengths]


@pytest.mark.parametrize("subsampling", [k.SUBSAMPLE_OFF, k.SUBSAMPLE_CENTRE, k.SUBSAMPLE_BOTH])
@pytest.mark.parametrize("pad", [0, 1])
@pytest.mark.parametrize("shrink", [0, 1])
@pytest.mark.parametrize("right_trim", [0, 1])
@pytest.mark.parametrize("sg", [0, 1])
def test_examples_equal_the_plain_python_walker(rng, sg, right_trim, shrink, pad, subsampling):
    """Windows, padding, the right off-by-one, lines as boundaries, shrinking, subsampling (random keep
    probabilities) and the uniform samples: every example and its order as the walker builds them."""
    lines = short_lines(rng) * 2
    keep = rng.uniform(0.2, 1.0, size=V1)
    options = dict(sg=sg, right_trim=right_trim, shrink=shrink, pad=pad, subsampling=subsampling)
    expected, _ = walk(lines, keep=keep, seed=4, chunk_index=2, **options)
    assert len(expected) > 10
    assert_same_examples(traced(lines, keep, seed=4, chunk_index=2, **options), expected, sg)


@pytest.mark.parametrize("subsampling", [k.SUBSAMPLE_CENTRE, k.SUBSAMPLE_BOTH])
def test_deterministic_keep_decisions(rng, subsampling):
    """Keep probabilities 0 or 1: dropped words are never centres ("centre") or vanish from the line
    before windowing ("both"), and the examples equal the walker's."""
    lines = short_lines(rng) * 2
    keep = np.ones(V1)
    keep[[2, 5]] = 0.0
    for sg in (0, 1):
        expected, _ = walk(lines, sg=sg, keep=keep, subsampling=subsampling)
        kernel = traced(lines, keep, sg=sg, subsampling=subsampling)
        assert_same_examples(kernel, expected, sg)
        assert not any(s[0] in (2, 5) for _, s in kernel)
        in_contexts = any(c in (2, 5) for contexts, _ in kernel for c in contexts)
        assert in_contexts == (subsampling == k.SUBSAMPLE_CENTRE)


def test_hand_worked_windows_across_lines():
    """Lines [1 2 3 4 5], [6], [7 8], window 2: the TF window, the trimmed right side padded back to
    2·window, skip-gram pairs that never cross a line."""
    lines = [[1, 2, 3, 4, 5], [6], [7, 8]]
    cbow = traced(lines, window=2)
    assert [sorted(c) for c, _ in cbow] == [[0, 0, 2, 3], [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 0, 3, 4],
                                            [0, 0, 0, 0], [0, 0, 0, 8], [0, 0, 0, 7]]
    trimmed = traced(lines, window=2, right_trim=1)
    assert [sorted(c) for c, _ in trimmed] == [[0, 0, 0, 2], [0, 0, 1, 3], [0, 1, 2, 4], [0, 2, 3, 5],
                                               [0, 0, 3, 4], [0, 0, 0, 0], [0, 0, 0, 8], [0, 0, 0, 7]]
    unpadded = traced(lines, window=2, right_trim=1, pad=0)
    assert [(c, s[0]) for c, s in unpadded] == [([2], 1), ([1, 3], 2), ([1, 2, 4], 3), ([2, 3, 5], 4),
                                                ([3, 4], 5), ([8], 7), ([7], 8)]
    pairs = [(c[0], s[0]) for c, s in traced(lines, window=2, sg=1)]
    assert pairs == [(2, 1), (3, 1), (1, 2), (3, 2), (4, 2), (1, 3), (2, 3), (4, 3), (5, 3), (2, 4), (3, 4),
                     (5, 4), (3, 5), (4, 5), (8, 7), (7, 8)]


@pytest.mark.parametrize("sg", [0, 1])
def test_kept_examples_and_words_counted_by_training(rng, sg):
    """train_chunk's (examples, words, kept) equal the walker's counts, subsampling and shrinking on."""
    lines = short_lines(rng) * 3
    keep = rng.uniform(0.3, 1.0, size=V1)
    ids, offsets = flat(lines)
    E = rng.normal(scale=0.1, size=(V1, 4))
    config, sampler = settings((np.ones(V1), np.arange(V1, dtype=np.int64)), sg=sg, shrink=True,
                               subsampling=k.SUBSAMPLE_CENTRE, pad=False)
    _, examples, words, kept = k.train_chunk(ids, offsets, E, None, None, config, keep, sampler,
                                             k.Objective(k.LOSS_SOFTMAX, False, np.zeros(V1)), alpha=(0.01, 0.01),
                                             progress=0, total_words=1e9, seed=6, chunk_index=3)
    expected, expected_kept = walk(lines, sg=sg, shrink=1, subsampling=k.SUBSAMPLE_CENTRE, pad=0, keep=keep, seed=6,
                                   chunk_index=3)
    assert (examples, words, kept) == (len(expected), ids.size, expected_kept)


def test_shrunk_windows_are_valid_and_uniform_on_one_to_window():
    """Without reproducing the draws: each CBOW example is the window of its centre for some reach
    r in [1, w], and over many centres r is uniform on [1, w] (with padding a window holds 2r slots)."""
    rng = np.random.default_rng(11)
    window = 5
    lines = [rng.integers(1, V1, size=n) for n in (40, 1, 2, 3, 600, 4, 1200)]
    for pad in (0, 1):
        kernel = traced(lines, window=window, shrink=1, pad=pad, seed=9)
        centres = [(line, i) for line in lines for i in range(len(line)) if pad or len(line) > 1]
        assert len(kernel) == len(centres)
        for (contexts, samples), (line, i) in zip(kernel, centres):
            assert samples[0] == line[i]
            assert any(sorted(contexts) == sorted(window_of(list(line), i, r, 0, pad)) for r in range(1, window + 1))
    padded = traced(lines, window=window, shrink=1, pad=1, seed=9)
    reaches = Counter(len(contexts) // 2 for contexts, _ in padded)
    assert set(reaches) == set(range(1, window + 1))
    counts = np.array([reaches[r] for r in range(1, window + 1)])
    assert counts.sum() == sum(map(len, lines))
    assert stats.chisquare(counts).pvalue > 1e-3


def test_shared_samples_and_excluded_padding(rng):
    """share > 1: one set of samples for ``share`` consecutive examples; exclude_padding draws from [1, V1)."""
    lines = short_lines(rng)
    for sg in (0, 1):
        expected, _ = walk(lines, sg=sg, share=3, low=1, shrink=1)
        kernel = traced(lines, sg=sg, share=3, exclude_padding=1, shrink=1)
        assert_same_examples(kernel, expected, sg)
        assert min(s for _, sample in kernel for s in sample[1:]) >= 1


def test_alias_and_log_uniform_draws(rng):
    """The unigram sampler reads Walker's tables as documented (u uniform on [0, n), bucket ⌊u⌋, keep it
    when u − ⌊u⌋ < threshold, else its alias), here on hand-made tables; the log-uniform sampler maps
    u to k = ⌊exp(u log(V+1))⌋ − 1, clipped to [0, V−1], id k + 1."""
    lines = short_lines(rng)
    threshold = np.array([0.0, 1.0, 0.25, 0.5, 1.0, 0.75, 0.1, 0.9, 0.6])
    alias = np.array([4, 1, 7, 1, 4, 8, 3, 2, 5], np.int64)

    def unigram(g):
        u = g.unit() * V1
        i = min(int(u), V1 - 1)
        return i if u - i < threshold[i] else int(alias[i])

    def log_uniform(g):
        u = int(math.exp(g.unit() * math.log(V1))) - 1
        return min(max(u, 0), V1 - 2) + 1

    for sampler, draw in ((k.SAMPLER_UNIGRAM, unigram), (k.SAMPLER_LOG_UNIFORM, log_uniform)):
        expected, _ = walk(lines, sampler=draw, seed=2)
        assert_same_examples(traced(lines, tables=(threshold, alias), sampler=sampler, seed=2), expected, 0)
