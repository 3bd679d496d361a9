"""The corpus walker: the examples word2vec builds from lines of ids, trained as they are built (spec §1.1).

A chunk is ``ids (n,)`` with line boundaries ``offsets (lines+1,)``; a context never crosses a line.
For each line the walker

1. with ``subsampling == SUBSAMPLE_BOTH`` drops word w with probability 1 − keep[w] before
   windowing (word2vec.c, gensim);
2. for each centre position i: with ``SUBSAMPLE_CENTRE`` skips the centre with probability
   1 − keep[w_i] (the Keras script); draws the reach r uniform on 1..window when ``shrink``
   (word2vec.c), else r = window; the context is the words at i−r … i−1 and
   i+1 … i+r−right_trim (the TF class's right off-by-one when right_trim = 1). With ``pad``
   (CBOW only) positions outside the line are the padding id 0 and a trimmed window is padded
   back to 2·window slots (the TF class's padding); without it they are left out;
3. makes one CBOW example (h = Σ context, or the mean with ``cbow_mean``) or, for skip-gram, one
   example per context word (h = E[c]), target the centre; a centre with no context gives none;
4. draws the ``negative`` sampled ids of an example (fresh, or one set for ``share`` consecutive
   examples) and, with ``remove_hits``, leaves out the slots that drew the target.

The random numbers come in that order from one LCG per part (``sampling.py``), which the tests'
plain-Python walker reproduces. The learning rate decays linearly with the words done.

Training runs one example behind the walk: an example is built, its table rows are prefetched
(``prefetch.py``), the example before it is trained, and then it waits for its turn. Building an
example reads no table, so the examples, their order and every update are those of training each one
as soon as it is built; the rows of one example load from memory while the one before it is computed.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ..prefetch import prefetch_row
from .lazy import OPTIMIZER_SGD, example_update_lazy
from .sampling import below, draw, lcg_next, unit
from .update import example_update, workspace

SUBSAMPLE_OFF = 0
SUBSAMPLE_CENTRE = 1
SUBSAMPLE_BOTH = 2
SUBSAMPLING = {"off": SUBSAMPLE_OFF, "centre": SUBSAMPLE_CENTRE, "both": SUBSAMPLE_BOTH}


class WalkerConfig(NamedTuple):
    """How examples are built from lines (the steps of the module docstring), defaults the post's CBOW."""

    sg: bool = False
    window: int = 5
    right_trim: int = 0
    shrink: bool = False
    pad: bool = True
    cbow_mean: bool = False
    subsampling: int = SUBSAMPLE_OFF
    negative: int = 16
    share: int = 1
    remove_hits: bool = False


class Schedule(NamedTuple):
    """α decays linearly from ``alpha_start`` to ``alpha_end`` over ``total_words`` words."""

    alpha_start: float
    alpha_end: float
    total_words: float


class Part(NamedTuple):
    """Lines [first_line, last_line) walked from the LCG state ``seed``; ``progress`` words were done
    before them and their own progress stands for ``span`` words of the schedule."""

    first_line: int
    last_line: int
    seed: np.uint64
    progress: float
    span: float


class Trace(NamedTuple):
    """Where a walk records its examples: ``contexts (N, 2·window)`` (−1 = empty slot), ``samples
    (N, K+1)``, ``alphas (N,)``; arrays with no rows record nothing."""

    contexts: np.ndarray
    samples: np.ndarray
    alphas: np.ndarray


@njit(cache=True)
def _prefetch_example(tables, context, m, sample):
    """Start loading the rows an example reads: E of its m inputs, W of its target and samples."""
    for j in range(m):
        prefetch_row(tables.E, context[j])
    for s in range(sample.shape[0]):
        prefetch_row(tables.W, sample[s])


@njit(cache=True)
def _train(tables, objective, context, m, scale, sample, valid, alpha, work, lazy):
    """One example's step with plain SGD or the lazy optimizer of ``lazy``; returns its loss.

    Only the last example of a part goes through here. The walk's loop calls the two updates itself, so
    that each has one call site there and is compiled into the loop: through this function (a call per
    example, or its body inlined at both sites) the skip-gram walk on the benchmark corpus was 25–50%
    slower in single runs.
    """
    if lazy.kind == OPTIMIZER_SGD:
        return example_update(tables, objective, context, m, scale, sample, valid, alpha, work)
    return example_update_lazy(tables, objective, context, m, scale, sample, valid, alpha, work, lazy)


