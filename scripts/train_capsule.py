"""Train one capsule network (or the CNN baseline) on single digits; evaluate on one and two digits.

Models: su2 / su1 / sabour (Su's conv stack + shared-weight capsule layer with that routing), cnn
(same stack, global average pooling, dense, sigmoid), capsnet (Sabour's CapsNet with PrimaryCaps,
full weights and the reconstruction decoder; 28×28 only, so no two-digit test). All use the margin
loss. A checkpoint (model, Adam state, epoch, shuffling state, flags) is written after every epoch;
``--resume`` continues from it with the same flags (only ``--epochs`` may change), ``--overwrite``
starts afresh.

    python scripts/train_capsule.py                                  # su2, widths 16-16-32-32, 30 epochs
    python scripts/train_capsule.py --model capsnet --conv-channels 64 --primary-channels 8   # Sabour's margin settings
"""
from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path

import numpy as np

from scratch import checkpoint
from scratch.cli import add_config_arguments, add_run_arguments, config_from_arguments, run_config, run_folder
from scratch.datasets.mnist import IMAGE_SETS, load_mnist
from scratch.kernels.routing import DEFAULT_ITERATIONS
from scratch.memory import keep_freed_memory
from scratch.models.capsule import (EVAL_BATCH_SIZE, MODEL_NAMES, SABOUR_MARGIN, SCALAR_REDUCTIONS, SMALL_WIDTHS,
                                    SQUASH_EPS, SU_WIDTHS, TWO_DIGIT_MODELS, Margin, SabourCapsNet, Training,
                                    build_model, two_digit_metrics, two_digit_pairs)
from scratch.optim import Adam
from scratch.training import accuracy, fit, predict

CAPSNET = inspect.signature(SabourCapsNet).parameters
DATA = inspect.signature(load_mnist).parameters
PAIRS = inspect.signature(two_digit_pairs).parameters
# The one setting a resumed run may change: how many epochs it trains.
MAY_CHANGE = ("epochs",)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default="su2", choices=MODEL_NAMES)
    p.add_argument("--widths", nargs=4, type=int, default=list(SMALL_WIDTHS),
                   help=f"conv widths (Su: {' '.join(map(str, SU_WIDTHS))})")
    p.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS, help="routing iterations r")
    p.add_argument("--eps", type=float, default=None, help=f"squash ε (default by model: {SQUASH_EPS})")
    p.add_argument("--stop-gradient", action="store_true", help="detach predictions in the inner routing iterations")
    add_config_arguments(p, Margin, defaults={"lam": None, "reduction": None}, choices={"reduction": SCALAR_REDUCTIONS},
                         help_texts={"lam": f"λ, the weight of the absent classes (by model: {Margin.lam}, capsnet "
                                            f"{SABOUR_MARGIN.lam})",
                                     "reduction": f"over classes and batch (by model: {Margin.reduction}, capsnet "
                                                  f"{SABOUR_MARGIN.reduction})"})
    p.add_argument("--conv-channels", type=int, default=CAPSNET["conv_channels"].default,
                   help="capsnet: channels of the 9×9 conv")
    p.add_argument("--primary-channels", type=int, default=CAPSNET["primary_channels"].default,
                   help="capsnet: PrimaryCaps capsule maps")
    p.add_argument("--primary-dim", type=int, default=CAPSNET["primary_dim"].default,
                   help="capsnet: PrimaryCaps capsule dimension")
    p.add_argument("--capsule-dim", type=int, default=CAPSNET["capsule_dim"].default,
                   help="capsnet: output capsule dimension")
    p.add_argument("--decoder", nargs=2, type=int, default=list(CAPSNET["decoder"].default),
                   help="capsnet: decoder hidden sizes")
    p.add_argument("--recon-weight", type=float, default=CAPSNET["recon_weight"].default,
                   help="capsnet: reconstruction loss weight (0: none)")
    p.add_argument("--dataset", default=DATA["name"].default, choices=list(IMAGE_SETS))
    p.add_argument("--n-train", type=int, default=DATA["n_train"].default)
    p.add_argument("--n-test", type=int, default=DATA["n_test"].default)
    p.add_argument("--data-seed", type=int, default=DATA["seed"].default, help="seed of the train/test split")
    p.add_argument("--permutations", type=int, default=PAIRS["permutations"].default,
                   help="permutations building the two-digit test set")
    p.add_argument("--pair-seed", type=int, default=PAIRS["seed"].default)
    add_config_arguments(p, Training)
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation and batch order")
    add_run_arguments(p, "runs/capsule", MAY_CHANGE)
    args = p.parse_args(argv)
    try:
        model_margin = SABOUR_MARGIN if args.model == "capsnet" else Margin()  # each model's own settings
        for name in ("lam", "reduction"):
            if getattr(args, name) is None:
                setattr(args, name, getattr(model_margin, name))
        args.margin, args.training = config_from_arguments(Margin, args), config_from_arguments(Training, args)
    except ValueError as error:
        p.error(str(error))
    return args


