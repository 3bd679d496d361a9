"""Training a corpus chunk: parts, seeds, and the serial or Hogwild walk of the parts.

``train_chunk`` cuts the lines of a chunk into ``threads`` parts of about equal words
(``split_lines``), gives each part its own LCG start state derived from (seed, chunk index, part)
(``part_seeds``), and walks them with ``walker.walk_part``: one after the other on the calling
thread (``threads == 1``, deterministic for a seed), or concurrently, the parts updating the shared
tables without locks (Hogwild, ``threads > 1``: intended races). ``trace_chunk`` walks a chunk on one
thread and records its examples, so the autograd path can batch them and the tests can replay them
through the references.
"""
from __future__ import annotations

from typing import NamedTuple, get_type_hints

import numpy as np
from numba import njit, prange

from .lazy import LazyState, lazy_state
from .loss import LOSS_SOFTMAX, Objective, tables
from .sampling import Sampler
from .walker import Part, Schedule, Trace, WalkerConfig, walk_part


def split_lines(offsets: np.ndarray, parts: int) -> np.ndarray:
    """Line indices ``(parts' + 1,)`` cutting lines ``offsets`` into up to ``parts`` runs of about equal words."""
    lines = offsets.shape[0] - 1
    targets = np.linspace(0, offsets[-1], parts + 1)
    bounds = np.unique(np.searchsorted(offsets, targets[1:-1], side="right") - 1)
    return np.concatenate([[0], bounds[(bounds > 0) & (bounds < lines)], [lines]]).astype(np.int64)


def part_seeds(seed: int, chunk_index: int, parts: int) -> np.ndarray:
    """One LCG start state per part, derived from (seed, chunk index, part) so a seed reproduces a run."""
    return np.random.SeedSequence([seed, chunk_index]).generate_state(parts, dtype=np.uint64)


@njit(cache=True, parallel=True)
def _train_parts_parallel(ids, offsets, bounds, seeds, config, keep, sampler, tables, objective, schedule, lazy,
                          progress, results):
    """Hogwild: the parts run concurrently and update the shared tables without locks (intended races)."""
    # Built inline: returned by a jitted helper, the tuple fails Numba's parfor lowering (NameError: Trace).
    no_trace = Trace(np.empty((0, 0), np.int64), np.empty((0, 0), np.int64), np.empty(0))
    chunk_words = float(offsets[-1])
    for p in prange(seeds.shape[0]):
        # The parts advance together, so each one's progress through its lines stands for the chunk's.
        part = Part(bounds[p], bounds[p + 1], seeds[p], progress, chunk_words)
        loss, count, words, kept = walk_part(ids, offsets, part, config, keep, sampler, tables, objective,
                                             schedule, lazy, no_trace, True)
        results[p, 0], results[p, 1], results[p, 2], results[p, 3] = loss, count, words, kept


@njit(cache=True)
def _train_parts_serial(ids, offsets, bounds, seeds, config, keep, sampler, tables, objective, schedule, lazy,
                        progress, results, trace, update):
    """The deterministic path: one part after the other on the calling thread."""
    done = 0.0
    for p in range(seeds.shape[0]):
        span = float(offsets[bounds[p + 1]] - offsets[bounds[p]])
        part = Part(bounds[p], bounds[p + 1], seeds[p], progress + done, span)
        loss, count, words, kept = walk_part(ids, offsets, part, config, keep, sampler, tables, objective,
                                             schedule, lazy, trace, update)
        done += span
        results[p, 0], results[p, 1], results[p, 2], results[p, 3] = loss, count, words, kept


def _typed(settings: NamedTuple) -> NamedTuple:
    """``settings`` with each scalar field cast to its annotated type, so Numba compiles one version."""
    hints = get_type_hints(type(settings))
    return type(settings)(*(hints[name](value) if hints[name] in (bool, int, float) else value
                            for name, value in zip(settings._fields, settings)))


