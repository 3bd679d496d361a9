"""GloVe benchmark: our counting and training side by side with the Stanford GloVe C tools, in one run.

    python scripts/bench_glove.py --glove-c /work/glove_c/build            # speed, 1 thread
    python scripts/bench_glove.py --glove-c /work/glove_c/build --quality  # + the quality table

The C tools (vocab_count, cooccur, shuffle, glove) are not part of this project: build them from the
public GloVe sources outside the repository and pass the directory holding the binaries. They read
whitespace-separated text, so the corpus is tokenized once with ``scratch.datasets.tokenize`` into
``--out`` (not timed); our pipeline is timed from the raw corpus, tokenization included.

Speed section (threads pinned to ``--threads``; the machine's sgemm peak measured first):
- counting + shuffling: vocab_count + cooccur + shuffle vs our count_corpus (one tokenizing pass) +
  ordered_records, same window, min count and 1/d weighting;
- training: records/s per thread of one classic-GloVe iteration (Stanford AdaGrad order, float64,
  as glove.c) on each side's own records, and the cost after each iteration, side by side; C time
  per iteration = (time of a run with 1 + k iterations - time of a run with 1) / k.

Quality section: simpler GloVe and classic GloVe next to gensim word2vec (CBOW and skip-gram) on
the same corpus: analogy accuracy (gensim protocol, restrict 30k; plus raw vectors), WordSim-353 and
SimLex-999 Spearman, Spearman(||v||, log count), per seed.
"""
from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench import DEFAULT_THREADS, pin_threads  # the sibling script: scripts/ is on sys.path




def parse_args(argv):
    from scratch.models.glove import GloVe, SimplerGloVe

    simpler, glove = SimplerGloVe.defaults(), GloVe.defaults()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--glove-c", type=Path, help="directory of the Stanford GloVe binaries (speed comparison)")
    parser.add_argument("--corpus", default=None, help="shipped corpus name or a text file (default: english)")
    parser.add_argument("--dim", type=int, action="append", help="vector sizes to time (default 50 and 100)")
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--min-count", type=int, default=glove["min_count"])
    parser.add_argument("--iterations", type=int, default=3, help="timed training iterations per side")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--memory", type=float, default=2.0, help="GB for counting (both sides)")
    parser.add_argument("--seed", type=int, action="append", help="quality seeds (default 0)")
    parser.add_argument("--quality", action="store_true", help="also train and evaluate the quality table")
    parser.add_argument("--quality-dim", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"quality: GloVe iterations (default: the models' own, {simpler['epochs']} simpler / "
                             f"{glove['epochs']} classic)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_glove"), help="work directory")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    pin_threads(argv)
    args = parse_args(argv)
    import numpy as np

    from scratch.bench import machine_summary, sgemm_peak_gflops
    from scratch.datasets.text import CORPORA, load_corpus
    from scratch.memory import keep_freed_memory

    keep_freed_memory()  # the arrays freed every epoch are reused, not faulted in again
    args.out.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus(args.corpus) if args.corpus is None or args.corpus in CORPORA else Path(args.corpus)
    peak = sgemm_peak_gflops()
    print(f"# {machine_summary()}; {args.threads} thread(s)")
    print(f"# sgemm 2048²: {peak:.1f} GFLOP/s (the peak used for %)")
    print(f"# corpus {corpus.name}, window {args.window}, min count {args.min_count}")
    records = speed(args, corpus, peak, np)
    if args.quality:
        quality(args, corpus, records)
    return 0


