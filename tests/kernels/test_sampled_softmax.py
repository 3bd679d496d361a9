"""Sampled-softmax word2vec kernels: autograd loss == NumPy reference == Numba kernel (float64)."""
import numpy as np
import pytest

from scratch import gradcheck, tensor
from scratch.kernels import sampled_softmax as k
from scratch.models.word2vec import random_softmax_loss

V1, D, K = 9, 5, 4  # rows (V + 1 with the padding row), dimension, samples


def batch(rng, B=6, C=4, remove_hits=True):
    """Examples that exercise aliasing: empty slots (one example with none: h = 0), padding id 0,
    repeated ids, the target among the contexts and among the samples."""
    contexts = rng.integers(0, V1, size=(B, C))
    contexts[0, 2:] = -1
    contexts[4, :] = -1
    contexts[1, :] = 3
    samples = rng.integers(0, V1, size=(B, K + 1))
    samples[2, 1] = samples[2, 0]
    samples[3, :] = 3
    contexts[3, 0] = 3
    valid = np.ones(samples.shape, bool)
    if remove_hits:
        valid[:, 1:] = samples[:, 1:] != samples[:, :1]
    scale = np.where(np.arange(B) % 2 == 0, 1.0, 1.0 / np.maximum((contexts >= 0).sum(1), 1))
    return contexts, scale, samples, valid


def tables(rng, shared):
    E = rng.normal(scale=0.7, size=(V1, D))
    if shared:
        return E, None, None
    return E, rng.normal(scale=0.7, size=(V1, D)), rng.normal(scale=0.3, size=V1)


CASES = [(shared, loss, log_q) for shared in (True, False) for loss in ("softmax", "nce") for log_q in (False, True)]


def loss_case(rng, shared, log_q):
    """A batch, its tables as leaves that require grad (E alone when shared) and log E[count] or None."""
    contexts, scale, samples, valid = batch(rng)
    params = [tensor(x, requires_grad=True) for x in tables(rng, shared) if x is not None]
    log_expected = rng.normal(size=V1) if log_q else None
    return contexts, scale, samples, valid, params, log_expected


@pytest.mark.parametrize("shared, loss, log_q", CASES)
def test_autograd_loss_passes_gradcheck(rng, shared, loss, log_q):
    contexts, scale, samples, valid, inputs, log_expected = loss_case(rng, shared, log_q)

    def fn(*params):
        E_, W_, b_ = (params[0], None, None) if shared else params
        return random_softmax_loss(E_, W_, b_, contexts, scale, samples, valid, log_expected, loss)

    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("shared, loss, log_q", CASES)
def test_reference_equals_autograd(rng, shared, loss, log_q):
    contexts, scale, samples, valid, params, log_expected = loss_case(rng, shared, log_q)
    E_, W_, b_ = (params[0], None, None) if shared else params
    value = random_softmax_loss(E_, W_, b_, contexts, scale, samples, valid, log_expected, loss)
    value.backward()
    E, W, b = (None if t is None else t.data for t in (E_, W_, b_))
    ref_loss, dE, dW, db = k.example_loss_and_grads(E, W, b, contexts, scale, samples, valid, log_expected, loss)
    np.testing.assert_allclose(float(value.data), ref_loss, rtol=1e-12)
    np.testing.assert_allclose(E_.grad, dE, rtol=1e-10, atol=1e-12)
    if not shared:
        np.testing.assert_allclose(W_.grad, dW, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b_.grad, db, rtol=1e-10, atol=1e-12)


def test_softmax_deltas_stay_accurate_when_the_target_dominates():
    z = np.array([[60.0, 0.0, -1.0, 0.5]])
    losses, delta = k.slot_deltas_reference(z, np.ones_like(z, bool))
    p = np.exp(z[0, 1:] - 60.0)
    np.testing.assert_allclose(delta[0, 1:], p, rtol=1e-12)
    np.testing.assert_allclose(delta[0, 0], -p.sum(), rtol=1e-12)  # p_0 − 1 would round to 0
    assert losses[0] == pytest.approx(np.log1p(p.sum()), rel=1e-12)


