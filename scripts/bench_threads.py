"""Two-thread scaling of every Numba kernel whose work splits: time on 1 thread, time on 2, ratio.

Each kernel runs the same problem with ``numba.set_num_threads(1)`` and ``(2)`` in alternating rounds,
in one process, BLAS pinned to one thread (BLAS calls inside a kernel run on the kernel's own threads).
A round lasts at least 0.3 s (a shorter case is called several times and timed per call); the best
round of each thread count is kept. Cases:

    host          not a kernel: a loop of sines split into two equal halves, nothing shared, no memory
                  traffic; its scaling is the most two threads can give on this host at the time (a
                  shared or throttled second core shows here first)
    word2vec      skip-gram, 5 unigram negatives, one epoch of the shipped corpus; threads = Hogwild parts
    glove         classic GloVe epochs over the shipped corpus's records; threads = Hogwild parts
    routing       su2 routing forward + backward, a batch of 64; prange over the samples
    window        window attention forward + backward, B 1, H 8, T 4096, D 64, w 256; prange over B·H heads
    vq            VQ attention forward + backward, B 2, T 4096; prange over the samples (B = 1 does not split)
    perturb_max   Gaussian perturb-max log-probabilities and their VJP, B 2048, n 10; prange over rows
    conv          the stride-1 convolution by per-offset products, 16 → 16 channels at 26 × 26, B 128,
                  fwd + bwd; prange over blocks of images (forward) and the 8 lanes (backward)
    winograd      the same by Winograd's F(2 × 2, 3 × 3), 64 → 64 channels at 26 × 26, B 128
    pool          2 × 2 max and average pooling with stride 2, fwd + bwd of each, (128, 16, 26, 26) float32;
                  prange over the planes

    python scripts/bench_threads.py                 # all cases
    python scripts/bench_threads.py window vq       # some
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"
os.environ.setdefault("NUMBA_NUM_THREADS", "2")

import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

# Each round of a case lasts at least this long (a case shorter than it runs several times in a round).
ROUND_SECONDS = 0.3
CASES = ("host", "word2vec", "glove", "routing", "window", "vq", "perturb_max", "conv", "winograd", "pool")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cases", nargs="*", choices=[*CASES, []], help="kernels to time (default: all)")
    p.add_argument("--repeat", type=int, default=5,
                   help="timing rounds, each timing 1 thread and then 2, ≥ 0.3 s each (the best of each is kept)")
    args = p.parse_args(argv)
    args.cases = args.cases or list(CASES)
    return args


@njit(cache=True, parallel=True)
def _sines(halves, terms):
    """Σ_r sin(i·10⁻³ + r) for each half i: pure arithmetic, one half per thread."""
    out = np.zeros(halves)
    for i in prange(halves):
        total = 0.0
        for r in range(terms):
            total += math.sin(i * 1e-3 + r)
        out[i] = total
    return out


def _host():
    def run(threads):
        _sines(2, 1_000_000)
    return run, "two halves of 10⁶ sines each, one per thread"


def _word2vec():
    from scratch.datasets.text import Vocab, iter_token_chunks, load_corpus, tokenize, iter_lines
    from scratch.models.word2vec import Word2Vec

    path = load_corpus("english")
    counts: dict[str, int] = {}
    for line in iter_lines(path):
        for token in tokenize(line):
            counts[token] = counts.get(token, 0) + 1
    vocab = Vocab.from_counts(counts, 5)
    chunks = list(iter_token_chunks(path, vocab, 1 << 18, drop_unknown=True))
    options = dict(epochs=1, sg=True, shared=False, sampler="unigram", negative=5, subsample="both",
                   shrink_window=True, pad_context=False)

    def run(threads):
        Word2Vec(threads=threads, **options).build(vocab).fit_chunks(lambda: chunks)
    return run, f"{sum(c.ids.size for c in chunks):,} tokens, 1 epoch"


def _glove():
    from scratch.datasets.cooccurrence import count_corpus, ordered_records
    from scratch.datasets.text import load_corpus
    from scratch.kernels.glove import GloVeParams, glove_epoch
    from scratch.models.glove import GloVe

    model = GloVe()
    vocab, cooc = count_corpus(load_corpus("english"), model.min_count, model.window, model.weighting, model.memory)
    rows, cols, values = ordered_records(cooc, np.stack([model.targets(cooc), model.weights(cooc)], 1),
                                         np.random.default_rng(0))
    target, weight = np.ascontiguousarray(values[:, 0]), np.ascontiguousarray(values[:, 1])

    def run(threads):
        params = GloVeParams.init(len(vocab), 50, shared=model.shared, biases=model.biases, rng=np.random.default_rng(0))
        glove_epoch(params, rows, cols, target, weight, eta=model.eta, adagrad=model.adagrad, threads=threads)
    return run, f"{rows.size:,} records, d 50, 1 epoch"


def _routing():
    from scratch import Tensor
    from scratch.kernels.routing import route

    rng = np.random.default_rng(0)
    u_hat = rng.standard_normal((64, 10, 1152, 16)).astype(np.float32)
    grad = rng.standard_normal((64, 10, 16)).astype(np.float32)

    def run(threads):
        route(Tensor(u_hat, requires_grad=True), 3, mode="su2").backward(grad)
    return run, "B 64, 1152 → 10 capsules of 16, 3 iterations, fwd + bwd"


def _window():
    from scratch import Tensor
    from scratch.kernels.window_attention import window_attention

    rng = np.random.default_rng(0)
    q, k, v, g = (rng.standard_normal((1, 8, 4096, 64), dtype=np.float32) for _ in range(4))

    def run(threads):
        window_attention(*(Tensor(x, requires_grad=True) for x in (q, k, v)), 256).backward(g)
    return run, "B 1, H 8, T 4096, D 64, w 256, fwd + bwd"


def _vq():
    from scratch import Tensor
    from scratch.kernels.vq_attention import WindowBias, vq_attention

    rng = np.random.default_rng(0)
    batch, length, d_k, d_v, size, block = 2, 4096, 64, 128, 128, 128
    codebook = rng.standard_normal((size, d_k), dtype=np.float32) / d_k ** 0.25
    codes = rng.integers(0, size, (batch, length))
    q = rng.standard_normal((batch, length, d_k), dtype=np.float32) / d_k ** 0.25
    v = rng.standard_normal((batch, length, d_v), dtype=np.float32)
    bias = WindowBias(*(rng.standard_normal(shape, dtype=np.float32) * 0.1
                        for shape in ((d_k,), (d_k,), (block + 1, d_k))))
    grad = rng.standard_normal(v.shape, dtype=np.float32)

    def run(threads):
        inputs = [Tensor(x, requires_grad=True) for x in (q, codebook[codes], v)]
        vq_attention(*inputs, codes, codebook, block=block, window_bias=bias).backward(grad)
    return run, f"B {batch}, T {length}, D_k {d_k}, D_v {d_v}, S = L = {block}, fwd + bwd"


def _perturb_max():
    from scratch import Tensor
    from scratch.models.perturb_max import perturb_max_log_probs

    mu = np.random.default_rng(0).standard_normal((2048, 10))

    def run(threads):
        perturb_max_log_probs(Tensor(mu, requires_grad=True), "normal").sum().backward()
    return run, "B 2048, n 10, normal law (Gauss–Hermite nodes), fwd + bwd"


def _convolution(channels, algorithm):
    from scratch import Tensor
    from scratch.kernels.conv import conv2d

    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, channels, 26, 26), dtype=np.float32)
    w = rng.standard_normal((channels, channels, 3, 3), dtype=np.float32) / (3 * channels ** 0.5)
    b, g = np.zeros(channels, np.float32), rng.standard_normal((128, channels, 24, 24), dtype=np.float32)

    def run(threads):
        conv2d(*(Tensor(a, requires_grad=True) for a in (x, w, b)), algorithm=algorithm).backward(g)
    return run, f"B 128, {channels} → {channels} channels, 26 × 26, 3 × 3, fwd + bwd"


def _pool():
    from scratch import Tensor
    from scratch.kernels.pool import avg_pool2x2, max_pool2x2

    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 16, 26, 26), dtype=np.float32)
    g = rng.standard_normal((128, 16, 13, 13), dtype=np.float32)

    def run(threads):
        for pool in (max_pool2x2, avg_pool2x2):
            pool(Tensor(x, requires_grad=True)).backward(g)
    return run, "(128, 16, 26, 26) float32, max and average pooling, fwd + bwd of each"


def main(argv=None) -> int:
    args = parse_args(argv)
    import numba

    from scratch.bench import machine_summary
    from scratch.memory import keep_freed_memory

    keep_freed_memory()  # the arrays freed every call are reused, not faulted in again
    if numba.config.NUMBA_NUM_THREADS < 2:
        print("NUMBA_NUM_THREADS must be at least 2", file=sys.stderr)
        return 2
    print(f"# {machine_summary()}; BLAS 1 thread; best of {args.repeat} alternating rounds of ≥ {ROUND_SECONDS} s")
    print("| kernel | problem | 1 thread s | 2 threads s | scaling |")
    print("|---|---|---|---|---|")
    makers = {"host": _host, "word2vec": _word2vec, "glove": _glove, "routing": _routing, "window": _window, "vq": _vq,
              "perturb_max": _perturb_max, "conv": lambda: _convolution(16, "offsets"),
              "winograd": lambda: _convolution(64, "winograd"), "pool": _pool}
    for name in args.cases:
        run, problem = makers[name]()
        numba.set_num_threads(2)
        run(2)  # compile and warm up both counts; the 1-thread call sets how many calls make a round
        numba.set_num_threads(1)
        start = time.perf_counter()
        run(1)
        calls = max(1, math.ceil(ROUND_SECONDS / (time.perf_counter() - start)))
        times = {1: float("inf"), 2: float("inf")}
        for _ in range(args.repeat):  # the two counts alternate, so a drift of the host meets both
            for threads in (1, 2):
                numba.set_num_threads(threads)
                start = time.perf_counter()
                for _ in range(calls):
                    run(threads)
                times[threads] = min(times[threads], (time.perf_counter() - start) / calls)
        print(f"| {name} | {problem} | {times[1]:.4g} | {times[2]:.4g} | {times[1] / times[2]:.2f}× |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