def speed(args, corpus, peak, np):
    from scratch.datasets.cooccurrence import count_corpus, ordered_records
    from scratch.datasets.text import iter_lines, tokenize
    from scratch.kernels.glove import GloVeParams, glove_epoch
    from scratch.models.glove import GloVe

    classic = GloVe(min_count=args.min_count, window=args.window, threads=args.threads, memory=args.memory)
    start, cpu = time.perf_counter(), time.process_time()
    vocab, cooc = count_corpus(corpus, classic.min_count, classic.window, classic.weighting, classic.memory)
    t_count = time.perf_counter() - start
    rng = np.random.default_rng(0)
    rows, cols, values = ordered_records(cooc, np.stack([classic.targets(cooc), classic.weights(cooc)], 1), rng)
    target, weight = np.ascontiguousarray(values[:, 0]), np.ascontiguousarray(values[:, 1])
    t_shuffle = time.perf_counter() - start - t_count
    cpu = time.process_time() - cpu

    c_files = None
    if args.glove_c is not None:
        text = args.out / "corpus.tok.txt"
        with open(text, "w", encoding="utf-8") as f:
            f.writelines(" ".join(tokens) + "\n" for tokens in map(tokenize, iter_lines(corpus)) if tokens)
        c_times, c_cpu, c_files = c_counting(args, text)
    c_times, c_cpu = (c_times, c_cpu) if c_files else ([float("nan")] * 3, float("nan"))
    print("\n## counting + shuffling (seconds; ours counts words and pairs in one tokenizing pass)")
    print(f"{'step':<52}{'ours':>8}{'GloVe C':>9}")
    print(f"{'vocabulary + co-occurrences (vocab_count, cooccur)':<52}{t_count:>8.2f}{c_times[0] + c_times[1]:>9.2f}")
    print(f"{'both directions, shuffled (shuffle)':<52}{t_shuffle:>8.2f}{c_times[2]:>9.2f}")
    total = t_count + t_shuffle
    print(f"{'total':<52}{total:>8.2f}{sum(c_times):>9.2f}   ours / C = {total / sum(c_times):.2f}")
    print(f"{'CPU time (user + sys), less exposed to other jobs':<52}{cpu:>8.2f}{c_cpu:>9.2f}   ours / C = "
          f"{cpu / c_cpu:.2f}")
    print(f"records (ordered, i != j): ours {rows.size:,}" +
          (f", C {c_records(c_files[1]):,} (diagonal included)" if c_files else ""))

    print("\n## training, classic GloVe, Stanford AdaGrad, float64 (records/s per thread)")
    print(f"{'d':>4}{'ours rec/s':>14}{'C rec/s':>12}{'ours / C':>10}{'GFLOP/s':>9}{'% peak':>8}   cost per iteration")
    settings = {"eta": classic.eta, "adagrad": classic.adagrad, "threads": classic.threads}
    for dim in args.dim or [50, 100]:
        def fresh():
            return GloVeParams.init(len(vocab), dim, shared=classic.shared, biases=classic.biases,
                                    rng=np.random.default_rng(0))
        glove_epoch(fresh(), rows[:100], cols[:100], target[:100], weight[:100], **settings)  # compile, untimed
        params = fresh()
        times, costs = [], []
        for _ in range(args.iterations):
            tick = time.perf_counter()
            costs.append(glove_epoch(params, rows, cols, target, weight, **settings) / rows.size)
            times.append(time.perf_counter() - tick)
        ours_rate = rows.size / min(times) / args.threads
        c_rate, c_costs = c_training(args, c_files, dim, classic) if c_files else (float("nan"), [])
        gflops = 10 * dim * ours_rate * args.threads / 1e9  # ~10 d flops per record (spec B4)
        curve = " ".join(f"{a:.5f}/{b:.5f}" for a, b in zip(costs, c_costs)) or " ".join(f"{a:.5f}" for a in costs)
        print(f"{dim:>4}{ours_rate:>14,.0f}{c_rate:>12,.0f}{ours_rate / c_rate:>10.2f}{gflops:>9.2f}"
              f"{100 * gflops / peak:>8.2f}   {curve}" + ("  (ours/C)" if c_costs else ""))
    return vocab, cooc


def c_counting(args, text):
    """Run vocab_count, cooccur, shuffle; return their wall times, their total CPU time (user + sys)
    and the (vocab, shuffled records) files."""
    vocab, cooc, shuf = (args.out / name for name in ("vocab.txt", "cooccurrence.bin", "cooccurrence.shuf.bin"))
    steps = [
        ([f"{args.glove_c}/vocab_count", "-min-count", str(args.min_count), "-verbose", "0"], text, vocab),
        ([f"{args.glove_c}/cooccur", "-memory", str(args.memory), "-vocab-file", str(vocab), "-verbose", "0",
          "-window-size", str(args.window), "-overflow-file", str(args.out / "overflow")], text, cooc),
        ([f"{args.glove_c}/shuffle", "-memory", str(args.memory), "-verbose", "0", "-seed", "1",
          "-temp-file", str(args.out / "temp_shuffle")], cooc, shuf),
    ]
    times = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for command, source, target in steps:
        with open(source, "rb") as stdin, open(target, "wb") as stdout:
            tick = time.perf_counter()
            subprocess.run(command, stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL, check=True,
                           cwd=args.out)
            times.append(time.perf_counter() - tick)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return times, cpu, (vocab, shuf)


def c_records(path: Path) -> int:
    return path.stat().st_size // 16  # struct {int word1; int word2; double val;}