@njit(cache=True)
def walk_part(ids, offsets, part, config, keep, sampler, tables, objective, schedule, lazy, trace, update):
    """Walk the lines of ``part`` and train on (or, ``update=False``, only trace) their examples.

    ``config`` a ``WalkerConfig``, ``keep (V+1,)`` the subsampling keep probabilities, ``sampler`` a
    ``sampling.Sampler``, ``tables``/``objective`` as ``loss.py``'s, ``lazy`` a ``lazy.LazyState``
    (OPTIMIZER_SGD: plain SGD). The rate is α at the fraction (progress + span · words done /
    words of the part) / total_words of the schedule. Returns (Σ loss, examples, words, kept), kept =
    the centre positions left after subsampling.
    """
    window, K = config.window, config.negative
    rows_total = tables.E.shape[0]
    work = workspace(tables.E, K + 1, 2 * window)
    sample = np.empty(K + 1, dtype=np.int64)
    valid = np.ones(K + 1, dtype=np.bool_)
    context = np.empty(2 * window, dtype=np.int64)
    # the example built last, trained once the next one is built (or the part ends)
    waiting_context = np.empty(2 * window, dtype=np.int64)
    waiting_sample = np.zeros(K + 1, dtype=np.int64)
    waiting_valid = np.ones(K + 1, dtype=np.bool_)
    waiting, waiting_m, waiting_scale, waiting_alpha = False, 0, 1.0, 0.0
    state = np.uint64(part.seed)
    part_words = offsets[part.last_line] - offsets[part.first_line]
    loss_sum, examples, words, kept = 0.0, 0, 0, 0
    tracing = trace.samples.shape[0] > 0
    # Lines are copied into one buffer and rows are addressed by index: slicing would create array
    # views whose reference counts, shared by the Hogwild threads, cost a contended atomic each.
    longest = 0
    for line in range(part.first_line, part.last_line):
        longest = max(longest, offsets[line + 1] - offsets[line])
    tokens = np.empty(longest, dtype=ids.dtype)
    for line in range(part.first_line, part.last_line):
        fraction = (part.progress + part.span * words / max(part_words, 1)) / schedule.total_words
        alpha = schedule.alpha_start + (schedule.alpha_end - schedule.alpha_start) * min(fraction, 1.0)
        words += offsets[line + 1] - offsets[line]
        n_tokens = 0
        for position in range(offsets[line], offsets[line + 1]):
            w = ids[position]
            if config.subsampling == SUBSAMPLE_BOTH:
                state = lcg_next(state)
                if unit(state) >= keep[w]:
                    continue
            tokens[n_tokens] = w
            n_tokens += 1
        for i in range(n_tokens):
            if config.subsampling == SUBSAMPLE_CENTRE:
                state = lcg_next(state)
                if unit(state) >= keep[tokens[i]]:
                    continue
            kept += 1
            reach = window
            if config.shrink:
                state = lcg_next(state)
                reach = window - below(state, window)
            left, right = reach, reach - config.right_trim
            padded = config.pad and not config.sg
            n_context = 0
            for j in range(i - left, i + right + 1):
                if j == i:
                    continue
                if 0 <= j < n_tokens:
                    context[n_context] = tokens[j]
                    n_context += 1
                elif padded:
                    context[n_context] = 0
                    n_context += 1
            if padded:
                for _ in range(config.right_trim):
                    context[n_context] = 0
                    n_context += 1
            if n_context == 0:
                continue
            groups = n_context if config.sg else 1
            for g in range(groups):
                if config.share <= 1 or examples % config.share == 0:
                    for s in range(1, K + 1):
                        state = lcg_next(state)
                        sample[s] = draw(state, sampler, rows_total)
                sample[0] = tokens[i]
                for s in range(1, K + 1):
                    valid[s] = not (config.remove_hits and sample[s] == sample[0])
                if config.sg:
                    context[0], context[g] = context[g], context[0]
                    m, scale = 1, 1.0
                else:
                    m = n_context
                    scale = 1.0 / n_context if config.cbow_mean else 1.0
                if tracing:
                    trace.contexts[examples, :] = -1
                    trace.contexts[examples, :m] = context[:m]
                    trace.samples[examples] = sample
                    trace.alphas[examples] = alpha
                if update:
                    _prefetch_example(tables, context, m, sample)
                    if waiting and lazy.kind == OPTIMIZER_SGD:  # not through _train: see its docstring
                        loss_sum += example_update(tables, objective, waiting_context, waiting_m, waiting_scale,
                                                   waiting_sample, waiting_valid, waiting_alpha, work)
                    elif waiting:
                        loss_sum += example_update_lazy(tables, objective, waiting_context, waiting_m,
                                                        waiting_scale, waiting_sample, waiting_valid, waiting_alpha,
                                                        work, lazy)
                    for j in range(m):
                        waiting_context[j] = context[j]
                    for s in range(K + 1):
                        waiting_sample[s] = sample[s]
                        waiting_valid[s] = valid[s]
                    waiting, waiting_m, waiting_scale, waiting_alpha = True, m, scale, alpha
                if config.sg:
                    context[0], context[g] = context[g], context[0]
                examples += 1
    if waiting:
        loss_sum += _train(tables, objective, waiting_context, waiting_m, waiting_scale, waiting_sample,
                           waiting_valid, waiting_alpha, work, lazy)
    return loss_sum, examples, words, kept
