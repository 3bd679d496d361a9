"""The length-extrapolation experiment of spec Part B (B.5): train at length N, evaluate at N … 8N.

Each training variant (``TRAINING_VARIANTS``) is a ``TransformerConfig`` change; HWFA's window is the
largest whose receptive field stays within 3/4 of N (``hwfa_window``). Each inference variant
(``INFERENCE_VARIANTS``) is a set of keyword arguments of ``TransformerLM.forward`` applied to a
trained model without retraining:

    full          the model as trained, over all T keys (direct extrapolation)
    window        the "super-baseline" of part 7: every layer sees only its last N keys
    log_n_clip    log n†: q_i · max(1, log_N(i + 1)) (part 11), full attention; RoPE and XPOS models
    rerope        ReRoPE with w = N/2 (part 12), and ``rerope+log_n_clip`` with log n† added
    leaky_rerope  Leaky ReRoPE with w = N/2, k = ``LEAKY_REROPE_K`` = 16
    rerope_w=…    ReRoPE with the other windows of the sweep, w = N/8, N/4, 3N/4
    pi, ntk, yarn RoPE's frequencies rescaled for s = T/N: position interpolation, NTK-aware scaling,
                  YaRN (``rope_scaling`` of ``TransformerLM.forward``); RoPE and XPOS models

Every (training variant, inference variant, length) cell reports next-token accuracy and loss on
fixed held-out windows (``natural``), and accuracy on the second half of "u ‖ u" windows (``copy``),
which is far above the natural accuracy only for a model that copies across distance T/2.
``seed_summary`` reduces runs over seeds to mean and spread, ``text_chart`` draws a metric per test
length as fixed-width bars (for a README or a terminal without matplotlib).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ... import validation
from ...training.lm import evaluate_lm, evaluation_windows, repeated_windows
from .model import ROTARY, TransformerConfig, TransformerLM, check_config

# in the order of the experiment's tables; hwfa_window None stands for ``hwfa_window(N, L)``
TRAINING_VARIANTS: dict[str, dict] = {
    "rope": {"position": "rope"},
    "rope_log_n": {"position": "rope", "log_n": True},
    "alibi": {"position": "alibi"},
    "kerple_log": {"position": "kerple_log"},
    "kerple_power": {"position": "kerple_power"},
    "sandwich": {"position": "sandwich"},
    "xpos": {"position": "xpos"},
    "hwfa": {"position": "rope", "hwfa_window": None},
    "nope": {"position": "nope"},
    "sinusoidal": {"position": "sinusoidal"},
}
INFERENCE_VARIANTS = ("full", "window", "log_n_clip", "rerope", "rerope+log_n_clip", "leaky_rerope",
                      "rerope_w=N/8", "rerope_w=N/4", "rerope_w=3N/4", "pi", "ntk", "yarn")
REROPE_SWEEP = {"rerope_w=N/8": (1, 8), "rerope_w=N/4": (1, 4), "rerope_w=3N/4": (3, 4)}
LEAKY_REROPE_K = 16.0
HWFA_ALPHA = 0.75


def hwfa_window(train_len: int, layers: int, alpha: float = HWFA_ALPHA) -> int:
    """The largest w with receptive field (w − 1)(L − 1) + 1 ≤ α N (spec part 9), at least 2.

    train_len: N ≥ 1;  layers: L ≥ 1;  alpha: α in (0, 1].
    """
    train_len = validation.positive_int("train_len", train_len)
    layers = validation.positive_int("layers", layers)
    alpha = validation.probability("alpha", alpha, allow_zero=False)
    return max(2, int((alpha * train_len - 1) // max(layers - 1, 1)) + 1)


def training_config(base: TransformerConfig, variant: str) -> TransformerConfig:
    """``base`` with the changes of a named training variant (one of ``TRAINING_VARIANTS``)."""
    check_config("base", base)
    validation.choice("variant", variant, TRAINING_VARIANTS)
    changes = dict(TRAINING_VARIANTS[variant])
    if "hwfa_window" in changes:
        changes["hwfa_window"] = hwfa_window(base.train_len, base.layers)
    return replace(base, **changes)


def inference_variants(config: TransformerConfig) -> dict[str, dict]:
    """The inference variants that apply to a trained configuration (and change its output), as forward
    keyword arguments, in the order of ``INFERENCE_VARIANTS``."""
    check_config("config", config)
    n = config.train_len
    variants = {"full": {}, "window": {"window": n}}
    # HWFA's RoPE layers see distances < hwfa_window only and its full layer has no RoPE, so ReRoPE with
    # w ≥ hwfa_window would clip nothing and equal "full"
    rerope_changes_something = config.hwfa_window is None or config.hwfa_window > n // 2
    if config.position in ROTARY:
        variants["log_n_clip"] = {"log_n_clip": True}
    if config.position in ROTARY and rerope_changes_something:
        variants["rerope"] = {"rerope": n // 2}
        variants["rerope+log_n_clip"] = {"rerope": n // 2, "log_n_clip": True}
        variants["leaky_rerope"] = {"rerope": n // 2, "leaky_k": LEAKY_REROPE_K}
        for name, (numerator, denominator) in REROPE_SWEEP.items():
            variants[name] = {"rerope": max(1, numerator * n // denominator)}
    if config.position in ROTARY:
        variants.update({method: {"rope_scaling": method} for method in ("pi", "ntk", "yarn")})
    return variants


def evaluate_extrapolation(model: TransformerLM, val: np.ndarray, lengths: list[int], windows: int,
                           seed: int = 0) -> dict[str, dict[int, dict[str, float]]]:
    """results[inference variant][T] = natural accuracy/loss/bits/tail_loss and copy accuracy/loss.

    val: the held-out token stream;  lengths: test lengths T (even, ≥ 4, for the copy test);
    windows: the number of windows per length;  seed: the seed that picks them.
    """
    if not isinstance(model, TransformerLM):
        raise TypeError(f"model must be a TransformerLM, got {type(model).__name__}")
    lengths = [validation.positive_int("lengths[]", t) for t in lengths]
    windows = validation.positive_int("windows", windows)
    seed = validation.integer("seed", seed, minimum=0)
    model.eval()
    results: dict[str, dict[int, dict[str, float]]] = {}
    texts = {t: (evaluation_windows(val, t, windows, seed), repeated_windows(val, t, windows, seed))
             for t in lengths}
    for name, kwargs in inference_variants(model.config).items():
        results[name] = {}
        for t, ((x, y), (xc, yc)) in texts.items():
            def forward(ids, kwargs=kwargs):
                return model(ids, **kwargs)
            row = evaluate_lm(forward, x, y, tail=model.config.train_len)
            copy = evaluate_lm(forward, xc, yc, score_from=t // 2)
            row.update(copy_accuracy=copy["accuracy"], copy_loss=copy["loss"])
            results[name][t] = row
    return results


def seed_summary(runs: list[dict], metric: str) -> dict[tuple[str, str], dict[int, tuple[float, float]]]:
    """Mean and spread (half the range, max − min over 2) of ``metric`` over the seeds of each variant.

    ``runs``: dicts with ``"variant"`` and ``"results"[inference][T][metric]`` (T as int or str,
    as after a JSON round trip) → summary[(variant, inference)][T] = (mean, spread), in run order.
    """
    groups: dict[tuple[str, str], dict[int, list[float]]] = {}
    for run in runs:
        for inference, cells in run["results"].items():
            for t, row in cells.items():
                groups.setdefault((run["variant"], inference), {}).setdefault(int(t), []).append(row[metric])
    return {key: {t: (float(np.mean(v)), float(np.ptp(v)) / 2) for t, v in per_length.items()}
            for key, per_length in groups.items()}


def text_chart(rows: dict[str, list[float]], columns: list[str], lo: float, hi: float, width: int = 12,
               fmt: str = ".1f") -> str:
    """A fixed-width bar chart: one line per row label, one bar per column, value v drawn as
    (v − lo)/(hi − lo) · ``width`` cells in eighth blocks (clipped to [0, width]), followed by the
    values formatted with ``fmt``."""
    lo, hi = validation.real("lo", lo), validation.real("hi", hi)
    width = validation.positive_int("width", width)
    if not hi > lo:
        raise ValueError(f"need hi > lo, got lo={lo!r}, hi={hi!r}")
    eighths = " ▏▎▍▌▋▊▉"
    label_width = max(map(len, rows), default=0)

    def bar(value: float) -> str:
        cells = int(round(min(max((value - lo) / (hi - lo), 0.0), 1.0) * width * 8))
        return ("█" * (cells // 8) + (eighths[cells % 8] if cells % 8 else "")).ljust(width)

    lines = [" " * label_width + " | " + " | ".join(c.ljust(width) for c in columns) + " |"]
    for label, values in rows.items():
        if len(values) != len(columns):
            raise ValueError(f"row {label!r} has {len(values)} values for {len(columns)} columns")
        lines.append(label.ljust(label_width) + " | " + " | ".join(bar(v) for v in values) + " | "
                     + " ".join(format(v, fmt) for v in values))
    return "\n".join(lines)
