"""Learning-rate schedules: functions of the step number, assigned to ``optimizer.lr`` before each step::

    for step in range(total):
        optimizer.lr = warmup_cosine(step, warmup=500, total=total, peak_lr=3e-4)
        ...
        optimizer.step()
"""
from __future__ import annotations

import math

from ..validation import integer, positive_int, positive_real, real


def warmup_cosine(step: int, *, warmup: int, total: int, peak_lr: float, final_lr: float = 0.0) -> float:
    """Linear warmup from 0 to ``peak_lr`` over ``warmup`` steps, then cosine decay to ``final_lr`` at ``total``.

        lr(s) = peak_lr · s / warmup                                   for s < warmup
        lr(s) = final_lr + (peak_lr − final_lr) · (1 + cos(π u)) / 2,  u = (s − warmup) / (total − warmup)
        lr(s) = final_lr                                               for s ≥ total
    """
    step = integer("step", step, minimum=0)
    total = positive_int("total", total)
    warmup = integer("warmup", warmup, minimum=0, maximum=total)
    peak_lr = positive_real("peak_lr", peak_lr)
    final_lr = real("final_lr", final_lr, minimum=0.0, maximum=peak_lr)
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
    step = integer("step", step, minimum=0)
    total = positive_int("total", total)
    start_lr = positive_real("start_lr", start_lr)
    end_lr = real("end_lr", end_lr, minimum=0.0)
    return start_lr - (start_lr - end_lr) * min(step / total, 1.0)
