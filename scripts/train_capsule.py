"""Train one capsule network (or the CNN baseline) on single digits; evaluate on one and two digits.

Models: su2 / su1 / sabour (Su's conv stack + shared-weight capsule layer with that routing), cnn
(same stack, global average pooling, dense, sigmoid), capsnet (Sabour's CapsNet with PrimaryCaps,
full weights and the reconstruction decoder; 28×28 only, so no two-digit test). All use the margin
loss. A checkpoint (model, Adam state, epoch, shuffling state) is written after every epoch;
``--resume`` continues from it.

    python scripts/train_capsule.py                                  # su2, widths 16-16-32-32, 30 epochs
    python scripts/train_capsule.py --model capsnet --conv-channels 64 --primary-channels 8 --lam 0.5 --reduction sum
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from scratch import checkpoint
from scratch.datasets.mnist import load_mnist
from scratch.models.capsule.networks import (MODEL_NAMES, SMALL_WIDTHS, build_model, predict_scores, train,
                                         two_digit_metrics, two_digit_pairs)
from scratch.optim import Adam


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="su2", choices=MODEL_NAMES)
    p.add_argument("--widths", nargs=4, type=int, default=list(SMALL_WIDTHS), help="conv widths (Su: 64 64 128 128)")
    p.add_argument("--iterations", type=int, default=3, help="routing iterations r")
    p.add_argument("--eps", type=float, default=None, help="squash ε (default 1 for sabour/capsnet, else 0.5)")
    p.add_argument("--stop-gradient", action="store_true", help="detach predictions in the inner routing iterations")
    p.add_argument("--m-pos", type=float, default=0.9)
    p.add_argument("--m-neg", type=float, default=0.1)
    p.add_argument("--lam", type=float, default=0.25, help="λ of the margin loss (Su 0.25 mean, Sabour 0.5 sum)")
    p.add_argument("--reduction", default="mean", choices=["mean", "sum"])
    p.add_argument("--conv-channels", type=int, default=256, help="capsnet: channels of the 9×9 conv")
    p.add_argument("--primary-channels", type=int, default=32, help="capsnet: PrimaryCaps capsule maps")
    p.add_argument("--primary-dim", type=int, default=8, help="capsnet: PrimaryCaps capsule dimension")
    p.add_argument("--capsule-dim", type=int, default=16, help="capsnet: output capsule dimension")
    p.add_argument("--decoder", nargs=2, type=int, default=[512, 1024], help="capsnet: decoder hidden sizes")
    p.add_argument("--recon-weight", type=float, default=0.0005, help="capsnet: reconstruction loss weight (0: none)")
    p.add_argument("--dataset", default="mnist", choices=["mnist", "fashion"])
    p.add_argument("--n-train", type=int, default=4000)
    p.add_argument("--n-test", type=int, default=1000)
    p.add_argument("--data-seed", type=int, default=0, help="seed of the train/test split")
    p.add_argument("--permutations", type=int, default=3, help="permutations building the two-digit test set")
    p.add_argument("--pair-seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation and batch order")
    p.add_argument("--out", default="runs/capsule", help="directory for the checkpoint and results")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    x_train, y_train, x_test, y_test = load_mnist(args.dataset, args.n_train, args.n_test, args.data_seed)
    rng = np.random.default_rng(args.seed)
    margin = {"m_pos": args.m_pos, "m_neg": args.m_neg, "lam": args.lam, "reduction": args.reduction}
    capsnet = {}
    if args.model == "capsnet":
        capsnet = {"conv_channels": args.conv_channels, "primary_channels": args.primary_channels,
                   "primary_dim": args.primary_dim, "capsule_dim": args.capsule_dim,
                   "decoder": tuple(args.decoder), "recon_weight": args.recon_weight}
    model = build_model(args.model, tuple(args.widths), iterations=args.iterations, eps=args.eps,
                        stop_gradient=args.stop_gradient, margin=margin, rng=rng, **capsnet)
    optimizer = Adam(model.parameters(), lr=args.lr)
    path = out / "checkpoint.npz"
    start_epoch = 0
    if args.resume:
        meta = checkpoint.load(path, model, optimizer)
        start_epoch = int(meta["epoch"])
        rng.bit_generator.state = json.loads(meta["rng_state"])
        print(f"resumed from {path} at epoch {start_epoch}", file=sys.stderr)

    def on_epoch_end(epoch: int, loss: float) -> None:
        accuracy = np.mean(predict_scores(model, x_test).argmax(axis=1) == y_test)
        print(f"epoch {epoch}: train loss {loss:.5f}, test accuracy {accuracy:.4f}", file=sys.stderr)
        checkpoint.save(path, model, optimizer, epoch=epoch, rng_state=json.dumps(rng.bit_generator.state),
                        model_name=args.model)

    train(model, optimizer, x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, rng=rng,
          start_epoch=start_epoch, on_epoch_end=on_epoch_end)
    results = {"model": args.model, "seed": args.seed, "epochs": args.epochs,
               "single": float(np.mean(predict_scores(model, x_test).argmax(axis=1) == y_test))}
    if args.model != "capsnet":
        images, pairs = two_digit_pairs(x_test, y_test, args.permutations, args.pair_seed)
        results.update(two_digit_metrics(predict_scores(model, images), pairs), pairs=len(pairs))
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