def test_random_softmax_equals_sampled_softmax_with_uniform_log_q(rng):
    # A uniform proposal subtracts the same log(K q) from every logit, which softmax ignores (§1.2).
    contexts, scale, samples, valid = batch(rng)
    E, W, b = tables(rng, shared=False)
    plain = k.example_loss_and_grads(E, W, b, contexts, scale, samples, valid)
    corrected = k.example_loss_and_grads(E, W, b, contexts, scale, samples, valid, np.full(V1, np.log(K / V1)))
    for x, y in zip(plain, corrected):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shared, loss, log_q", CASES)
def test_kernel_sgd_step_equals_reference(rng, shared, loss, log_q):
    contexts, scale, samples, valid = batch(rng)
    E, W, b = tables(rng, shared)
    log_expected = rng.normal(size=V1) if log_q else np.zeros(V1)
    alpha = rng.uniform(0.05, 0.5, size=len(contexts))
    ref = [x.copy() for x in (E, W, b) if x is not None]
    ref_loss = k.sgd_step_reference(*(ref if not shared else (ref[0], None, None)), contexts, scale, samples, valid,
                                    alpha, log_expected if log_q else None, loss)
    E_k = E.copy()
    W_k = None if shared else W.copy()
    b_k = None if shared else b.copy()
    kernel_loss = k.sgd_step_kernel(E_k, W_k, b_k, contexts, scale, samples, valid, alpha,
                                    k.Objective(k.LOSSES[loss], log_q, log_expected))
    assert kernel_loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(E_k, ref[0], rtol=1e-12, atol=1e-14)
    if not shared:
        np.testing.assert_allclose(W_k, ref[1], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b_k, ref[2], rtol=1e-12, atol=1e-14)


# --- the corpus walker ----------------------------------------------------------------------------

def corpus(rng, lines=(7, 1, 13, 2, 30)):
    ids = rng.integers(1, V1, size=sum(lines)).astype(np.int32)
    return ids, np.concatenate([[0], np.cumsum(lines)]).astype(np.int64)


def settings(tables=None, log_expected=None, sampler=k.SAMPLER_UNIFORM, exclude_padding=False,
             loss=k.LOSS_SOFTMAX, log_q=False, window=3, negative=K, **walker):
    """The kernel's (WalkerConfig, Sampler, Objective): window 3, K samples, uniform alias tables by default."""
    tables = k.alias_table(np.ones(V1)) if tables is None else tables
    log_expected = np.zeros(V1) if log_expected is None else log_expected
    return (k.WalkerConfig(window=window, negative=negative, **walker), k.Sampler(sampler, exclude_padding, *tables),
            k.Objective(loss, log_q, log_expected))


def loss_name(options):
    return "nce" if options.get("loss") == k.LOSS_NCE else "softmax"


