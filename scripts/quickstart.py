"""Quickstart: train an MLP on the shipped MNIST digits with the scratch engine.

Trains on 4,000 digits, reports accuracy on the 1,000 held out, saves a checkpoint, reloads it
into a fresh model and checks that the reloaded model scores the same.

    python scripts/quickstart.py            # a few seconds on 2 cores: about 94% test accuracy
    python scripts/quickstart.py --help
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from scratch import checkpoint, functional as F, nn, optim
from scratch.datasets import load_mnist
from scratch.training import accuracy, fit


def make_mlp(hidden: int, rng: np.random.Generator) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, hidden, rng=rng),
        nn.ReLU(),
        nn.Linear(hidden, hidden, rng=rng),
        nn.ReLU(),
        nn.Linear(hidden, 10, rng=rng),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, default=256, help="width of the two hidden layers")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    parser.add_argument("--weight-decay", type=float, default=1e-4, help="AdamW decoupled weight decay")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/quickstart"), help="checkpoint directory")
    args = parser.parse_args(argv)

    x_train, y_train, x_test, y_test = load_mnist(seed=args.seed)
    rng = np.random.default_rng(args.seed)
    model = make_mlp(args.hidden, rng)
    optimizer = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    print(f"MLP 784-{args.hidden}-{args.hidden}-10 ({model.num_parameters():,} parameters), "
          f"{len(x_train)} training / {len(x_test)} test digits", file=sys.stderr)

    def report(epoch: int, train_loss: float) -> None:
        print(f"epoch {epoch}: train loss {train_loss:.4f}, test accuracy "
              f"{accuracy(model, x_test, y_test):.4f}", file=sys.stderr)

    start = time.perf_counter()
    fit(model, F.cross_entropy, optimizer, x_train, y_train, epochs=args.epochs,
        batch_size=args.batch_size, rng=rng, on_epoch_end=report)
    seconds = time.perf_counter() - start
    test_accuracy = accuracy(model, x_test, y_test)

    path = checkpoint.save(args.out / "mlp.npz", model, optimizer, epochs=args.epochs, seed=args.seed,
                           hidden=args.hidden, test_accuracy=test_accuracy)
    reloaded = make_mlp(args.hidden, np.random.default_rng(args.seed + 1))
    meta = checkpoint.load(path, reloaded)
    reloaded_accuracy = accuracy(reloaded, x_test, y_test)
    if reloaded_accuracy != meta["test_accuracy"]:
        print(f"checkpoint check FAILED: {reloaded_accuracy:.4f} after reload, "
              f"{meta['test_accuracy']:.4f} saved", file=sys.stderr)
        return 1
    print(f"test accuracy {test_accuracy:.4f} after {args.epochs} epochs in {seconds:.1f} s; "
          f"checkpoint {path} reloaded with the same accuracy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
