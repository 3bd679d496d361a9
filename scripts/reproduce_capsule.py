"""Su's two-digit experiment (spec capsule.md §6, §8): train on single digits, recognise both of two stacked ones.

Each (model, seed) run trains on the shipped MNIST-5k split (4,000 train / 1,000 test, split seed
``--data-seed``), then scores the single-digit test set and the two-digit test set (each test image
stacked above a permuted partner, 56×28, same-label pairs dropped, ``--permutations`` fixed
permutations). A run stores its metrics (``runs/<model>_seed<s>.json``) and weights (``.npz``) under
``--out`` and is skipped when they exist, so runs can be split over processes (e.g. one per seed)
and the table is printed from whatever runs are complete.

    python scripts/reproduce_capsule.py                       # CNN, su2, su1, sabour × seeds 0 1
    python scripts/reproduce_capsule.py --models cnn su2 --seeds 0 1 2 --widths 64 64 128 128
"""
from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path

import numpy as np

from scratch import checkpoint
from scratch.cli import add_config_arguments, config_from_arguments
from scratch.datasets.mnist import IMAGE_SETS, load_mnist
from scratch.kernels.routing import DEFAULT_ITERATIONS
from scratch.memory import keep_freed_memory
from scratch.models.capsule import (EVAL_BATCH_SIZE, SMALL_WIDTHS, SU_WIDTHS, TWO_DIGIT_MODELS, Training, build_model,
                                    routing_coefficients, two_digit_metrics, two_digit_pairs)
from scratch.optim import Adam
from scratch.training import accuracy, fit, predict

METRICS = ("single", "top2", "top2_confident")
DATA = inspect.signature(load_mnist).parameters
PAIRS = inspect.signature(two_digit_pairs).parameters


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--models", nargs="+", default=list(TWO_DIGIT_MODELS), choices=TWO_DIGIT_MODELS,
                   help="models to train (routing modes or cnn)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1], help="model seeds (init and batch order)")
    p.add_argument("--dataset", default=DATA["name"].default, choices=list(IMAGE_SETS),
                   help="image set (fashion needs fetch_data --optional)")
    p.add_argument("--n-train", type=int, default=DATA["n_train"].default)
    p.add_argument("--n-test", type=int, default=DATA["n_test"].default)
    p.add_argument("--data-seed", type=int, default=DATA["seed"].default, help="seed of the train/test split")
    p.add_argument("--permutations", type=int, default=PAIRS["permutations"].default,
                   help="permutations building the two-digit test set")
    p.add_argument("--pair-seed", type=int, default=PAIRS["seed"].default, help="seed of those permutations")
    p.add_argument("--widths", nargs=4, type=int, default=list(SMALL_WIDTHS),
                   help=f"conv widths (Su: {' '.join(map(str, SU_WIDTHS))})")
    p.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS, help="routing iterations r")
    add_config_arguments(p, Training)
    p.add_argument("--out", default="runs/capsule_two_digit", help="directory for run files, table and figure")
    args = p.parse_args(argv)
    try:
        args.training = config_from_arguments(Training, args)
    except ValueError as error:
        p.error(str(error))
    return args


def run_one(args, name: str, seed: int, data, pairs, run_dir: Path) -> dict:
    """Train model ``name`` with ``seed`` and return its metrics; cached in run_dir."""
    result_path, weights_path = run_dir / f"{name}_seed{seed}.json", run_dir / f"{name}_seed{seed}.npz"
    if result_path.exists() and weights_path.exists():
        return json.loads(result_path.read_text())
    x_train, y_train, x_test, y_test = data
    rng = np.random.default_rng(seed)
    model = build_model(name, tuple(args.widths), iterations=args.iterations, rng=rng)
    optimizer = Adam(model.parameters(), lr=args.training.lr)
    print(f"training {name}, seed {seed}", file=sys.stderr)
    start = time.perf_counter()
    history = fit(model, model.loss, optimizer, x_train, y_train, epochs=args.training.epochs,
                  batch_size=args.training.batch_size, rng=rng, loss_of="inputs", even_batches=True)
    seconds = time.perf_counter() - start
    result = {"model": name, "seed": seed, "single": accuracy(model, x_test, y_test, EVAL_BATCH_SIZE),
              **two_digit_metrics(predict(model, pairs[0], EVAL_BATCH_SIZE), pairs[1]),
              "final_loss": history[-1], "train_seconds": seconds}
    checkpoint.save(weights_path, model, None, model_name=name, seed=seed)
    result_path.write_text(json.dumps(result, indent=1))
    return result