WALKS = [
    dict(),
    dict(sg=True, shrink=True),
    dict(cbow_mean=True, pad=False, right_trim=1),
    dict(subsampling=k.SUBSAMPLE_CENTRE, sampler=k.SAMPLER_UNIGRAM, remove_hits=True),
    dict(subsampling=k.SUBSAMPLE_BOTH, sampler=k.SAMPLER_LOG_UNIFORM, log_q=True, loss=k.LOSS_NCE, share=5),
]


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("options", WALKS)
def test_kernel_training_equals_reference_replay_of_its_examples(rng, shared, options):
    ids, offsets = corpus(rng)
    keep = rng.uniform(0.3, 1.0, size=V1)
    alias = k.alias_table(rng.dirichlet(np.ones(V1)))
    log_expected = rng.normal(size=V1)
    cfg, sampler, objective = settings(alias, log_expected, **options)
    E, W, b = tables(rng, shared)
    trained = [x.copy() for x in (E, W, b) if x is not None]
    W_k, b_k = (None, None) if shared else (trained[1], trained[2])
    contexts, samples, alphas, loss = k.trace_chunk(ids, offsets, V1, cfg, keep, sampler, seed=3, chunk_index=1,
                                                    alpha=(0.2, 0.01), total_words=2 * offsets[-1], E=trained[0],
                                                    W=W_k, b=b_k, objective=objective)
    assert len(contexts) > 10
    assert 0.01 < alphas.min() <= alphas.max() <= 0.2
    valid = np.ones(samples.shape, bool)
    if options.get("remove_hits"):
        valid[:, 1:] = samples[:, 1:] != samples[:, :1]
    n = (contexts >= 0).sum(axis=1)
    scale = 1.0 / n if options.get("cbow_mean") else np.ones(len(n))
    replay = [x.copy() for x in (E, W, b) if x is not None]
    ref_loss = k.sgd_step_reference(*(replay if not shared else (replay[0], None, None)), contexts, scale, samples,
                                    valid, alphas, log_expected if options.get("log_q") else None,
                                    loss_name(options))
    assert loss == pytest.approx(ref_loss, rel=1e-10)
    for x, y in zip(trained, replay):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def trace(ids, offsets, keep=None, seed=0, **options):
    keep = np.ones(V1) if keep is None else keep
    config, sampler, _ = settings(**options)
    return k.trace_chunk(ids, offsets, V1, config, keep, sampler, seed=seed, chunk_index=0)


def test_cbow_windows_padding_and_right_off_by_one():
    ids, offsets = np.arange(1, 6, dtype=np.int32), np.array([0, 5], np.int64)
    contexts, samples, _, _ = trace(ids, offsets, window=2)
    np.testing.assert_array_equal(samples[:, 0], ids)
    np.testing.assert_array_equal(contexts[0], [0, 0, 2, 3])
    np.testing.assert_array_equal(contexts[2], [1, 2, 4, 5])
    contexts, _, _, _ = trace(ids, offsets, window=2, right_trim=1)
    np.testing.assert_array_equal(contexts[2], [1, 2, 4, 0])       # t[i+1 : i+window], padded to 2·window
    contexts, _, _, _ = trace(ids, offsets, window=2, pad=0)
    np.testing.assert_array_equal(contexts[0], [2, 3, -1, -1])


def test_skipgram_pairs_every_context_word_with_the_centre():
    ids, offsets = np.array([1, 2, 3, 4, 5, 6], np.int32), np.array([0, 3, 6], np.int64)
    contexts, samples, _, _ = trace(ids, offsets, window=1, sg=1)
    pairs = {(int(c[0]), int(s[0])) for c, s in zip(contexts, samples)}
    assert pairs == {(2, 1), (1, 2), (3, 2), (2, 3), (5, 4), (4, 5), (6, 5), (5, 6)}  # no pair crosses a line
    assert (contexts[:, 1:] == -1).all()


@pytest.mark.parametrize("subsampling", [k.SUBSAMPLE_CENTRE, k.SUBSAMPLE_BOTH])
def test_kept_words_count_the_centres_left_by_subsampling(rng, subsampling):
    ids, offsets = corpus(rng, lines=(400, 300))
    keep = np.linspace(0.1, 1.0, V1)
    E = rng.normal(scale=0.1, size=(V1, D))
    config, sampler, objective = settings(subsampling=subsampling, sg=True)
    _, examples, words, kept = k.train_chunk(ids, offsets, E, None, None, config, keep, sampler, objective,
                                             alpha=(0.01, 0.01), progress=0,
                                             total_words=1e9, seed=0, chunk_index=0)
    expected = keep[ids].sum()
    assert words == 700 and abs(kept - expected) < 4 * np.sqrt(expected) and examples > kept


