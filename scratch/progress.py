"""Progress lines for long runs, on stderr: step, metrics, throughput and ETA.

    progress = Progress(total=steps, unit="tok")
    for step in range(steps):
        ...
        progress.update(step + 1, items=batch_tokens, loss=loss)
    progress.close()

prints at most one line every ``every`` seconds, e.g.
``step 120/1000 (12%) | loss 2.3141 | 5.31k tok/s | elapsed 22s | ETA 2m41s``.
"""
from __future__ import annotations

import math
import sys
import time
from typing import IO

from .validation import integer, real


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; the run stops and keeps its last good checkpoint."""


def check_finite(value: float, step: int, what: str = "loss") -> float:
    """Return ``value``, or raise ``NonFiniteLossError`` naming ``what`` and the step."""
    if not math.isfinite(value):
        raise NonFiniteLossError(f"{what} is {value} at step {step}; stopping (the last checkpoint is kept)")
    return value


def format_duration(seconds: float) -> str:
    """``95`` → ``"1m35s"``, ``4000`` → ``"1h06m"``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_count(x: float) -> str:
    """``5310`` → ``"5.31k"``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"


class Progress:
    """Throttled progress reporting for a loop of ``total`` steps (``unit`` names the counted items)."""

    def __init__(self, total: int, unit: str = "items", every: float = 2.0, stream: IO[str] | None = None,
                 label: str = "step"):
        self.total = integer("total", total, minimum=0)
        self.every = real("every", every, minimum=0.0)
        self.unit, self.label = unit, label
        self.stream = stream if stream is not None else sys.stderr
        self.start = self.last_print = time.perf_counter()
        self.items = 0
        self.step = 0

    def update(self, step: int, items: int = 0, force: bool = False, **metrics: float) -> None:
        """Record that ``step`` steps and ``items`` more items are done; print when due."""
        self.step = step
        self.items += items
        now = time.perf_counter()
        if force or now - self.last_print >= self.every or step >= self.total:
            self.last_print = now
            print(self.line(now, metrics), file=self.stream, flush=True)

    def line(self, now: float, metrics: dict[str, float]) -> str:
        elapsed = now - self.start
        parts = [f"{self.label} {self.step}/{self.total} ({100 * self.step / max(self.total, 1):.0f}%)"]
        parts += [f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items()]
        if self.items and elapsed > 0:
            parts.append(f"{format_count(self.items / elapsed)} {self.unit}/s")
        parts.append(f"elapsed {format_duration(elapsed)}")
        if 0 < self.step < self.total:
            parts.append(f"ETA {format_duration(elapsed * (self.total - self.step) / self.step)}")
        return " | ".join(parts)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def close(self, **metrics: float) -> None:
        """Print the final line."""
        print(self.line(time.perf_counter(), metrics), file=self.stream, flush=True)