def train_chunk(ids: np.ndarray, offsets: np.ndarray, E: np.ndarray, W: np.ndarray | None, b: np.ndarray | None,
                config: WalkerConfig, keep: np.ndarray, sampler: Sampler, objective: Objective, *,
                alpha: tuple[float, float], progress: float, total_words: float, seed: int, chunk_index: int,
                threads: int = 1, parts: int | None = None,
                lazy: LazyState | None = None) -> tuple[float, int, int, int]:
    """Train on the lines of one chunk (``ids (n,)`` int32, ``offsets (lines+1,)`` int64), in place.

    E ``(V+1, d)``, W ``(V+1, d)`` or None (output layer shared with E), b ``(V+1,)`` or None;
    ``keep (V+1,)`` the subsampling keep probabilities. ``alpha = (start, end)``: the learning rate
    decays linearly from start to end over ``total_words``; ``progress`` is the number of words
    trained before this chunk. The lines are cut into ``parts`` runs (default: ``threads``), each
    with its own seed; ``threads > 1`` walks them in parallel (Hogwild), ``threads == 1`` one after
    the other, deterministic for a given seed. ``lazy = lazy_state(...)`` trains with lazy
    Adagrad/Adam at the rate ``alpha`` instead of SGD. Returns ``(Σ loss, examples, words, kept)``:
    kept counts the centre positions that survived subsampling (gensim's "effective words").
    """
    bounds = split_lines(offsets, threads if parts is None else parts)
    seeds = part_seeds(seed, chunk_index, bounds.shape[0] - 1)
    results = np.zeros((seeds.shape[0], 4))
    schedule = Schedule(float(alpha[0]), float(alpha[1]), float(total_words))
    lazy = lazy_state("sgd", E, W, b) if lazy is None else lazy
    shared = (ids, offsets, bounds, seeds, _typed(config), keep, _typed(sampler), tables(E, W, b),
              _typed(objective), schedule, _typed(lazy), float(progress), results)
    if threads > 1:
        _train_parts_parallel(*shared)
    else:
        no_trace = Trace(np.empty((0, 0), np.int64), np.empty((0, 0), np.int64), np.empty(0))
        _train_parts_serial(*shared, no_trace, True)
    loss, examples, words, kept = results.sum(axis=0)
    return float(loss), int(examples), int(words), int(kept)


def trace_chunk(ids: np.ndarray, offsets: np.ndarray, rows: int, config: WalkerConfig, keep: np.ndarray,
                sampler: Sampler, *, seed: int, chunk_index: int, alpha: tuple[float, float] = (0.0, 0.0),
                progress: float = 0.0, total_words: float = 1.0, E: np.ndarray | None = None,
                W: np.ndarray | None = None, b: np.ndarray | None = None, objective: Objective | None = None,
                lazy: LazyState | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The examples the kernel builds from a chunk on one thread: ``contexts (N, 2·window)`` (−1 = empty
    slot), ``samples (N, K+1)``, the learning rate ``alphas (N,)`` of each, and Σ loss.

    Without ``E`` nothing is trained (the autograd path batches these examples itself); with ``E``
    (and ``W``, ``b``, ``objective``, ``lazy`` as in ``train_chunk``) the kernel also trains on them,
    so a test can replay the trace through ``sgd_step_reference`` (or a lazy optimizer).
    """
    bound = int(offsets[-1]) * (2 * config.window if config.sg else 1)
    trace = Trace(np.empty((bound, 2 * config.window), np.int64), np.empty((bound, config.negative + 1), np.int64),
                  np.empty(bound))
    update = E is not None
    E_ = np.zeros((rows, 1)) if E is None else E
    objective = Objective(LOSS_SOFTMAX, False, np.zeros(rows)) if objective is None else objective
    lazy = lazy_state("sgd", E_, W, b) if lazy is None else lazy
    bounds = np.array([0, offsets.shape[0] - 1], np.int64)
    results = np.zeros((1, 4))
    schedule = Schedule(float(alpha[0]), float(alpha[1]), float(total_words))
    _train_parts_serial(ids, offsets, bounds, part_seeds(seed, chunk_index, 1), _typed(config), keep,
                        _typed(sampler), tables(E_, W, b), _typed(objective), schedule, _typed(lazy), float(progress),
                        results, trace, update)
    n = int(results[0, 1])
    return trace.contexts[:n], trace.samples[:n], trace.alphas[:n], float(results[0, 0])