def test_subsampling_centre_only_versus_both(rng):
    ids, offsets = corpus(rng, lines=(40, 40, 40))
    keep = np.ones(V1)
    keep[3] = 0.0
    _, samples_off, _, _ = trace(ids, offsets, keep)
    contexts, samples, _, _ = trace(ids, offsets, keep, subsampling=k.SUBSAMPLE_CENTRE)
    assert (samples[:, 0] != 3).all() and (contexts == 3).any() and (samples_off[:, 0] == 3).any()
    contexts, samples, _, _ = trace(ids, offsets, keep, subsampling=k.SUBSAMPLE_BOTH)
    assert (samples[:, 0] != 3).all() and not (contexts == 3).any()


@pytest.mark.parametrize("sampler, unigram", [
    (k.SAMPLER_UNIFORM, None), (k.SAMPLER_UNIGRAM, [0.0, 0.5, 0.2, 0.1, 0.1, 0.05, 0.03, 0.01, 0.01]),
    (k.SAMPLER_LOG_UNIFORM, None)])
def test_samplers_follow_their_distribution(sampler, unigram):
    ids, offsets = np.ones(4000, np.int32), np.array([0, 4000], np.int64)
    q = {k.SAMPLER_UNIFORM: np.full(V1, 1 / V1),
         k.SAMPLER_UNIGRAM: np.array(unigram or [0.0] * V1),
         k.SAMPLER_LOG_UNIFORM: np.concatenate([[0.0], np.log((np.arange(V1 - 1) + 2) / (np.arange(V1 - 1) + 1))
                                                / np.log(V1)])}[sampler]
    config, tables, _ = settings(k.alias_table(q), sampler=sampler, negative=16)
    _, samples, _, _ = k.trace_chunk(ids, offsets, V1, config, np.ones(V1), tables, seed=5, chunk_index=0)
    draws = samples[:, 1:].ravel()
    frequency = np.bincount(draws, minlength=V1) / draws.size
    np.testing.assert_allclose(frequency, q, atol=4 * np.sqrt(0.25 / draws.size))


def test_uniform_sampler_can_exclude_the_padding_id():
    ids, offsets = np.ones(500, np.int32), np.array([0, 500], np.int64)
    _, samples, _, _ = trace(ids, offsets, exclude_padding=True)
    _, with_padding, _, _ = trace(ids, offsets)
    assert samples[:, 1:].min() == 1 and with_padding[:, 1:].min() == 0


def test_shared_negatives_are_reused_for_share_examples(rng):
    ids, offsets = corpus(rng)
    _, samples, _, _ = trace(ids, offsets, share=4)
    for start in range(0, len(samples) - 4, 4):
        assert (samples[start:start + 4, 1:] == samples[start, 1:]).all()
    assert not (samples[0, 1:] == samples[4, 1:]).all()