def main(argv=None) -> None:
    keep_freed_memory()  # the arrays freed every step are reused, not faulted in again
    args = parse_args(argv)
    config = run_config(args, skip=("margin", "training"))
    with run_folder(args, config, MAY_CHANGE, script=__file__, argv=argv) as path:
        train_and_evaluate(args, config, path)


def train_and_evaluate(args: argparse.Namespace, config: dict, path: Path) -> None:
    """Train (or resume) the run of ``args`` with its checkpoint at ``path``; write and print the results."""
    out = path.parent
    x_train, y_train, x_test, y_test = load_mnist(args.dataset, args.n_train, args.n_test, args.data_seed)
    rng = np.random.default_rng(args.seed)
    margin, training = args.margin, args.training
    capsnet = {}
    if args.model == "capsnet":
        capsnet = {"conv_channels": args.conv_channels, "primary_channels": args.primary_channels,
                   "primary_dim": args.primary_dim, "capsule_dim": args.capsule_dim,
                   "decoder": tuple(args.decoder), "recon_weight": args.recon_weight}
    model = build_model(args.model, tuple(args.widths), iterations=args.iterations, eps=args.eps,
                        stop_gradient=args.stop_gradient, margin=margin, rng=rng, **capsnet)
    optimizer = Adam(model.parameters(), lr=training.lr)
    start_epoch = 0
    if args.resume:
        meta = checkpoint.load(path, model, optimizer)
        start_epoch = int(meta["epoch"])
        rng.bit_generator.state = json.loads(meta["rng_state"])
        print(f"resumed from {path} at epoch {start_epoch}", file=sys.stderr)

    def on_epoch_end(epoch: int, loss: float) -> None:
        test_accuracy = accuracy(model, x_test, y_test, EVAL_BATCH_SIZE)
        print(f"epoch {epoch}: train loss {loss:.5f}, test accuracy {test_accuracy:.4f}", file=sys.stderr)
        checkpoint.save(path, model, optimizer, epoch=epoch, rng_state=json.dumps(rng.bit_generator.state),
                        model_name=args.model, config=checkpoint.encode_config(config))

    fit(model, model.loss, optimizer, x_train, y_train, epochs=training.epochs, batch_size=training.batch_size,
        rng=rng, loss_of="inputs", even_batches=True, start_epoch=start_epoch, on_epoch_end=on_epoch_end)
    results = {"model": args.model, "seed": args.seed, "epochs": training.epochs,
               "single": accuracy(model, x_test, y_test, EVAL_BATCH_SIZE)}
    if args.model in TWO_DIGIT_MODELS:
        images, pairs = two_digit_pairs(x_test, y_test, args.permutations, args.pair_seed)
        results.update(two_digit_metrics(predict(model, images, EVAL_BATCH_SIZE), pairs), pairs=len(pairs))
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
