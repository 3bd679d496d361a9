"""A tour of the six models and the engine: a short run of each on the data in data/, one result each.

    python scripts/tour.py                     # all seven parts, a few minutes on 2 cores
    python scripts/tour.py --only capsule      # one part (repeatable)
    python scripts/tour.py --quick             # tiny sizes: checks that every part runs, numbers mean little

Each part is a shortened run of the script named in the summary table, which reproduces the result
properly (more epochs, more seeds, every variant). Progress goes to stderr; each part prints its
headline on stdout when it finishes, and a table of the wall-clock and CPU seconds of every part
ends the tour. A part imports what it uses when it runs, so ``--only`` loads one family.

    word2vec        one epoch of CBOW with the random softmax loss on the English corpus; neighbours
    glove           simpler GloVe for a few iterations; the smallest-norm words (stop words, spec §2.5)
    capsule         Su's capsule net (su2 routing) trained on single digits for one epoch; the
                    two-digit read-out of stacked pairs it never saw
    transformer     a byte-level RoPE model trained at length N; accuracy at N and 4N with full
                    attention and with the window "super-baseline"
    transformer_vq  blockwise VQ attention equals its quadratic form; its time grows like T, not T²
    perturb_max     probabilities P[argmax(μ + ε) = i] of several noise laws against Monte Carlo
    engine          an MLP on the MNIST digits with the autograd engine, saved and reloaded
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Budget:
    """The sizes of every part; ``FULL`` is the tour, ``QUICK`` the smoke test."""

    word2vec_corpus: str = "english"
    word2vec_dim: int = 64
    glove_corpus: str = "english"
    glove_dim: int = 64
    glove_epochs: int = 5
    capsule_train: int = 4000
    capsule_epochs: int = 1
    capsule_test: int = 1000
    capsule_batch: int = 32
    capsule_lr: float = 3e-3
    lm_dim: int = 32
    lm_seq_len: int = 32
    lm_steps: int = 300
    lm_windows: int = 32
    vq_lengths: tuple[int, ...] = (1024, 2048, 4096)
    monte_carlo_samples: int = 200_000
    mlp_hidden: int = 256
    mlp_train: int = 4000
    mlp_epochs: int = 10


FULL = Budget()
QUICK = Budget(word2vec_corpus="lee", word2vec_dim=16, glove_corpus="lee", glove_dim=16, glove_epochs=2,
               capsule_train=100, capsule_test=100, lm_dim=16, lm_seq_len=16, lm_steps=5, lm_windows=4,
               vq_lengths=(128, 256),
               monte_carlo_samples=20_000, mlp_hidden=64, mlp_train=2000, mlp_epochs=4)

WORD2VEC_PROBES = ("king", "water", "god", "three")
PERTURB_MAX_LAWS = ("gumbel", "normal", "uniform", "exponential", "cauchy")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def word2vec(budget: Budget, seed: int, out: Path) -> str:
    from scratch.models.word2vec import Word2Vec

    model = Word2Vec(dim=budget.word2vec_dim, epochs=1, seed=seed, threads=1)
    model.fit(budget.word2vec_corpus)
    lines = [f"loss {model.history[-1]['loss']:.3f} after one epoch of {len(model.vocab) - 1:,} words"]
    for word in WORD2VEC_PROBES:
        if word in model.vocab:
            lines.append(f"{word} → " + ", ".join(w for w, _ in model.most_similar(word, topn=5)))
    return "; ".join(lines)


def glove(budget: Budget, seed: int, out: Path) -> str:
    from scratch.models.glove import SimplerGloVe, analysis

    model = SimplerGloVe(dim=budget.glove_dim, epochs=budget.glove_epochs, seed=seed, threads=1)
    model.fit(budget.glove_corpus)
    rho, smallest = analysis.norm_frequency(model.vectors, model.vocab.words, model.vocab.counts, 12)
    return (f"Spearman(‖v‖, log count) = {rho:.2f}; smallest norms: " + " ".join(w for w, _ in smallest))


def capsule(budget: Budget, seed: int, out: Path) -> str:
    from scratch.datasets import load_mnist
    from scratch.models.capsule import EVAL_BATCH_SIZE, build_model, margin_loss, two_digit_metrics, two_digit_pairs
    from scratch.optim import Adam
    from scratch.training import fit, predict

    x_train, y_train, x_test, y_test = load_mnist(n_train=budget.capsule_train, n_test=budget.capsule_test, seed=seed)
    rng = np.random.default_rng(seed)
    model = build_model("su2", rng=rng)
    optimizer = Adam(model.parameters(), lr=budget.capsule_lr)
    fit(model, margin_loss, optimizer, x_train, y_train, epochs=budget.capsule_epochs,
        batch_size=budget.capsule_batch, rng=rng)
    single = float(np.mean(predict(model, x_test, EVAL_BATCH_SIZE).argmax(axis=1) == y_test))
    pairs, labels = two_digit_pairs(x_test, y_test, permutations=1, seed=seed)
    metrics = two_digit_metrics(predict(model, pairs, EVAL_BATCH_SIZE), labels)
    return (f"a short run, {budget.capsule_epochs} epoch(s) on {len(x_train)} single digits: {100 * single:.1f}% of "
            f"single digits; both digits of {len(pairs)} stacked pairs in the top 2: {100 * metrics['top2']:.1f}% "
            f"(chance 1/45 = 2.2%; 30 epochs: 67%)")


def transformer(budget: Budget, seed: int, out: Path) -> str:
    from scratch.datasets import lm_corpus_split, random_batches
    from scratch.models.transformer import TransformerConfig, TransformerLM
    from scratch.training import TrainConfig, evaluate_lm, train_lm

    n = budget.lm_seq_len
    train, val, _ = lm_corpus_split()
    model = TransformerLM(TransformerConfig(dim=budget.lm_dim, layers=2, heads=2, ffn_dim=4 * budget.lm_dim,
                                            train_len=n), rng=np.random.default_rng(seed))
    train_lm(model, train, TrainConfig(seq_len=n, batch_size=16, steps=budget.lm_steps,
                                       warmup=min(50, budget.lm_steps), seed=seed))
    model.eval()
    cells = []
    for length in (n, 4 * n):
        x, y = random_batches(val, budget.lm_windows, length, np.random.default_rng(seed))
        full = evaluate_lm(model, x, y)["accuracy"]
        window = evaluate_lm(lambda ids: model(ids, window=n), x, y)["accuracy"]
        cells.append(f"T={length}: full {100 * full:.1f}%, window {100 * window:.1f}%")
    return f"RoPE trained at N={n} for {budget.lm_steps} steps, next-byte accuracy " + "; ".join(cells)


def transformer_vq(budget: Budget, seed: int, out: Path) -> str:
    from scratch.kernels.vq_attention import quadratic_vq_attention, vq_attention

    rng = np.random.default_rng(seed)
    block, codes_count, dim = 128, 64, 32

    def problem(length: int):
        codebook = rng.standard_normal((codes_count, dim))
        codes = rng.integers(0, codes_count, (1, length))
        q, v = rng.standard_normal((1, length, dim)), rng.standard_normal((1, length, dim))
        return q, codebook[codes], v, codes, codebook

    q, k_hat, v, codes, codebook = problem(3 * block + 17)
    gap = np.abs(vq_attention(q, k_hat, v, codes, codebook, block=block).data
                 - quadratic_vq_attention(q, k_hat, v, codes, codebook, block=block).data).max()
    times = {}
    for length in budget.vq_lengths:
        inputs = problem(length)
        times[length] = [min(_cpu_seconds(lambda: attention(*inputs, block=block)) for _ in range(3))
                         for attention in (vq_attention, quadratic_vq_attention)]
    first, last = budget.vq_lengths[0], budget.vq_lengths[-1]
    growth = [times[last][i] / times[first][i] for i in range(2)]
    return (f"max |blockwise − quadratic| = {gap:.1e} at T={3 * block + 17}; "
            f"T {first} → {last} (×{last // first}): CPU time of VQ ×{growth[0]:.1f}, of the quadratic form "
            f"×{growth[1]:.1f} ({1e3 * times[last][0]:.0f} ms vs {1e3 * times[last][1]:.0f} ms at T={last})")


def perturb_max(budget: Budget, seed: int, out: Path) -> str:
    from scratch.models.perturb_max import perturb_max_probs, perturb_max_sample

    rng = np.random.default_rng(seed)
    mu = np.array([[1.0, 0.5, 0.0, -0.5, -1.0]])
    n = budget.monte_carlo_samples
    cells = []
    for law in PERTURB_MAX_LAWS:
        exact = perturb_max_probs(mu, law).data[0]
        frequency = perturb_max_sample(np.repeat(mu, n, axis=0), law, rng=rng).data.mean(axis=0)
        standard_error = np.sqrt(exact * (1 - exact) / n)
        cells.append(f"{law} p₀={exact[0]:.3f} ({np.abs(exact - frequency).max() / standard_error.max():.1f})")
    gumbel = perturb_max_probs(mu, "gumbel").data[0]
    softmax = np.exp(mu[0]) / np.exp(mu[0]).sum()
    return (f"μ = {mu[0].tolist()}; largest |p − Monte Carlo| over {n:,} samples, in standard errors: "
            + ", ".join(cells) + f"; |Gumbel − softmax| = {np.abs(gumbel - softmax).max():.1e}")


def engine(budget: Budget, seed: int, out: Path) -> str:
    from scratch import checkpoint, functional as F, nn, optim
    from scratch.datasets import load_mnist
    from scratch.training import accuracy, fit

    def mlp(rng: np.random.Generator) -> nn.Module:
        hidden = budget.mlp_hidden
        return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, hidden, rng=rng), nn.ReLU(),
                             nn.Linear(hidden, hidden, rng=rng), nn.ReLU(), nn.Linear(hidden, 10, rng=rng))

    x_train, y_train, x_test, y_test = load_mnist(n_train=budget.mlp_train, seed=seed)
    rng = np.random.default_rng(seed)
    model = mlp(rng)
    optimizer = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    fit(model, F.cross_entropy, optimizer, x_train, y_train, epochs=budget.mlp_epochs, batch_size=64, rng=rng)
    test_accuracy = accuracy(model, x_test, y_test)
    path = checkpoint.save(out / "mlp.npz", model, optimizer, seed=seed, test_accuracy=test_accuracy)
    reloaded = mlp(np.random.default_rng(seed + 1))
    checkpoint.load(path, reloaded)
    if accuracy(reloaded, x_test, y_test) != test_accuracy:
        raise RuntimeError(f"the model reloaded from {path} scores differently from the one saved")
    return (f"MLP 784-{budget.mlp_hidden}-{budget.mlp_hidden}-10, {budget.mlp_epochs} epochs on {len(x_train)} "
            f"digits: {100 * test_accuracy:.1f}% on {len(x_test)} held out; {path} reloads to the same score")


def _cpu_seconds(run: Callable[[], object]) -> float:
    """CPU time of ``run()``: unlike wall-clock time, it does not count the other processes of a busy machine."""
    start = time.process_time()
    run()
    return time.process_time() - start


PARTS: dict[str, tuple[Callable[[Budget, int, Path], str], str]] = {
    "word2vec": (word2vec, "train_word2vec.py"),
    "glove": (glove, "train_glove.py, analyze_glove.py"),
    "capsule": (capsule, "reproduce_capsule.py"),
    "transformer": (transformer, "reproduce_extrapolation.py"),
    "transformer_vq": (transformer_vq, "bench_vq_attention.py, train_transformer_vq.py"),
    "perturb_max": (perturb_max, "reproduce_perturb_max.py"),
    "engine": (engine, "bench.py engine (speed against torch)"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=list(PARTS), help="run this part (repeatable)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test; the numbers mean little)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/tour"), help="where the engine's checkpoint goes")
    args = parser.parse_args(argv)
    budget = QUICK if args.quick else FULL
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.only or PARTS:
        run, scripts = PARTS[name]
        say(f"== {name} ==")
        wall, cpu = time.perf_counter(), time.process_time()
        headline = run(budget, args.seed, args.out)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{name}: {headline}", flush=True)
        rows.append((name, wall, cpu, scripts))
    print("\n| part | wall s | CPU s | the full run |\n|---|---|---|---|")
    for name, wall, cpu, scripts in rows:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {scripts} |")
    print(f"| total | {sum(r[1] for r in rows):.1f} | {sum(r[2] for r in rows):.1f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