def c_training(args, files, dim, classic):
    """Records/s per thread of glove.c and its cost after each of 1 + ``iterations`` iterations, with the
    x_max and eta of ``classic`` (our GloVe)."""
    vocab, shuf = files
    elapsed, costs = [], []
    for iterations in (1, 1 + args.iterations):
        command = [f"{args.glove_c}/glove", "-input-file", str(shuf), "-vocab-file", str(vocab), "-save-file",
                   str(args.out / "vectors_c"), "-threads", str(args.threads), "-iter", str(iterations),
                   "-vector-size", str(dim), "-x-max", str(classic.x_max), "-eta", str(classic.eta), "-alpha",
                   str(classic.alpha), "-binary", "0", "-verbose", "2",
                   "-seed", "1"]
        tick = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True, check=True, cwd=args.out)
        elapsed.append(time.perf_counter() - tick)
        costs = [float(c) for c in re.findall(r"cost: ([0-9.eE+-]+)", run.stderr)]
    per_iteration = (elapsed[1] - elapsed[0]) / args.iterations
    return c_records(shuf) / per_iteration / args.threads, costs


def quality(args, corpus, counted):
    """Train and evaluate simpler GloVe, classic GloVe and gensim word2vec on the same corpus."""
    import numpy as np

    from scratch.datasets.text import iter_lines, tokenize
    from scratch.models.glove import analysis as glove_analysis
    from scratch.models.glove import GloVe, SimplerGloVe

    vocab, _ = counted
    print(f"\n## quality, d={args.quality_dim}, {args.threads} thread(s)")
    print(f"{'model':<34}{'seed':>5}{'time s':>8}{'analogy':>9}{'sem':>7}{'syn':>7}{'raw':>7}"
          f"{'WS353':>7}{'SimLex':>8}{'ρ(|v|,log n)':>14}")
    epochs = {} if args.epochs is None else {"epochs": args.epochs}
    runs = [
        ("simpler GloVe (truncated)", lambda s: SimplerGloVe(dim=args.quality_dim, seed=s, threads=args.threads,
                                                             **epochs)),
        ("simpler GloVe (untruncated)", lambda s: SimplerGloVe(dim=args.quality_dim, seed=s, truncate=False,
                                                               threads=args.threads, **epochs)),
        ("GloVe (window 10, W+C)", lambda s: GloVe(dim=args.quality_dim, window=10, seed=s,
                                                   threads=args.threads, **epochs)),
    ]
    smallest = {}
    for seed in args.seed or [0]:
        for name, make in runs:
            tick = time.perf_counter()
            model = make(seed).fit(corpus)
            row = glove_analysis.evaluation_summary(model.vectors, model.vocab.words, model.vocab.counts, 30)
            _print_row(name, seed, time.perf_counter() - tick, row)
            smallest.setdefault(name, row["smallest_norms"])
        for name, vectors, elapsed in _gensim_runs(args, corpus, seed, vocab, iter_lines, tokenize, np):
            row = glove_analysis.evaluation_summary(vectors, vocab.words, vocab.counts, 30)
            _print_row(name, seed, elapsed, row)
            smallest.setdefault(name, row["smallest_norms"])
    print("\n## smallest norms (first seed)")
    for name, words in smallest.items():
        print(f"{name}: " + " ".join(w for w, _ in words))


def _print_row(name, seed, elapsed, row):
    a, r = row["analogy"], row["analogy_raw"]
    print(f"{name:<34}{seed:>5}{elapsed:>8.0f}{100 * a['accuracy']:>8.2f}%{100 * a['semantic']:>6.1f}%"
          f"{100 * a['syntactic']:>6.1f}%{100 * r['accuracy']:>6.2f}%{row['wordsim353']['spearman']:>7.3f}"
          f"{row['simlex999']['spearman']:>8.3f}{row['norm_log_count_spearman']:>14.3f}", flush=True)


def _gensim_runs(args, corpus, seed, vocab, iter_lines, tokenize, np):
    """gensim Word2Vec CBOW and skip-gram (its defaults, window 5, 5 epochs), rows in our vocab order."""
    try:
        from gensim.models import Word2Vec
    except ImportError:
        print("gensim is not installed: no word2vec rows", file=sys.stderr)
        return
    sentences = [tokens for tokens in map(tokenize, iter_lines(corpus)) if tokens]
    for sg, name in ((0, "gensim word2vec CBOW"), (1, "gensim word2vec skip-gram")):
        tick = time.perf_counter()
        model = Word2Vec(sentences, vector_size=args.quality_dim, window=5, min_count=args.min_count, sg=sg,
                         seed=seed, workers=args.threads, epochs=5)
        elapsed = time.perf_counter() - tick
        vectors = np.zeros((len(vocab), args.quality_dim), np.float32)
        for row, word in enumerate(vocab.words[1:], start=1):
            vectors[row] = model.wv[word]
        yield f"{name} (d={args.quality_dim})", vectors, elapsed


if __name__ == "__main__":
    sys.exit(main())