def test_a_seed_reproduces_the_examples_and_another_changes_them(rng):
    ids, offsets = corpus(rng)
    first, again, other = (trace(ids, offsets, seed=s, shrink=1, sg=1)[1] for s in (1, 1, 2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_lcg_is_word2vec_c_generator():
    state = np.uint64(1)
    for _ in range(3):
        state = k.lcg_next(state)
    expected = 1
    for _ in range(3):
        expected = (expected * 25214903917 + 11) % 2 ** 64
    assert int(state) == expected


def test_split_lines_balances_words():
    offsets = np.array([0, 10, 20, 30, 40, 100], np.int64)
    np.testing.assert_array_equal(k.split_lines(offsets, 2), [0, 4, 5])
    np.testing.assert_array_equal(k.split_lines(offsets[:2], 4), [0, 1])


def test_hogwild_training_on_two_threads_learns_like_one_thread(rng):
    ids = np.tile(np.arange(1, V1, dtype=np.int32), 125)        # a cyclic corpus: the context fixes the target
    offsets = np.arange(0, ids.size + 1, 50, dtype=np.int64)
    E0 = rng.normal(scale=0.1, size=(V1, D)).astype(np.float32)
    losses = {}
    config, sampler, objective = settings(remove_hits=True)
    for threads in (1, 2):
        E, W, b = E0.copy(), np.zeros_like(E0), np.zeros(V1, np.float32)
        runs = [k.train_chunk(ids, offsets, E, W, b, config, np.ones(V1), sampler, objective, alpha=(0.05, 0.05),
                              progress=0, total_words=1e9, seed=0, chunk_index=0, threads=threads)
                for _ in range(3)]
        assert all(words == kept == offsets[-1] for _, _, words, kept in runs) and np.isfinite(E).all()
        losses[threads] = [loss / examples for loss, examples, _, _ in runs]
    for threads in (1, 2):
        assert losses[threads][-1] < 0.6 * losses[threads][0]
    assert losses[2][-1] == pytest.approx(losses[1][-1], rel=0.1)


def test_hogwild_parts_train_every_line_once(rng):
    """Two parts whose lines use disjoint words (ids 1–4, then 5–8) and no sampled negatives (NCE with
    K = 0) touch disjoint rows, so the racy two-thread run must equal the same two parts walked one
    after the other on one thread, exactly: each part trains its own lines, from its own seed, once."""
    lengths = rng.integers(5, 16, size=40)
    lengths[20:] = lengths[:20]                                 # the two halves hold the same number of words
    lines = [rng.integers(1, 5, size=n) + (4 if i >= 20 else 0) for i, n in enumerate(lengths)]
    ids = np.concatenate(lines).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    np.testing.assert_array_equal(k.split_lines(offsets, 2), [0, 20, 40])
    config, sampler, objective = settings(sg=True, shrink=True, subsampling=k.SUBSAMPLE_BOTH, negative=0,
                                          loss=k.LOSS_NCE)
    keep = np.full(V1, 0.8)
    E0 = rng.normal(scale=0.3, size=(V1, D)).astype(np.float32)
    W0 = rng.normal(scale=0.3, size=(V1, D)).astype(np.float32)
    trained = {}
    for threads in (1, 2):
        E, W, b = E0.copy(), W0.copy(), np.zeros(V1, np.float32)
        counts = k.train_chunk(ids, offsets, E, W, b, config, keep, sampler, objective, alpha=(0.05, 0.05),
                               progress=0, total_words=1e9, seed=4, chunk_index=2, threads=threads, parts=2)
        trained[threads] = counts, E, W, b
    (counts, *one), (parallel_counts, *two) = trained[1], trained[2]
    assert counts == parallel_counts and counts[2] == offsets[-1]
    for x, y in zip(one, two):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(one[0][5:], E0[5:]) and not np.array_equal(one[0][1:5], E0[1:5])


def alias_probabilities(threshold, alias):
    """P(i) = (threshold_i + Σ_{j: alias_j = i} (1 − threshold_j)) / n, the law of one alias draw."""
    n = threshold.shape[0]
    return (threshold + np.bincount(alias, weights=1.0 - threshold, minlength=n)) / n


@pytest.mark.parametrize("n", [1, 2, 9, 1000])
def test_alias_table_reproduces_the_distribution_exactly(rng, n):
    q = rng.dirichlet(np.ones(n)) * rng.uniform(size=n) ** 3
    q[rng.uniform(size=n) < 0.2] = 0.0
    if not q.sum() > 0:
        q[0] = 1.0
    threshold, alias = k.alias_table(q)
    assert threshold.min() >= 0 and threshold.max() <= 1
    np.testing.assert_allclose(alias_probabilities(threshold, alias), q / q.sum(), rtol=0, atol=1e-13)
    zero = q == 0
    assert (threshold[zero] == 0).all() and not np.isin(np.flatnonzero(zero), alias[threshold < 1]).any()


def test_alias_table_of_a_zipf_law_and_bad_input():
    q = 1.0 / np.arange(1, 20001) ** 0.75
    np.testing.assert_allclose(alias_probabilities(*k.alias_table(q)), q / q.sum(), rtol=1e-9)
    for bad in ([], [0.0, 0.0], [1.0, -0.1], [np.nan, 1.0], [[1.0]]):
        with pytest.raises(ValueError, match="q must be"):
            k.alias_table(np.array(bad))


def lazy_reference(E, W, b, contexts, samples, valid, scale, alphas, optimizer, log_expected, loss):
    """Replay examples one at a time: the dense gradient of each, then scratch.optim's lazy-sparse step."""
    from scratch.nn import Parameter
    from scratch.optim import Adagrad, Adam

    params = [Parameter(x) for x in (E, W, b) if x is not None]
    make = {"adam": lambda: Adam(params, lr=alphas[0], sparse=True),
            "adagrad": lambda: Adagrad(params, lr=alphas[0], sparse=True)}[optimizer]
    opt = make()
    total = 0.0
    for i in range(len(samples)):
        one = slice(i, i + 1)
        value, dE, dW, db = k.example_loss_and_grads(*(p.data for p in params), *([None, None] if W is None else []),
                                                     contexts[one], scale[one], samples[one], valid[one],
                                                     log_expected, loss)
        for p, g in zip(params, (dE, dW, db)):
            p.grad = g
        opt.lr = alphas[i]
        opt.step()
        total += value
    return total, [p.data for p in params]


@pytest.mark.parametrize("optimizer", ["adagrad", "adam"])
@pytest.mark.parametrize("shared, options", [
    (True, dict()), (False, dict(sg=True, shrink=True)),
    (False, dict(sampler=k.SAMPLER_UNIGRAM, remove_hits=True, cbow_mean=True, pad=False)),
    (True, dict(loss=k.LOSS_NCE, sampler=k.SAMPLER_LOG_UNIFORM, log_q=True))])
def test_lazy_optimizers_equal_scratch_optim_sparse_steps_on_the_replayed_examples(rng, optimizer, shared, options):
    ids, offsets = corpus(rng)
    alias = k.alias_table(rng.dirichlet(np.ones(V1)))
    log_expected = rng.normal(size=V1)
    cfg, sampler, objective = settings(alias, log_expected, **options)
    E, W, b = tables(rng, shared)
    trained = [x.copy() for x in (E, W, b) if x is not None]
    W_k, b_k = (None, None) if shared else (trained[1], trained[2])
    lazy = k.lazy_state(optimizer, trained[0], W_k, b_k)
    contexts, samples, alphas, loss = k.trace_chunk(ids, offsets, V1, cfg, np.ones(V1), sampler, seed=4,
                                                    chunk_index=0, alpha=(0.05, 0.05), E=trained[0], W=W_k, b=b_k,
                                                    objective=objective, lazy=lazy)
    valid = np.ones(samples.shape, bool)
    if options.get("remove_hits"):
        valid[:, 1:] = samples[:, 1:] != samples[:, :1]
    n = (contexts >= 0).sum(axis=1)
    scale = 1.0 / n if options.get("cbow_mean") else np.ones(len(n))
    assert len(samples) > 10 and (samples[:, 1:] == samples[:, :1]).any()      # repeated rows are exercised
    ref_loss, replay = lazy_reference(*(x.copy() if x is not None else None for x in (E, W, b)), contexts, samples,
                                      valid, scale, alphas, optimizer, log_expected if options.get("log_q") else None,
                                      loss_name(options))
    assert loss == pytest.approx(ref_loss, rel=1e-10)
    for x, y in zip(trained, replay):
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12)
    if optimizer == "adam":                                   # per-row step counts of E: rows it was a context
        inputs = np.unique(contexts[contexts >= 0])
        counts = np.bincount(inputs, minlength=V1) if not shared else None
        assert (lazy.E_step[inputs] > 0).all()
        if counts is not None:
            assert (lazy.E_step[counts == 0] == 0).all()


def test_lazy_state_names_the_bad_optimizer():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        k.lazy_state("rmsprop", np.zeros((3, 2)), None, None)
