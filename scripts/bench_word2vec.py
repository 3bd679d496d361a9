"""word2vec benchmark: our Numba kernel side by side with gensim in one run (speed, and --quality).

    python scripts/bench_word2vec.py                         # speed: raw words/s, 1 and 2 threads
    python scripts/bench_word2vec.py --quality --seeds 0 1 2 # + analogy / WS353 / SimLex after --epochs
    python scripts/bench_word2vec.py --memory 2 20           # peak RSS of train_word2vec.py on the corpus x2, x20
    python scripts/bench_word2vec.py --end-to-end 5 --repeat 2   # train_word2vec.py as a user runs it vs gensim

The corpus (``--corpus``: GCIDE when installed, else the shipped English corpus) is tokenized once
with ``scratch.datasets.tokenize`` (not timed) into the lines gensim trains on and the id chunks our
kernel trains on; both sides get the same vocabulary (min count 5), d = 100, window 5 shrunk at
random (word2vec.c), subsampling 1e-3 on the line before windowing, linear learning-rate decay
0.025 → 0.0001. Raw words/s = corpus tokens / training seconds, the same numerator on both sides.
gensim: ``sg=1`` (or CBOW with the mean), ``negative=K``, ``workers=1/2``. Ours: the random softmax
loss with separate output weights (+ bias), K samples from the unigram^0.75 or the uniform sampler.
Effective words/s counts only the words left after subsampling (gensim's "effective words"; ours:
the centre positions the kernel kept).

``--memory R1 R2 ...`` writes the corpus repeated R times into ``--out`` (so every count scales by R
and ``--min-count 5·R`` keeps exactly the same vocabulary), runs one epoch of
``scripts/train_word2vec.py`` on each in a fresh process and prints its peak resident memory: the
corpus is streamed, so the peaks should match whatever the length.

``--end-to-end E`` times ``scripts/train_word2vec.py`` as a user runs it, in a fresh process with
word2vec.c-like flags (skip-gram, K = 5 unigram^0.75 negatives, separate output, subsampling on both
sides, shrunk windows; the same d, window, min count, sample and learning rates as gensim), at 1 and at
E epochs; its marginal time per epoch, (t_E − t_1) / (E − 1), leaves out the start-up, the
tokenizing, the vocabulary and the writing of the results, which both runs pay once. gensim trains on
the same token lines for E epochs in this process; its time per epoch is its training time / E. Two
untimed 1-epoch runs come first, so that Numba's cache and each run folder's token cache are made
before any timed run. The two sides alternate ``--repeat`` times and each keeps its best. Raw words/s =
corpus tokens / time per epoch on both sides.

% of peak: FLOPs ≈ 6·d·(K+1) per (input, target) example over the sgemm peak of one core
(2048², measured first). The two-thread figures share the machine with whatever else runs on it.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

SPEED_CASES = [  # (label, sg, negative, sampler)
    ("skip-gram K=5 unigram", True, 5, "unigram"),
    ("skip-gram K=5 uniform", True, 5, "uniform"),
    ("skip-gram K=16 uniform", True, 16, "uniform"),
    ("CBOW-mean K=5 unigram", False, 5, "unigram"),
]
QUALITY_CASES = [  # (label, options of ours or None for gensim)
    ("gensim skip-gram K=5", None),
    ("ours skip-gram K=5 unigram, separate", dict(sg=True, negative=5, sampler="unigram", shared=False)),
    # The softmax's slot gradients sum to zero (|δ| sums to 2(1 − p_0)), while SGNS pushes every slot
    # (|δ| ≈ (K+1)/2 at the start), so the softmax gets twice gensim's rate; gensim has no output bias.
    ("ours skip-gram K=5 unigram, separate, no bias, alpha 0.05",
     dict(sg=True, negative=5, sampler="unigram", shared=False, bias=False, alpha=0.05)),
    ("ours SGNS (sigmoid) K=5 unigram, separate, no bias",
     dict(sg=True, negative=5, sampler="unigram", shared=False, bias=False, loss="nce", log_q=False,
          shared_negatives=1)),
    ("ours skip-gram K=5 uniform, separate", dict(sg=True, negative=5, sampler="uniform", shared=False)),
    ("ours skip-gram K=16 uniform, separate", dict(sg=True, negative=16, sampler="uniform", shared=False)),
    ("ours skip-gram K=16 uniform, shared", dict(sg=True, negative=16, sampler="uniform", shared=True)),
    ("ours CBOW-sum K=16 uniform, shared", dict(sg=False, negative=16, sampler="uniform", shared=True)),
]


GENSIM_DIM, GENSIM_EPOCHS = 100, 5  # gensim's defaults, the protocol both sides are run with


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """The flags that decide the process set-up (threads, memory check), read before Numba is imported."""
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to time")
    p.add_argument("--quality-threads", type=int, default=2)
    p.add_argument("--memory", type=int, nargs="*", default=None, help="corpus repeat factors of the memory check")


def parse_args(argv):
    from scratch.models.word2vec import Word2VecConfig

    defaults = Word2VecConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(p)
    p.add_argument("--corpus", default=None, help="shipped corpus name or text file (default: gcide if present)")
    p.add_argument("--dim", type=int, default=GENSIM_DIM)
    p.add_argument("--window", type=int, default=defaults.window)
    p.add_argument("--min-count", type=int, default=defaults.min_count)
    p.add_argument("--sample", type=float, default=defaults.sample)
    p.add_argument("--repeat", type=int, default=1,
                   help="speed: alternate the two sides this many times and keep each side's best epoch")
    p.add_argument("--speed-cases", nargs="*", default=None, help="speed: labels (substrings) of the cases to run")
    p.add_argument("--quality", action="store_true", help="also train --epochs and evaluate, per seed")
    p.add_argument("--quality-only", action="store_true", help="skip the speed section")
    p.add_argument("--epochs", type=int, default=GENSIM_EPOCHS)
    p.add_argument("--seeds", type=int, nargs="+", default=[defaults.seed])
    p.add_argument("--cases", nargs="*", default=None, help="quality: labels (substrings) of the cases to run")
    p.add_argument("--seed", type=int, default=defaults.seed, help="seed of the speed runs")
    p.add_argument("--out", type=Path, default=Path("/tmp/bench_word2vec"), help="where results.json goes")
    p.add_argument("--end-to-end", type=int, default=None, metavar="E",
                   help="only time train_word2vec.py end to end (marginal epoch of 1 vs E epochs) against gensim")
    return p.parse_args(argv)


def main(argv=None) -> int:
    early = argparse.ArgumentParser(add_help=False)
    add_run_arguments(early)
    run, _ = early.parse_known_args(argv)
    if not run.memory:  # Numba sizes its thread pool and OpenBLAS its own when they are imported
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ["NUMBA_NUM_THREADS"] = str(max(run.threads + [run.quality_threads]))
    args = parse_args(argv)
    if args.memory:
        return memory_check(args)
    import json

    import numpy as np

    from scratch.bench import machine_summary, sgemm_peak_gflops
    from scratch.datasets.text import CORPORA, TokenChunk, Vocab, data_path, iter_lines, iter_token_chunks, load_corpus, tokenize
    from scratch.memory import keep_freed_memory
    from scratch.models.word2vec import Word2Vec, resolve_corpus

    keep_freed_memory()  # for both sides: the arrays freed every epoch are reused, not faulted in again
    try:
        from gensim.models import Word2Vec as GensimWord2Vec
    except ImportError:
        GensimWord2Vec = None
        print("gensim is not installed: only our figures are printed", file=sys.stderr)

    if args.corpus is None:
        try:
            path = data_path(CORPORA["gcide"])
        except FileNotFoundError:
            path = load_corpus("english")
    else:
        path = resolve_corpus(args.corpus)
    peak = sgemm_peak_gflops()
    print(machine_summary())
    print(f"sgemm 2048² peak, 1 thread: {peak:.1f} GFLOP/s")

    lines = [tokens for tokens in (tokenize(line) for line in iter_lines(path)) if tokens]
    raw_words = sum(len(tokens) for tokens in lines)
    counts: dict[str, int] = {}
    for tokens in lines:
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
    vocab = Vocab.from_counts(counts, args.min_count)
    @functools.cache
    def chunks() -> list:
        """The id chunks our kernel trains on, made on first use (``--end-to-end`` alone needs none)."""
        return list(iter_token_chunks(path, vocab, 1 << 18, drop_unknown=True))

    print(f"corpus {path}: {len(lines)} lines, {raw_words} tokens, {len(vocab) - 1} words (min count "
          f"{args.min_count}); longest line {max(len(t) for t in lines)} tokens")

    common = dict(dim=args.dim, window=args.window, min_count=args.min_count, subsample="both", sample=args.sample,
                  shrink_window=True, pad_context=False, exclude_padding=True)

    def ours(epochs, seed, threads, **options):
        model = Word2Vec(epochs=epochs, seed=seed, threads=threads, **(common | options)).build(vocab)
        data = chunks()  # made before the clock starts
        start = time.perf_counter()
        model.fit_chunks(lambda: data)
        return model, time.perf_counter() - start

    def theirs(epochs, seed, threads, sg, negative):
        model = GensimWord2Vec(vector_size=args.dim, window=args.window, min_count=args.min_count, sample=args.sample,
                               sg=int(sg), cbow_mean=1, negative=negative, workers=threads, seed=seed, epochs=epochs)
        model.build_vocab(lines)
        start = time.perf_counter()
        effective, _ = model.train(lines, total_examples=model.corpus_count, epochs=epochs)
        model.effective_words = effective
        return model, time.perf_counter() - start

    results = {"corpus": str(path), "tokens": raw_words, "peak_gflops": peak, "speed": [], "quality": []}
    if args.end_to_end is not None:
        results["end_to_end"] = end_to_end(args, path, raw_words, theirs if GensimWord2Vec is not None else None)
    elif not args.quality_only:
        first = chunks()[0]
        warm = [TokenChunk(first.ids[:first.offsets[200]], first.offsets[:201])]
        for threads in sorted(set(args.threads)):  # compile both kernel paths before timing
            Word2Vec(epochs=1, threads=threads, **common).build(vocab).fit_chunks(lambda: warm)
        print("\nspeed: 1 epoch, raw words/s (ratio ours / gensim in the same run)")
        print(f"{'case':<26}{'threads':>8}{'gensim':>12}{'ours':>12}{'ratio':>8}{'% peak':>8}"
              f"{'effective: gensim':>19}{'ours':>8}{'ratio':>7}")
        speed_cases = [c for c in SPEED_CASES if args.speed_cases is None or any(s in c[0] for s in args.speed_cases)]
        for label, sg, negative, sampler in speed_cases:
            for threads in args.threads:
                speed = their_speed = effective = their_effective = 0.0
                for _ in range(args.repeat):  # the best epoch is the one least disturbed by other processes
                    model, seconds = ours(1, args.seed, threads, sg=sg, negative=negative, sampler=sampler,
                                          cbow_mean=not sg)
                    if raw_words / seconds > speed:
                        speed, examples_per_second = raw_words / seconds, model.history[-1]["examples"] / seconds
                        effective = model.history[-1]["kept"] / seconds
                    if GensimWord2Vec is not None:
                        their_model, seconds = theirs(1, args.seed, threads, sg, negative)
                        if raw_words / seconds > their_speed:
                            their_speed, their_effective = raw_words / seconds, their_model.effective_words / seconds
                flops = 6 * args.dim * (negative + 1) * examples_per_second
                row = {"case": label, "threads": threads, "gensim": their_speed or float("nan"), "ours": speed,
                       "ratio": speed / their_speed if their_speed else float("nan"),
                       "percent_peak": 100 * flops / 1e9 / peak, "gensim_effective": their_effective or float("nan"),
                       "ours_effective": effective,
                       "effective_ratio": effective / their_effective if their_effective else float("nan")}
                results["speed"].append(row)
                print(f"{label:<26}{threads:>8}{row['gensim'] / 1e3:>11.0f}k{speed / 1e3:>11.0f}k"
                      f"{row['ratio']:>8.2f}{row['percent_peak']:>7.1f}%{row['gensim_effective'] / 1e3:>18.0f}k"
                      f"{effective / 1e3:>7.0f}k{row['effective_ratio']:>7.2f}", flush=True)

    if args.quality or args.quality_only:
        from scratch.evaluate import word_vector_scores

        print(f"\nquality after {args.epochs} epochs, {args.quality_threads} threads, seeds {args.seeds}")
        cases = [c for c in QUALITY_CASES if args.cases is None or any(s in c[0] for s in args.cases)]
        for label, options in cases:
            if options is None and GensimWord2Vec is None:
                continue
            for seed in args.seeds:
                if options is None:
                    model, seconds = theirs(args.epochs, seed, args.quality_threads, True, 5)
                    vectors, words = model.wv.vectors, list(model.wv.index_to_key)
                else:
                    model, seconds = ours(args.epochs, seed, args.quality_threads, **options)
                    vectors, words = model.vectors[1:], model.vocab.words[1:]
                scores = word_vector_scores(vectors, words)
                results["quality"].append({"case": label, "seed": seed, "seconds": seconds, **scores})
                print(f"{label:<40} seed {seed}: analogy {100 * scores['analogy']:5.2f}% "
                      f"(sem {100 * scores['analogy_semantic']:5.2f}, syn {100 * scores['analogy_syntactic']:5.2f}, "
                      f"{int(scores['analogy_seen'])} seen)  WS353 {scores['wordsim353_spearman']:.3f}  "
                      f"SimLex {scores['simlex999_spearman']:.3f}  {seconds:.0f}s", flush=True)
        print("\nmean ± sd over seeds")
        for label, _ in cases:
            rows = [r for r in results["quality"] if r["case"] == label]
            if rows:
                cells = []
                for key in ("analogy", "wordsim353_spearman", "simlex999_spearman"):
                    values = np.array([r[key] for r in rows]) * (100 if key == "analogy" else 1)
                    cells.append(f"{values.mean():.3f} ± {values.std(ddof=1) if len(values) > 1 else 0:.3f}")
                print(f"{label:<40} analogy% {cells[0]}  WS353 {cells[1]}  SimLex {cells[2]}  (n={len(rows)})")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    return 0


def end_to_end(args, path: Path, raw_words: int, theirs) -> dict:
    """``--end-to-end E``: the script's marginal epoch against gensim's epoch, alternating (module docstring)."""
    import subprocess

    epochs = args.end_to_end
    if epochs < 2:
        raise SystemExit(f"--end-to-end must be at least 2 epochs, got {epochs}")
    args.out.mkdir(parents=True, exist_ok=True)
    script = Path(__file__).with_name("train_word2vec.py")
    flags = ["--corpus", str(path), "--sg", "--separate", "--sampler", "unigram", "--negative", "5",
             "--subsample", "both", "--shrink-window", "--no-pad-context", "--dim", str(args.dim),
             "--window", str(args.window), "--min-count", str(args.min_count), "--sample", str(args.sample),
             "--alpha", "0.025", "--min-alpha", "0.0001", "--threads", "1", "--seed", str(args.seed), "--overwrite"]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")

    def script_seconds(n: int, folder: int) -> float:
        """Wall time of the script trained n epochs, its run in ``--out``/e2e_<folder>."""
        start = time.perf_counter()
        subprocess.run([sys.executable, str(script), *flags, "--epochs", str(n), "--out", str(args.out / f"e2e_{folder}")],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    # untimed: Numba compiles the kernels into its cache and each run folder gets its token cache, which
    # would otherwise land in the first timed 1-epoch run and inflate the marginal epoch
    for folder in (1, epochs):
        script_seconds(1, folder)
    print(f"\nend to end: train_word2vec.py at 1 and {epochs} epochs (fresh processes) vs gensim, 1 thread")
    print(f"{'repeat':>6}{'script 1 ep s':>15}{f'script {epochs} ep s':>15}{'marginal epoch s':>18}"
          f"{'gensim epoch s':>16}{'ours words/s':>14}{'gensim words/s':>16}{'ratio':>7}")
    ours_best = gensim_best = float("inf")
    for repeat in range(args.repeat):
        one, many = script_seconds(1, 1), script_seconds(epochs, epochs)
        marginal = (many - one) / (epochs - 1)
        gensim_epoch = theirs(epochs, args.seed, 1, True, 5)[1] / epochs if theirs is not None else float("nan")
        ours_best, gensim_best = min(ours_best, marginal), min(gensim_best, gensim_epoch)
        print(f"{repeat:>6}{one:>15.2f}{many:>15.2f}{marginal:>18.2f}{gensim_epoch:>16.2f}"
              f"{raw_words / marginal / 1e3:>13.0f}k{raw_words / gensim_epoch / 1e3:>15.0f}k"
              f"{gensim_epoch / marginal:>7.2f}", flush=True)
    ratio = gensim_best / ours_best
    print(f"best of {args.repeat}: ours {raw_words / ours_best / 1e3:.0f}k, gensim {raw_words / gensim_best / 1e3:.0f}k "
          f"raw words/s, ratio {ratio:.2f}")
    return {"epochs": epochs, "ours_epoch_seconds": ours_best, "gensim_epoch_seconds": gensim_best, "ratio": ratio}


def memory_check(args) -> int:
    """Peak RSS of one training epoch on the corpus repeated R times, for each R of ``--memory``."""
    import gzip
    import re
    import subprocess

    from scratch.models.word2vec import resolve_corpus

    source = resolve_corpus(args.corpus)
    opener = gzip.open if str(source).endswith(".gz") else open
    with opener(source, "rt", encoding="utf-8") as f:
        text = f.read()
    args.out.mkdir(parents=True, exist_ok=True)
    script = Path(__file__).with_name("train_word2vec.py")
    print(f"{'repeats':>8}{'tokens':>14}{'seconds':>10}{'peak RSS MB':>14}")
    for repeats in args.memory:
        path = args.out / f"corpus_x{repeats}.txt"
        with open(path, "w", encoding="utf-8") as f:
            for _ in range(repeats):
                f.write(text)
        probe = ("import resource, runpy, sys; sys.argv = sys.argv[1:]; "
                 "code = 0\ntry: runpy.run_path(sys.argv[0], run_name='__main__')\n"
                 "except SystemExit as e: code = e.code\n"
                 "print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)")
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", probe, str(script), "--corpus", str(path), "--epochs", "1",
                              "--min-count", str(5 * repeats), "--probes", "--out", str(args.out / f"run_x{repeats}")],
                             capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - start
        peak_kb = int(next(line.split()[1] for line in run.stderr.splitlines() if line.startswith("maxrss")))
        tokens = int(re.search(r"(\d+) tokens", run.stderr).group(1))
        print(f"{repeats:>8}{tokens:>14}{seconds:>10.0f}{peak_kb / 1024:>14.0f}", flush=True)
        path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
