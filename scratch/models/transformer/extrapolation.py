"""The length-extrapolation experiment of spec Part B (B.5): train at length N, evaluate at N … 8N.

Each training variant is a ``TransformerConfig`` change; each inference variant is a set of keyword
arguments of ``TransformerLM.forward`` applied to a trained model without retraining:

    full          the model as trained, over all T keys (direct extrapolation)
    window        the "super-baseline" of part 7: every layer sees only its last N keys
    log_n_clip    log n†: q_i · max(1, log_N(i + 1)) (part 11), full attention
    rerope        ReRoPE with w = N/2 (part 12), and ``rerope+log_n_clip`` with log n† added
    leaky_rerope  Leaky ReRoPE with w = N/2, k = 16

Every (training variant, inference variant, length) cell reports next-token accuracy and loss on
fixed held-out windows (``natural``), and accuracy on the second half of "u ‖ u" windows (``copy``),
which is far above the natural accuracy only for a model that copies across distance T/2.
``seed_summary`` reduces runs over seeds to mean and spread, ``text_chart`` draws a metric per test
length as fixed-width bars (for a README or a terminal without matplotlib).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...training.lm import evaluate_lm, evaluation_windows, repeated_windows
from .model import TransformerConfig, TransformerLM

TRAINING_VARIANTS: dict[str, dict] = {
    "rope": {"position": "rope"},
    "rope_log_n": {"position": "rope", "log_n": True},
    "nope": {"position": "nope"},
    "sinusoidal": {"position": "sinusoidal"},
    "alibi": {"position": "alibi"},
    "kerple_log": {"position": "kerple_log"},
    "kerple_power": {"position": "kerple_power"},
    "sandwich": {"position": "sandwich"},
    "xpos": {"position": "xpos"},
    "hwfa": {"position": "rope", "hwfa_window": None},
}


def hwfa_window(train_len: int, layers: int, alpha: float = 0.75) -> int:
    """The largest w with receptive field (w − 1)(L − 1) + 1 ≤ α N (spec part 9), at least 2."""
    return max(2, int((alpha * train_len - 1) // max(layers - 1, 1)) + 1)


def training_config(base: TransformerConfig, variant: str) -> TransformerConfig:
    """``base`` with the changes of a named training variant."""
    if variant not in TRAINING_VARIANTS:
        raise ValueError(f"variant must be one of {tuple(TRAINING_VARIANTS)}, got {variant!r}")
    changes = dict(TRAINING_VARIANTS[variant])
    if "hwfa_window" in changes:
        changes["hwfa_window"] = hwfa_window(base.train_len, base.layers)
    return replace(base, **changes)


def inference_variants(config: TransformerConfig) -> dict[str, dict]:
    """The inference variants that apply to a trained configuration (and change its output), as forward
    keyword arguments."""
    n = config.train_len
    variants = {"full": {}, "window": {"window": n}}
    # HWFA's RoPE layers see distances < hwfa_window only and its full layer has no RoPE, so ReRoPE with
    # w ≥ hwfa_window would clip nothing and equal "full"
    rerope_changes_something = config.hwfa_window is None or config.hwfa_window > n // 2
    if config.position in ("rope", "xpos"):
        variants["log_n_clip"] = {"log_n_clip": True}
    if config.position in ("rope", "xpos") and rerope_changes_something:
        variants["rerope"] = {"rerope": n // 2}
        variants["rerope+log_n_clip"] = {"rerope": n // 2, "log_n_clip": True}
        variants["leaky_rerope"] = {"rerope": n // 2, "leaky_k": 16.0}
    return variants


def evaluate_extrapolation(model: TransformerLM, val: np.ndarray, lengths: list[int], windows: int,
                           seed: int = 0) -> dict[str, dict[int, dict[str, float]]]:
    """results[inference variant][T] = natural accuracy/loss/bits/tail_loss and copy accuracy/loss."""
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
    if not hi > lo or width < 1:
        raise ValueError(f"need hi > lo and width ≥ 1, got lo={lo!r}, hi={hi!r}, width={width!r}")
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