def summary_table(results: list[dict], models: list[str]) -> str:
    lines = ["| model | runs | single-digit acc | two-digit top-2 | top-2, 2nd score > 0.5 |", "|---|---|---|---|---|"]
    for name in models:
        rows = [r for r in results if r["model"] == name]
        if not rows:
            continue
        cells = []
        for key in METRICS:
            values = 100 * np.array([r[key] for r in rows])
            cells.append(f"{values.mean():.1f} ± {values.std():.1f} ({', '.join(f'{v:.1f}' for v in values)})")
        lines.append(f"| {name} | {len(rows)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save_figure(args, pairs, out: Path, seed: int) -> Path | None:
    """A few two-digit images with the top-2 classes and scores of the CNN and the su2 capsule net, and
    below each the su2 coupling coefficients of its two top classes on the 22×8 feature grid (c₁ − c₂)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    images, labels = pairs[0][:8], pairs[1][:8]
    models = {}
    for name in ("cnn", "su2"):
        path = out / "runs" / f"{name}_seed{seed}.npz"
        if path.exists():
            models[name] = build_model(name, tuple(args.widths), iterations=args.iterations)
            checkpoint.load(path, models[name])
    scores = {name: predict(model, images, EVAL_BATCH_SIZE) for name, model in models.items()}
    fig, axes = plt.subplots(2 if "su2" in models else 1, len(images), figsize=(2 * len(images), 7), squeeze=False)
    for i in range(len(images)):
        ax = axes[0, i]
        ax.imshow(images[i], cmap="gray_r")
        ax.set_axis_off()
        text = [f"true {labels[i][0]},{labels[i][1]}"]
        for name, s in scores.items():
            top = np.argsort(s[i])[::-1][:2]
            text.append(f"{name}: {top[0]} {s[i][top[0]]:.2f}, {top[1]} {s[i][top[1]]:.2f}")
        ax.set_title("\n".join(text), fontsize=7)
    if "su2" in models:
        c = routing_coefficients(models["su2"], images)
        for i in range(len(images)):
            first, second = np.argsort(scores["su2"][i])[::-1][:2]
            ax = axes[1, i]
            difference = c[i, first] - c[i, second]
            scale = max(np.abs(difference).max(), 1e-6)
            ax.imshow(difference, cmap="coolwarm", vmin=-scale, vmax=scale)
            ax.set_title(f"c[{first}] − c[{second}], ±{scale:.2f}", fontsize=7)
            ax.set_axis_off()
    fig.tight_layout()
    path = out / "two_digit_examples.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> None:
    keep_freed_memory()  # the arrays freed every step are reused, not faulted in again
    args = parse_args(argv)
    out = Path(args.out)
    run_dir = out / "runs"
    run_dir.mkdir(parents=True, exist_ok=True)
    data = load_mnist(args.dataset, n_train=args.n_train, n_test=args.n_test, seed=args.data_seed)
    pairs = two_digit_pairs(data[2], data[3], args.permutations, args.pair_seed)
    print(f"{len(data[0])} training images, {len(data[2])} test images, {len(pairs[0])} two-digit test images",
          file=sys.stderr)
    results = [run_one(args, name, seed, data, pairs, run_dir) for seed in args.seeds for name in args.models]
    table = summary_table(results, args.models)
    (out / "results.md").write_text(table + "\n")
    print(f"{args.dataset}: {len(data[0])} train / {len(data[2])} test images, {len(pairs[0])} two-digit pairs, "
          f"widths {'-'.join(map(str, args.widths))}, {args.training.epochs} epochs, seeds {args.seeds} "
          "(mean ± population std over seeds, then each seed), in %:")
    print(table)
    figure = save_figure(args, pairs, out, args.seeds[0])
    if figure is not None:
        print(f"figure: {figure}")


if __name__ == "__main__":
    main()
