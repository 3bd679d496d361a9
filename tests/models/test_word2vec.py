"""Word2Vec: options, the autograd loss of the model, training on small corpora, vectors and log_proba."""
import numpy as np
import pytest

from scratch import gradcheck
from scratch.datasets import Vocab
from scratch.kernels import sampled_softmax as k
from scratch.models.word2vec import Word2Vec, example_masks, random_softmax_loss, sampling_distribution
from scratch.models.word_vectors import WordVectors
from scratch.progress import NonFiniteLossError


def topic_corpus(path, rng, lines=400, length=12):
    """Lines drawn from one of two disjoint topics (words a0..a9 or b0..b9), so neighbours are in-topic."""
    with open(path, "w") as f:
        for _ in range(lines):
            topic = "ab"[rng.integers(2)]
            f.write(" ".join(f"{topic}{i}" for i in rng.integers(0, 10, size=length)) + "\n")
    return path


@pytest.fixture
def corpus_file(tmp_path, rng):
    return topic_corpus(tmp_path / "topics.txt", rng)


def tiny_model(**options):
    vocab = Vocab([f"w{i}" for i in range(8)], np.arange(80, 0, -10))
    model = Word2Vec(dim=4, window=2, negative=3, min_count=1, **options).build(vocab)
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    return model


@pytest.mark.parametrize("options", [
    dict(), dict(shared=False), dict(sg=True, shared=False), dict(cbow_mean=True), dict(shared=False, bias=False),
    dict(loss="sampled-softmax", shared=False), dict(loss="nce"),
])
def test_model_loss_passes_gradcheck_for_every_parameter(rng, options):
    model = tiny_model(**options)
    ids, offsets = rng.integers(1, 9, size=30).astype(np.int32), np.array([0, 12, 30], np.int64)
    contexts, samples, _, _ = k.trace_chunk(ids, offsets, 9, model.config.walker_config(), model._keep,
                                            model._sampler, seed=0, chunk_index=0)
    params = list(model.parameters())

    def loss(*tensors):
        for name, t in zip([n for n, _ in model.named_parameters()], tensors):
            object.__setattr__(model, name, t)
        return model.batch_loss(contexts[:10], samples[:10])

    assert gradcheck(loss, params)


@pytest.mark.parametrize("options, window_of_the_middle, first", [
    (dict(), [1, 2, 4, 5], [0, 0, 2, 3]),
    (dict(right_off_by_one=True), [0, 1, 2, 4], [0, 0, 0, 2]),
    (dict(right_off_by_one=True, pad_context=False), [1, 2, 4], [2]),
    (dict(pad_context=False), [1, 2, 4, 5], [2, 3]),
])
def test_window_options_reach_the_walker(options, window_of_the_middle, first):
    """On the line 1 2 3 4 5 with window 2, the model's window options give the TF class's windows:
    the trimmed right word's slot padded back with id 0, or no padding at all."""
    model = tiny_model(**options)
    ids, offsets = np.arange(1, 6, dtype=np.int32), np.array([0, 5], np.int64)
    contexts, samples, _, _ = k.trace_chunk(ids, offsets, 9, model.config.walker_config(), model._keep,
                                            model._sampler, seed=0, chunk_index=0)
    np.testing.assert_array_equal(samples[:, 0], ids)
    assert sorted(contexts[2][contexts[2] >= 0]) == window_of_the_middle
    assert sorted(contexts[0][contexts[0] >= 0]) == first


