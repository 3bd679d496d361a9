"""Learning-rate schedules: functions of the step number, assigned to ``optimizer.lr`` before each step::

    for step in range(total):
        optimizer.lr = warmup_cosine(step, warmup=500, total=total, peak_lr=3e-4)
        ...
        optimizer.step()
"""
from __future__ import annotations

import math

from .optimizer import check_argument


def warmup_cosine(step: int, *, warmup: int, total: int, peak_lr: float, final_lr: float = 0.0) -> float:
    """Linear warmup from 0 to ``peak_lr`` over ``warmup`` steps, then cosine decay to ``final_lr`` at ``total``.

        lr(s) = peak_lr · s / warmup                                   for s < warmup
        lr(s) = final_lr + (peak_lr − final_lr) · (1 + cos(π u)) / 2,  u = (s − warmup) / (total − warmup)
        lr(s) = final_lr                                               for s ≥ total
    """
    check_argument(step >= 0, "step", ">= 0", step)
    check_argument(0 <= warmup <= total, "warmup", f"in [0, total={total}]", warmup)
    check_argument(total > 0, "total", "> 0", total)
    check_argument(peak_lr > 0, "peak_lr", "> 0", peak_lr)
    check_argument(0 <= final_lr <= peak_lr, "final_lr", f"in [0, peak_lr={peak_lr}]", final_lr)
    if step < warmup:
        return peak_lr * step / warmup
    if step >= total:
        return float(final_lr)
    u = (step - warmup) / (total - warmup)
    return final_lr + (peak_lr - final_lr) * (1 + math.cos(math.pi * u)) / 2


def linear_decay(step: int, total: int, start_lr: float, end_lr: float) -> float:
    """Straight line from ``start_lr`` at step 0 to ``end_lr`` at ``total``, then flat (gensim's alpha → min_alpha).

        lr(s) = start_lr − (start_lr − end_lr) · min(s / total, 1)
    """
    check_argument(step >= 0, "step", ">= 0", step)
    check_argument(total > 0, "total", "> 0", total)
    check_argument(start_lr > 0, "start_lr", "> 0", start_lr)
    check_argument(end_lr >= 0, "end_lr", ">= 0", end_lr)
    return start_lr - (start_lr - end_lr) * min(step / total, 1.0)