def test_shrink_window_option_draws_reaches_from_one_to_window():
    """shrink_window=True: a padded CBOW window holds 2r slots for a reach r drawn from 1..window."""
    model = tiny_model(shrink_window=True)
    ids, offsets = np.ones(400, np.int32), np.array([0, 400], np.int64)
    contexts, _, _, _ = k.trace_chunk(ids, offsets, 9, model.config.walker_config(), model._keep, model._sampler,
                                      seed=0, chunk_index=0)
    assert len(contexts) == 400
    assert set(((contexts >= 0).sum(axis=1) // 2).tolist()) == {1, 2}


def test_separate_output_without_bias_has_no_bias_parameter():
    names = [name for name, _ in tiny_model(shared=False, bias=False).named_parameters()]
    assert names == ["embedding", "output"]
    assert [name for name, _ in tiny_model(shared=False).named_parameters()] == ["embedding", "output", "bias"]


def test_masks_remove_hits_and_scale_the_cbow_mean():
    model = tiny_model(loss="sampled-softmax", cbow_mean=True)
    contexts = np.array([[1, 2, -1], [3, 3, 3]])
    samples = np.array([[4, 4, 5], [6, 1, 6]])
    valid, scale = example_masks(contexts, samples, model.config)
    np.testing.assert_array_equal(valid, [[True, False, True], [True, True, False]])
    np.testing.assert_allclose(scale, [1 / 2, 1 / 3])


def test_module_mode_switches_still_work():
    model = tiny_model()
    assert model.eval() is model and model.train() is model
    assert [name for name, _ in model.named_parameters()] == ["embedding"]
    assert [name for name, _ in tiny_model(shared=False).named_parameters()] == ["embedding", "output", "bias"]


def test_sampling_distributions():
    counts = np.array([0, 16, 1, 1])
    np.testing.assert_allclose(sampling_distribution(counts, "uniform"), [0.25] * 4)
    np.testing.assert_allclose(sampling_distribution(counts, "uniform", exclude_padding=True), [0, 1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(sampling_distribution(counts, "unigram"), np.array([0, 8, 1, 1]) / 10)
    log_uniform = sampling_distribution(counts, "log-uniform")
    np.testing.assert_allclose(log_uniform, [0, np.log(2) / np.log(4), np.log(1.5) / np.log(4), np.log(4 / 3) / np.log(4)])


@pytest.mark.parametrize("options", [
    dict(), dict(sg=True, shared=False, sampler="unigram", subsample="both", shrink_window=True),
    dict(loss="nce", subsample="centre"), dict(optimizer="adam", lr=0.02, batch_size=256, epochs=3),
    dict(sg=True, shared=False, bias=False, sampler="unigram", loss="nce", log_q=False, shared_negatives=1),
    dict(optimizer="lazy-adam", lr=0.01), dict(optimizer="lazy-adagrad", lr=0.1, sg=True, shared=False),
])
def test_training_lowers_the_loss_and_groups_the_topics(corpus_file, options):
    settings = dict(dim=16, window=3, negative=5, epochs=4, min_count=1, alpha=0.05, sample=0.1, seed=1) | options
    model = Word2Vec(**settings).fit(corpus_file)
    losses = [h["loss"] for h in model.history]
    assert losses[-1] < losses[0]
    neighbours = [w for w, _ in model.most_similar("a1", topn=5)]
    assert sum(w.startswith("a") for w in neighbours) >= 4, neighbours


def test_a_seed_reproduces_single_thread_training(corpus_file):
    settings = dict(dim=8, negative=4, epochs=1, min_count=1, sg=True, shrink_window=True, seed=7)
    first = Word2Vec(**settings).fit(corpus_file).vectors
    again = Word2Vec(**settings).fit(corpus_file).vectors
    other = Word2Vec(**(settings | {"seed": 8})).fit(corpus_file).vectors
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("optimizer", ["lazy-adam", "adam"])
def test_resuming_from_a_checkpoint_continues_the_optimizer_exactly(corpus_file, tmp_path, optimizer):
    from scratch import checkpoint

    settings = dict(dim=8, negative=4, epochs=2, min_count=1, shared=False, optimizer=optimizer, lr=0.01,
                    batch_size=64, seed=3)
    straight = Word2Vec(**settings).fit(corpus_file)
    first = Word2Vec(**settings)
    first.fit(corpus_file, on_epoch_end=lambda model, epoch: checkpoint.save(tmp_path / f"e{epoch}.npz", model,
                                                                              model.optimizer, epoch=epoch))
    resumed = Word2Vec(**settings).build(first.vocab)
    epoch = checkpoint.load(tmp_path / "e1.npz", resumed, resumed.optimizer)["epoch"]
    resumed.fit(corpus_file, start_epoch=epoch)
    for name, p in straight.named_parameters():
        np.testing.assert_array_equal(p.data, dict(resumed.named_parameters())[name].data)


def test_two_threads_train_the_same_number_of_words(corpus_file):
    model = Word2Vec(dim=8, epochs=2, min_count=1, threads=2, chunk_tokens=1000).fit(corpus_file)
    one = Word2Vec(dim=8, epochs=2, min_count=1, threads=1, chunk_tokens=1000).fit(corpus_file)
    assert [h["examples"] for h in model.history] == [h["examples"] for h in one.history]
    assert np.isfinite(model.vectors).all()


def test_vectors_save_in_the_word2vec_format(corpus_file, tmp_path):
    model = Word2Vec(dim=8, epochs=1, min_count=1).fit(corpus_file)
    model.save(tmp_path / "v.bin", "word2vec-binary")
    loaded = WordVectors.load(tmp_path / "v.bin", "word2vec-binary")
    assert loaded.words == model.vocab.words
    np.testing.assert_array_equal(loaded.vectors[1:], model.vectors[1:])


@pytest.mark.parametrize("options", [dict(), dict(shared=False, cbow_mean=True)])
def test_cbow_log_proba_is_the_full_softmax(options):
    model = tiny_model(**options)
    log_p = model.log_proba(["w1", "w3", "unknown"])
    np.testing.assert_allclose(np.exp(log_p).sum(), 1.0)
    E = model.vectors
    W = E if model.config.shared else model.output.data
    b = 0 if model.config.shared else model.bias.data
    h = (E[2] + E[4]) / (2 if model.config.cbow_mean else 1)
    z = W @ h + b
    np.testing.assert_allclose(log_p, z - np.log(np.exp(z).sum()))


def test_skipgram_log_proba_is_naive_bayes():
    model = tiny_model(sg=True)
    one = model.log_proba(["w1"])
    two = model.log_proba(["w1", "w2"])
    prior = np.log(model.vocab.counts[1:] / model.vocab.counts.sum())
    np.testing.assert_allclose(two[1:], one[1:] + model.log_proba(["w2"])[1:] - prior)
    with pytest.raises(ValueError, match="no word of the vocabulary"):
        model.log_proba(["nope"])


@pytest.mark.parametrize("options, match", [
    (dict(dim=0), "dim must be a positive integer"),
    (dict(window=2.5), "window must be a positive integer"),
    (dict(loss="hinge"), "loss must be one of .*'hinge'"),
    (dict(sampler="zipf"), "sampler must be one of .*'zipf'"),
    (dict(subsample="all"), "subsample must be one of .*'all'"),
    (dict(optimizer="rmsprop"), "optimizer must be one of .*'rmsprop'"),
    (dict(alpha=0.01, min_alpha=0.1), "min_alpha"),
    (dict(sample=0), "sample must be in"),
    (dict(shared_negatives=0), "shared_negatives"),
    # True is an int to Python: it must not pass as a window of 1, nor "no" as skip-gram on
    (dict(window=True), "window must be a positive integer"),
    (dict(dim=True), "dim must be a positive integer"),
    (dict(epochs=True), "epochs must be a positive integer"),
    (dict(negative=True), "negative must be a positive integer"),
    (dict(threads=True), "threads must be a positive integer"),
    (dict(shared_negatives=True), "shared_negatives must be a positive integer"),
    (dict(sg="no"), "sg must be True or False"),
    (dict(shared=1), "shared must be True or False"),
    (dict(log_q="yes"), "log_q must be True or False"),
    (dict(pad_context=None), "pad_context must be True or False"),
    (dict(alpha=float("inf")), "alpha must be a finite real number"),
    (dict(alpha=float("nan")), "alpha must be a finite real number"),
    (dict(init_scale=float("inf")), "init_scale must be a finite real number"),
    (dict(lr=-1e-3), "lr must be in"),
    (dict(sample=True), "sample must be a finite real number"),
    (dict(min_alpha=-0.1), "min_alpha must be in"),
    (dict(seed=-1), "seed must be an integer >= 0"),
    (dict(seed=True), "seed must be an integer"),
    (dict(loss=True), "loss must be one of"),
])
def test_bad_hyper_parameters_name_the_argument(options, match):
    with pytest.raises(ValueError, match=match):
        Word2Vec(**options)


def test_bad_corpora(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="is empty"):
        Word2Vec().fit(empty)
    single = tmp_path / "single.txt"
    single.write_text("a\nb\n" * 10)
    with pytest.raises(ValueError, match="no training example"):
        Word2Vec(min_count=1, pad_context=False).fit(single)
    with pytest.raises(FileNotFoundError):
        Word2Vec().fit(tmp_path / "missing.txt")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy scalar overflow under NUMBA_DISABLE_JIT
def test_a_diverging_run_stops_with_a_clear_error(corpus_file):
    with pytest.raises(NonFiniteLossError, match="loss is"):
        Word2Vec(dim=8, min_count=1, alpha=1e30, min_alpha=1e30, init_scale=1e10).fit(corpus_file)


def test_numpy_scalars_are_accepted_and_stored_as_python_numbers():
    config = Word2Vec(window=np.int64(3), alpha=np.float32(0.5), sg=np.bool_(True)).config
    assert (config.window, config.alpha, config.sg) == (3, 0.5, True)
    assert type(config.window) is int and type(config.alpha) is float and type(config.sg) is bool


def test_bad_arguments_of_the_public_functions_name_the_argument(corpus_file):
    with pytest.raises(ValueError, match="sampler must be one of .*'zipf'"):
        sampling_distribution(np.array([0, 3, 1]), "zipf")
    with pytest.raises(ValueError, match="objective must be one of .*'hinge'"):
        random_softmax_loss(np.zeros((3, 2)), None, None, np.zeros((1, 1), np.int64), np.ones(1),
                            np.zeros((1, 2), np.int64), np.ones((1, 2), bool), objective="hinge")
    for start_epoch in (-1, True, 3):
        with pytest.raises(ValueError, match="start_epoch must be an integer"):
            Word2Vec(min_count=1, epochs=2).fit(corpus_file, start_epoch=start_epoch)
