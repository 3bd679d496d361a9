"""Mutation check: plant small bugs one at a time in a copy of the repository and run the tests that
must catch them. Every planted bug must be killed (a test fails); a survivor is a hole in the suite.

    python scripts/mutation_check.py                  # every mutant, two at a time
    python scripts/mutation_check.py --list           # names, files and what each bug is
    python scripts/mutation_check.py --only window_attention_dk_assign glove_clip_eta
    python scripts/mutation_check.py --family glove
    python scripts/mutation_check.py --mutants my_mutants.py   # try mutants of your own first
    python scripts/mutation_check.py --markdown table.md       # the results as a Markdown table too

The copy holds the tracked files of the checkout (``git ls-files``). For each mutant the exact text
``old`` must occur once in ``path``; it is replaced by ``new``, the listed tests run with
``pytest -x`` and a fresh ``NUMBA_CACHE_DIR`` (Numba's cache is not invalidated when a jitted helper in
another file changes), and the file is restored. Before the mutants, the same tests run once on the
unchanged copy: a suite that already fails would "kill" everything.

Adding a mutant: append a ``Mutant`` to ``MUTANTS`` (or to a list ``MUTANTS`` in a file given with
``--mutants``) with a unique name, the family, the file, an ``old`` snippet long enough to occur once,
the bug as ``new``, the test files or node ids that should catch it, and one line saying what the bug
is. Run it with ``--only NAME``; if it survives, the suite needs a test, not the mutant a change. A
mutant in a ``--mutants`` file replaces the listed one of the same name, to try a changed version.
``tests/test_mutation_check.py`` checks that every ``old`` still occurs exactly once, so a refactor
that moves the code fails there until the mutant is updated.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    family: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    what: str


MUTANTS: list[Mutant] = [
    # --- window attention and the Transformer's position schemes -------------------------------------
    Mutant('window_attn_dk_overwritten_across_blocks', 'transformer', 'scratch/kernels/window_attention.py',
           'dk[bh, lo:t1] += np.dot(ds.T, q[bh, t0:t1])',
           'dk[bh, lo:t1] = np.dot(ds.T, q[bh, t0:t1])',
           ('tests/kernels/test_window_attention.py',),
           'Numba backward: a query block overwrites the dk of keys an earlier block already wrote'),
    Mutant('window_attn_dv_overwritten_across_blocks', 'transformer', 'scratch/kernels/window_attention.py',
           'dv[bh, lo:t1] += np.dot(p.T, grad[bh, t0:t1])',
           'dv[bh, lo:t1] = np.dot(p.T, grad[bh, t0:t1])',
           ('tests/kernels/test_window_attention.py',),
           'Numba backward: a query block overwrites the dv of keys an earlier block already wrote'),
    Mutant('window_attn_forward_block_edge', 'transformer', 'scratch/kernels/window_attention.py',
           'lo = max(0, t0 - window + 1)\n            s = np.dot(q[bh, t0:t1], k[bh, lo:t1].T)',
           'lo = max(0, t0 - window + 2)\n            s = np.dot(q[bh, t0:t1], k[bh, lo:t1].T)',
           ('tests/kernels/test_window_attention.py',),
           'Numba forward: the key range of a query block starts one key late, the first row of a block past the start loses its oldest key'),
    Mutant('window_attn_dbias_assigned', 'transformer', 'scratch/kernels/window_attention.py',
           'dbias[bh, t - lo - jj] += ds[i, jj]',
           'dbias[bh, t - lo - jj] = ds[i, jj]',
           ('tests/kernels/test_window_attention.py',),
           "Numba backward: dβ of a distance keeps only the last query's term instead of the sum"),
    Mutant('window_attn_log_n_off_by_one', 'transformer', 'scratch/kernels/window_attention.py',
           'np.log(np.minimum(np.arange(1, seq_len + 1), window))',
           'np.log(np.minimum(np.arange(2, seq_len + 2), window))',
           ('tests/kernels/test_window_attention.py',),
           'log-n factor counts t + 2 visible keys instead of t + 1 (c_t = log min(t + 2, w) / log N)'),
    Mutant('positions_alibi_slope_from_zero', 'transformer', 'scratch/models/transformer/positions.py',
           '2.0 ** (-8.0 * np.arange(1, heads + 1) / heads)',
           '2.0 ** (-8.0 * np.arange(0, heads) / heads)',
           ('tests/models/test_positions.py',),
           'ALiBi slopes 2^{-8(h-1)/H}: the first head gets slope 1, the last misses 2^-8'),
    Mutant('positions_frequency_missing_factor_two', 'transformer', 'scratch/models/transformer/positions.py',
           'return base ** (-np.arange(0, dim, 2) / dim)',
           'return base ** (-np.arange(dim // 2) / dim)',
           ('tests/models/test_positions.py',),
           'ω_t = base^{-t/d} instead of base^{-2t/d} (sinusoidal table, RoPE, Sandwich)'),
    Mutant('positions_rope_clockwise', 'transformer', 'scratch/models/transformer/positions.py',
           'out[..., 0::2] = even * cos - odd * sin\n    out[..., 1::2] = even * sin + odd * cos',
           'out[..., 0::2] = even * cos + odd * sin\n    out[..., 1::2] = -even * sin + odd * cos',
           ('tests/models/test_positions.py',),
           'RoPE turns each pair by −pθ (still relative, so q_i·k_j depends on j − i instead of i − j)'),
    Mutant('positions_xpos_scales_tiled', 'transformer', 'scratch/models/transformer/positions.py',
           'np.repeat(zeta[None, :] ** power, 2, axis=1)',
           'np.tile(zeta[None, :] ** power, (1, 2))',
           ('tests/models/test_positions.py',),
           'XPOS scales laid out [ζ_0..ζ_{D/2-1}, ζ_0..] instead of one ζ_t per pair (x_{2t}, x_{2t+1})'),
    Mutant('positions_sandwich_mean', 'transformer', 'scratch/models/transformer/positions.py',
           'frequencies(dim)[None, :]).sum(axis=1)',
           'frequencies(dim)[None, :]).mean(axis=1)',
           ('tests/models/test_positions.py',),
           'Sandwich bias λ·mean_t cos(δω_t) instead of λ·Σ_t (scaled down by d/2)'),
    Mutant('positions_kerple_power_r2_range', 'transformer', 'scratch/models/transformer/positions.py',
           'r2 = (b.sigmoid() * 2).reshape(-1, 1)',
           'r2 = b.sigmoid().reshape(-1, 1)',
           ('tests/models/test_positions.py',),
           'KERPLE power exponent r2 = sigmoid(b) ∈ (0, 1) instead of 2·sigmoid(b) ∈ (0, 2)'),
    Mutant('transformer_xpos_key_scaled_up', 'transformer', 'scratch/models/transformer/model.py',
           'q, k = q * scales, k / scales',
           'q, k = q * scales, k * scales',
           ('tests/models/test_positions.py',),
           'XPOS in the attention layer multiplies the keys by ζ^{j/γ} instead of dividing'),
    Mutant('transformer_sandwich_model_width', 'transformer', 'scratch/models/transformer/model.py',
           'pos.sandwich_bias(self.heads, window, self.head_dim, self.sandwich_scale)',
           'pos.sandwich_bias(self.heads, window, self.heads * self.head_dim, self.sandwich_scale)',
           ('tests/models/test_positions.py',),
           'Sandwich bias built over the model width instead of the head size'),
    # --- VQ attention, routing, convolution, GELU and norms, capsule and Transformer-VQ models -------
    Mutant('vq_numba_fold_lags_a_block', 'transformer_vq', 'scratch/kernels/vq_attention.py',
           '                for j in range((n - 1) * L, n * L):\n',
           '                for j in range(max(n - 2, 0) * L, max(n - 1, 0) * L):\n',
           ('tests/kernels/test_vq_attention.py',),
           'Numba forward folds block n-2 instead of n-1 into the cache after block n (cache one block late)'),
    Mutant('vq_numba_carried_assigned', 'transformer_vq', 'scratch/kernels/vq_attention.py',
           '                carried[s] += d_means[s] / max(counts[s], 1.0)',
           '                carried[s] = d_means[s] / max(counts[s], 1.0)',
           ('tests/kernels/test_vq_attention.py',),
           'Numba backward: the reverse cumulative sum of dmu/N over blocks keeps only the latest block'),
    Mutant('vq_numba_bias_grad_drops_distance_w', 'transformer_vq', 'scratch/kernels/vq_attention.py',
           '                for d in range(min(W, L + i) + 1):',
           '                for d in range(min(W, L + i)):',
           ('tests/kernels/test_vq_attention.py',),
           'Numba backward drops the bias term at distance W from dP (dr_W, dq and dw lose it)'),
    Mutant('routing_numba_softmax_grad_sign', 'capsule', 'scratch/kernels/routing.py',
           'softmax_grad = c[j, i] * (gc[j, i] - mean_gc)',
           'softmax_grad = c[j, i] * (gc[j, i] + mean_gc)',
           ('tests/kernels/test_routing.py',),
           "Numba routing backward: sign of the softmax Jacobian's mean term flipped"),
    Mutant('routing_numba_s_assigned', 'capsule', 'scratch/kernels/routing.py',
           '                        s[j, d] += cji * u[j, i, d]',
           '                        s[j, d] = cji * u[j, i, d]',
           ('tests/kernels/test_routing.py',),
           "Numba routing forward: s_j keeps the last input's c_ij u_ji instead of the sum over inputs"),
    Mutant('routing_numba_backward_skips_first_iteration', 'capsule', 'scratch/kernels/routing.py',
           '        for t in range(iterations - 1, -1, -1):\n            if t == iterations - 1:\n                for j in range(k_out):',
           '        for t in range(iterations - 1, 0, -1):\n            if t == iterations - 1:\n                for j in range(k_out):',
           ('tests/kernels/test_routing.py',),
           'Numba routing backward stops before iteration 0 (its c^0 gs and softmax terms are lost)'),
    Mutant('routing_numba_su1_accumulates', 'capsule', 'scratch/kernels/routing.py',
           'b[j, i] = b[j, i] + a if mode == 0 else a',
           'b[j, i] = b[j, i] + a if mode != 2 else a',
           ('tests/kernels/test_routing.py',),
           'Numba routing forward: su1 accumulates the logits like sabour instead of replacing them'),
    Mutant('conv_weight_grad_assigned_per_chunk', 'engine', 'scratch/autograd/functional/conv.py',
           'dw_rows += g_cols @ columns.im2col(x_pad[part]).T',
           'dw_rows = g_cols @ columns.im2col(x_pad[part]).T',
           ('tests/autograd/test_functional.py',),
           "conv2d backward keeps the last chunk's weight gradient only"),
    Mutant('conv_drops_partial_last_chunk', 'engine', 'scratch/autograd/functional/conv.py',
           'return [slice(start, min(start + step, n)) for start in range(0, n, step)]',
           'return [slice(start, min(start + step, n)) for start in range(0, n - step + 1, step)]',
           ('tests/autograd/test_functional.py::test_conv2d_over_uneven_chunks_equals_the_definition',),
           'conv2d chunks skip a last chunk shorter than the step (only when the chunk count does not divide the batch)'),
    Mutant('layer_norm_eps_outside_sqrt', 'engine', 'scratch/autograd/functional/normalization.py',
           'r = 1 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + eps)',
           'r = 1 / (np.sqrt((xc * xc).mean(axis=-1, keepdims=True)) + eps)',
           ('tests/autograd/test_functional.py::test_affine_norm_values_without_torch', 'tests/nn/test_layers.py::test_affine_norm_layers_compute_the_formula'),
           'layer/RMS norm adds eps to the standard deviation instead of the variance'),
    Mutant('gelu_tanh_cubic_coefficient', 'engine', 'scratch/autograd/ops/unary.py',
           't = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))',
           't = np.tanh(_SQRT_2_OVER_PI * (x + 0.04715 * x**3))',
           ('tests/autograd/test_functional.py::test_gelu_values_without_torch',),
           'tanh-approximate GELU forward uses 0.04715 for the cubic coefficient'),
    Mutant('gelu_exact_cdf_argument_scaled', 'engine', 'scratch/autograd/ops/unary.py',
           '            cdf = special.ndtr(x)\n',
           '            cdf = special.ndtr(x * 1.0001)\n',
           ('tests/autograd/test_functional.py::test_gelu_values_without_torch',),
           'exact GELU forward evaluates Phi at a slightly rescaled argument'),
    Mutant('margin_loss_negative_margin_sign', 'capsule', 'scratch/models/capsule/layers.py',
           'lam * (1.0 - t) * (p - m_neg).relu() ** 2',
           'lam * (1.0 - t) * (p + m_neg).relu() ** 2',
           ('tests/models/test_capsule.py',),
           'margin loss penalises absent classes from -m_neg instead of m_neg'),
    Mutant('vq_ema_sums_assigned', 'transformer_vq', 'scratch/models/transformer_vq/quantizer.py',
           'np.add.at(sums, self.last_codes, self.last_keys.astype(sums.dtype))',
           'sums[self.last_codes] = self.last_keys.astype(sums.dtype)',
           ('tests/models/test_transformer_vq.py::test_one_ema_step_equals_the_formula',),
           'EMA codebook update keeps one key per code instead of the sum of the keys assigned to it'),
    # --- word2vec and GloVe --------------------------------------------------------------------------
    Mutant('w2v_shrink_reach_off_by_one', 'word2vec', 'scratch/kernels/sampled_softmax.py',
           'reach = window - _below(state, window)',
           'reach = window - 1 - _below(state, window)',
           ('tests/kernels/test_word2vec_walker.py',),
           'the shrunk reach is drawn from [0, w-1] instead of [1, w]: a reach of 0 drops the example'),
    Mutant('w2v_right_trim_on_the_left', 'word2vec', 'scratch/kernels/sampled_softmax.py',
           'left, right = reach, reach - right_trim',
           'left, right = reach - right_trim, reach',
           ('tests/kernels/test_word2vec_walker.py',),
           'the TF off-by-one trims the left side of the window instead of the right'),
    Mutant('w2v_trimmed_slot_not_padded', 'word2vec', 'scratch/kernels/sampled_softmax.py',
           'for _ in range(right_trim):',
           'for _ in range(0):',
           ('tests/kernels/test_word2vec_walker.py',),
           'with the right off-by-one and padding, the window is not padded back to 2*window slots (TF class)'),
    Mutant('w2v_context_crosses_line', 'word2vec', 'scratch/kernels/sampled_softmax.py',
           'if 0 <= j < n_tokens:',
           'if 0 <= j < longest:',
           ('tests/kernels/test_word2vec_walker.py',),
           'right contexts read past the end of the line (stale tokens of an earlier, longer line)'),
    Mutant('w2v_centre_subsampling_flipped', 'word2vec', 'scratch/kernels/sampled_softmax.py',
           'if _unit(state) >= keep[tokens[i]]:',
           'if _unit(state) < keep[tokens[i]]:',
           ('tests/kernels/test_word2vec_walker.py',),
           'centre subsampling drops a word with its keep probability instead of keeping it'),
    Mutant('w2v_context_update_sign', 'word2vec', 'scratch/kernels/sampled_softmax.py',
           'E[c, k] -= dh[k]',
           'E[c, k] += dh[k]',
           ('tests/kernels/test_sampled_softmax.py::test_kernel_sgd_step_equals_reference',),
           'the per-example SGD step moves the context rows up the gradient'),
    Mutant('w2v_bias_update_dropped', 'word2vec', 'scratch/kernels/sampled_softmax.py',
           'b[r] -= a',
           'b[r] -= 0.0 * a',
           ('tests/kernels/test_sampled_softmax.py::test_kernel_sgd_step_equals_reference',),
           'the per-example SGD step drops the output bias update'),
    Mutant('w2v_alias_last_bucket', 'word2vec', 'scratch/kernels/sampled_softmax.py',
           'i = min(int(u), rows - 1)',
           'i = min(int(u), rows - 2)',
           ('tests/kernels/test_word2vec_walker.py',),
           'the alias draw never reads the last bucket: its draws go to the one before'),
    Mutant('w2v_model_config_swap', 'word2vec', 'scratch/models/word2vec.py',
           'self.right_off_by_one, self.shrink_window',
           'self.shrink_window, self.right_off_by_one',
           ('tests/models/test_word2vec.py::test_window_options_reach_the_walker',),
           'the model passes right_off_by_one as the shrink flag and shrink_window as the right trim'),
    Mutant('w2v_hogwild_every_part_trains_the_first', 'word2vec', 'scratch/kernels/sampled_softmax.py',
           '_train_part(ids, offsets, bounds[p], bounds[p + 1], seeds[p], E, W, b, config,\n                                               keep, threshold, alias, log_expected, alpha_start, alpha_end,\n                                               progress_start, chunk_words',
           '_train_part(ids, offsets, bounds[0], bounds[1], seeds[p], E, W, b, config,\n                                               keep, threshold, alias, log_expected, alpha_start, alpha_end,\n                                               progress_start, chunk_words',
           ('tests/kernels/test_sampled_softmax.py', 'tests/models/test_word2vec.py'),
           'Hogwild: every thread trains the lines of the first part'),
    Mutant('glove_clip_eta_times_g', 'glove', 'scratch/kernels/glove.py',
           's_w = eta * min(max(g_w, -grad_clip), grad_clip)',
           's_w = min(max(eta * g_w, -grad_clip), grad_clip)',
           ('tests/kernels/test_glove.py::test_epoch_equals_the_per_record_adagrad_of_the_spec',),
           "Stanford's order clips eta*g instead of g (word vectors)"),
    Mutant('glove_hogwild_first_slice', 'glove', 'scratch/kernels/glove.py',
           'n * t // threads, n * (t + 1) // threads',
           '0, n // threads',
           ('tests/kernels/test_glove.py::test_hogwild_threads_train_every_record_once',),
           'every Hogwild thread trains the first slice of the records'),
    Mutant('glove_su_divide_before_accumulate', 'glove', 'scratch/kernels/glove.py',
           '                GW[i, k] += g_w * g_w\n                GC[j, k] += g_c * g_c\n                u_w[k] = eta * g_w / math.sqrt(GW[i, k] + 1e-8)\n',
           '                u_w[k] = eta * g_w / math.sqrt(GW[i, k] + 1e-8)\n                GW[i, k] += g_w * g_w\n                GC[j, k] += g_c * g_c\n',
           ('tests/kernels/test_glove.py::test_epoch_equals_the_per_record_adagrad_of_the_spec',),
           "Su's AdaGrad divides the word vector's step by G before adding g^2 (Stanford's order)"),
    Mutant('glove_reference_accumulates_g', 'glove', 'scratch/kernels/glove.py',
           'GW[i] += g_w**2',
           'GW[i] += np.abs(g_w)',
           ('tests/kernels/test_glove.py::test_epoch_equals_the_per_record_adagrad_of_the_spec',),
           "the NumPy definition accumulates |g| instead of g^2 into Su's AdaGrad G"),
    Mutant('glove_cooccurrence_distance_off_by_one', 'glove', 'scratch/datasets/cooccurrence.py',
           'weights = runs / distance if weighting == "harmonic" else runs',
           'weights = runs / (distance + 1) if weighting == "harmonic" else runs',
           ('tests/datasets/test_cooccurrence.py',),
           'harmonic counting weights a pair at distance d by 1/(d+1) instead of 1/d'),
    Mutant('glove_model_target_not_pmi', 'glove', 'scratch/models/glove/model.py',
           'return cooccurrence.pmi()',
           'return np.log(cooccurrence.counts)',
           ('tests/models/test_glove.py::test_planted_rank_d_pmi_is_recovered',),
           'simpler GloVe fits log X_ij instead of the PMI m_ij'),
    # --- the engine, gradcheck itself, the optimizers and perturb-max --------------------------------
    Mutant('rms_norm_backward_drops_factor_r', 'engine', 'scratch/autograd/functional/normalization.py',
           '            dx *= r\n        if need_w:',
           '        if need_w:',
           ('tests/autograd/test_functional.py::test_rms_norm',),
           'RMS/layer norm backward forgets the final factor r = (mean x² + ε)^(-1/2); with gradcheck weights equal to x the true and the wrong gradient both vanish for the scale-invariant norm'),
    Mutant('layer_norm_backward_drops_centring_term', 'engine', 'scratch/autograd/functional/normalization.py',
           '                dx -= g_hat.mean(axis=-1, keepdims=True)',
           '                pass',
           ('tests/autograd/test_functional.py::test_layer_norm',),
           'layer norm backward drops the − mean(ĝ) term that comes from subtracting the mean'),
    Mutant('unbroadcast_sums_trailing_axes', 'engine', 'scratch/autograd/broadcast.py',
           'grad = grad.sum(axis=tuple(range(extra)))',
           'grad = grad.sum(axis=tuple(range(grad.ndim - extra, grad.ndim)))',
           ('tests/autograd/test_ops.py::test_binary_broadcasting',),
           'unbroadcast sums the trailing axes instead of the leading ones that broadcasting added'),
    Mutant('softmax_backward_sign', 'engine', 'scratch/autograd/functional/softmax.py',
           'return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True))',
           'return y * (grad + (grad * y).sum(axis=ctx.axis, keepdims=True))',
           ('tests/autograd/test_functional.py::test_softmax_family',),
           'softmax backward adds Σ g⊙y instead of subtracting it'),
    Mutant('log_softmax_backward_mean_for_sum', 'engine', 'scratch/autograd/functional/softmax.py',
           'return grad - np.exp(z) * grad.sum(axis=ctx.axis, keepdims=True)',
           'return grad - np.exp(z) * grad.mean(axis=ctx.axis, keepdims=True)',
           ('tests/autograd/test_functional.py::test_softmax_family',),
           'log_softmax backward uses the mean of g over the axis where the sum belongs'),
    Mutant('gradcheck_one_block_for_the_whole_input', 'engine', 'scratch/autograd/gradcheck.py',
           'parts = np.array_split(rng.permutation(x.size), math.ceil(x.size / block))',
           'parts = [rng.permutation(x.size)]',
           ('tests/autograd/test_gradcheck.py',),
           'directional gradcheck probes the whole input with one ±1 direction instead of one per block of 16'),
    Mutant('gradcheck_dense_directions_only', 'engine', 'scratch/autograd/gradcheck.py',
           '            for b, part in enumerate(parts):',
           '            for b, part in enumerate(parts[:0]):',
           ('tests/autograd/test_gradcheck.py',),
           'directional gradcheck keeps only its random dense directions (the old scheme): local errors pass'),
    Mutant('gradcheck_elementwise_skips_last_entry', 'engine', 'scratch/autograd/gradcheck.py',
           'for j in range(x.size)]',
           'for j in range(x.size - 1)]',
           ('tests/autograd/test_gradcheck.py',),
           'elementwise gradcheck never compares the last entry of an input'),
    Mutant('gradcheck_absolute_tolerance_not_scaled', 'engine', 'scratch/autograd/gradcheck.py',
           'absolute = min(atol, max(atol * scale, noise))',
           'absolute = atol',
           ('tests/autograd/test_gradcheck.py',),
           "gradcheck's absolute tolerance is a fixed atol again, so gradients below it are never checked"),
    Mutant('gradcheck_weights_from_default_rng', 'engine', 'scratch/autograd/gradcheck.py',
           'rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM,)))',
           'rng = np.random.default_rng(seed)',
           ('tests/autograd/test_gradcheck.py',),
           "gradcheck draws its weights from default_rng(seed), the tests' input stream, so r = x"),
    Mutant('adam_bias_correction_frozen_at_first_step', 'optim', 'scratch/optim/adam.py',
           'step *= per_row(self.lr / (1 - beta1**t), theta)',
           'step *= per_row(self.lr / (1 - beta1), theta)',
           ('tests/test_optim.py',),
           'Adam corrects the first moment with 1 − β₁ at every step instead of 1 − β₁ᵗ'),
    Mutant('adam_moment_update_order_swapped', 'optim', 'scratch/optim/adam.py',
           '        m *= beta1\n        m += (1 - beta1) * g\n',
           '        m += (1 - beta1) * g\n        m *= beta1\n',
           ('tests/test_optim.py',),
           'Adam adds the new gradient to m before decaying it (m ← β₁(m + (1 − β₁) g))'),
    Mutant('sgd_momentum_update_order_swapped', 'optim', 'scratch/optim/sgd.py',
           '            b *= mu\n            b += g\n',
           '            b += g\n            b *= mu\n',
           ('tests/test_optim.py',),
           'SGD momentum buffer becomes μ(b + g) instead of μb + g'),
    Mutant('sgd_nesterov_terms_swapped', 'optim', 'scratch/optim/sgd.py',
           'd = g + mu * b if self.nesterov else b',
           'd = b + mu * g if self.nesterov else b',
           ('tests/test_optim.py',),
           'Nesterov step uses b + μg instead of g + μb (equal at the first step only)'),
    Mutant('lazy_adam_shared_row_step', 'optim', 'scratch/optim/adam.py',
           '        t += 1\n',
           '        t[...] = t.max() + 1\n',
           ('tests/test_optim.py',),
           'lazy-sparse Adam gives every touched row the largest step count of the touched rows, not its own'),
    Mutant('perturb_max_vjp_sign_of_the_other_class', 'perturb_max', 'scratch/kernels/perturb_max.py',
           '                        out[b, j] -= a',
           '                        out[b, j] += a',
           ('tests/models/test_perturb_max.py::test_gradcheck_log_probs_and_probs',),
           'Numba VJP adds A_ij to ∂L/∂μ_j instead of subtracting it'),
    Mutant('perturb_max_logistic_hazard_sign', 'perturb_max', 'scratch/kernels/perturb_max.py',
           '        return 1.0 / (1.0 + math.exp(z))',
           '        return 1.0 / (1.0 + math.exp(-z))',
           ('tests/models/test_perturb_max.py::test_gradcheck_log_probs_and_probs',),
           'Numba hazard of the logistic law is F(z) (density sign flipped) instead of f/F = 1 − F(z)'),
    Mutant('perturb_max_panel_weight_drops_length', 'perturb_max', 'scratch/models/perturb_max/laws.py',
           'log_weights = (_log(length) + np.log(w)).reshape(nodes.shape)',
           'log_weights = (_log(np.sign(length)) + np.log(w)).reshape(nodes.shape)',
           ('tests/models/test_perturb_max.py::test_probabilities_sum_to_one_and_ignore_shifts',),
           'Gauss–Legendre panel weights lose the panel length factor (a zero-length panel keeps weight 0)'),
]


def tracked_files(root: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=root, check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line]


def make_copy(root: Path, into: Path) -> None:
    for name in tracked_files(root):
        source = root / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def check_applies(mutant: Mutant, root: Path) -> str | None:
    """None when ``old`` occurs exactly once in the mutant's file, else the reason it does not apply."""
    path = root / mutant.path
    if not path.is_file():
        return f"{mutant.path} does not exist"
    count = path.read_text().count(mutant.old)
    if count != 1:
        return f"the old text occurs {count} times in {mutant.path} (must be once)"
    if mutant.old == mutant.new:
        return "old and new are the same"
    return None


@dataclass
class Outcome:
    mutant: Mutant | None
    status: str          # killed, survived, baseline-ok, baseline-failed, error, timeout
    detail: str
    seconds: float


def run_pytest(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[int | None, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        env["NUMBA_CACHE_DIR"] = cache
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-rf", "-p", "no:cacheprovider", *tests]
        try:
            done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, ""
    return done.returncode, done.stdout + done.stderr


def first_failure(output: str) -> str:
    match = re.search(r"^FAILED (\S+)", output, re.MULTILINE)
    return match.group(1) if match else ""


def run_mutant(mutant: Mutant, copy: Path, timeout: float) -> Outcome:
    path = copy / mutant.path
    original = path.read_text()
    start = time.perf_counter()
    try:
        path.write_text(original.replace(mutant.old, mutant.new, 1))
        code, output = run_pytest(copy, mutant.tests, timeout)
    finally:
        path.write_text(original)
    seconds = time.perf_counter() - start
    if code is None:
        return Outcome(mutant, "timeout", f"no result after {timeout:.0f} s", seconds)
    if code == 1:
        return Outcome(mutant, "killed", first_failure(output), seconds)
    if code == 0:
        return Outcome(mutant, "survived", "every test passed", seconds)
    tail = output.strip().splitlines()[-3:]
    return Outcome(mutant, "error", f"pytest exit {code}: " + " | ".join(tail), seconds)


def verify_imports_from(copy: Path) -> None:
    """The tests must import the package from the copy, not from the checkout it was made from."""
    env = dict(os.environ, PYTHONPATH=str(copy))
    found = subprocess.run([sys.executable, "-c", "import scratch; print(scratch.__file__)"], cwd=copy, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    if not Path(found).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"the copy imports scratch from {found}, not from {copy}; cannot mutate safely")


def load_mutants(extra: list[str]) -> list[Mutant]:
    """``MUTANTS``, then those of each file in ``extra``; a mutant of a file replaces the one of the same name."""
    mutants = {m.name: m for m in MUTANTS}
    if len(mutants) != len(MUTANTS):
        raise SystemExit("mutant names must be unique")
    for file in extra:
        namespace = {"Mutant": Mutant, "__name__": "mutants"}
        exec(compile(Path(file).read_text(), file, "exec"), namespace)  # the user's own list of mutants
        mutants.update((m.name, m) for m in namespace["MUTANTS"])
    return list(mutants.values())


def select(mutants: list[Mutant], only: list[str] | None, family: list[str] | None) -> list[Mutant]:
    if only:
        unknown = set(only) - {m.name for m in mutants}
        if unknown:
            raise SystemExit(f"--only: unknown mutants {sorted(unknown)}")
        mutants = [m for m in mutants if m.name in only]
    if family:
        unknown = set(family) - {m.family for m in mutants}
        if unknown:
            raise SystemExit(f"--family: unknown families {sorted(unknown)}")
        mutants = [m for m in mutants if m.family in family]
    return mutants


def print_table(outcomes: list[Outcome]) -> None:
    rows = [(o.mutant.name, o.mutant.path, o.status, f"{o.seconds:.0f}s", o.detail) for o in outcomes]
    widths = [max(len(r[i]) for r in rows + [("mutant", "file", "status", "time", "")]) for i in range(4)]
    print(f"{'mutant':<{widths[0]}}  {'file':<{widths[1]}}  {'status':<{widths[2]}}  {'time':>{widths[3]}}  "
          "killed by / detail")
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]:>{widths[3]}}  {row[4]}")


def markdown_table(outcomes: list[Outcome]) -> str:
    """The results as a Markdown table: bug, file, what it is, status and the first test that failed."""
    lines = ["| planted bug | file | what the bug does | result | killed by |", "|---|---|---|---|---|"]
    for o in outcomes:
        detail = f"`{o.detail}`" if o.status == "killed" else o.detail
        cells = (f"`{o.mutant.name}`", f"`{o.mutant.path}`", o.mutant.what, o.status, detail)
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these mutants only")
    parser.add_argument("--family", nargs="+", help="run the mutants of these families only")
    parser.add_argument("--mutants", nargs="+", default=[], metavar="FILE",
                        help="Python files defining a list MUTANTS of Mutant(...) to run as well (a name "
                             "already listed replaces that mutant)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once, each in its own copy")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one test run may take")
    parser.add_argument("--markdown", metavar="FILE", help="also write the results as a Markdown table")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the run of the tests on the unchanged copy")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be a positive integer")

    mutants = select(load_mutants(args.mutants), args.only, args.family)
    if args.list:
        for m in mutants:
            print(f"{m.name:<34} {m.family:<14} {m.path}\n{'':<34} {m.what}")
        return 0
    problems = [(m.name, reason) for m in mutants if (reason := check_applies(m, ROOT))]
    if problems:
        for name, reason in problems:
            print(f"{name}: {reason}", file=sys.stderr)
        return 2
    if not mutants:
        print("no mutants selected", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="mutation-check-") as work:
        copies = [Path(work) / f"copy{i}" for i in range(min(args.jobs, len(mutants)))]
        for copy in copies:
            make_copy(ROOT, copy)
        verify_imports_from(copies[0])
        if not args.no_baseline:
            tests = tuple(sorted({t for m in mutants for t in m.tests}))
            print(f"baseline: {len(tests)} test files / ids on the unchanged copy ...", file=sys.stderr, flush=True)
            code, output = run_pytest(copies[0], tests, args.timeout * 2)
            if code != 0:
                print(output[-3000:], file=sys.stderr)
                print("the unchanged copy fails its tests; fix the suite before mutating it", file=sys.stderr)
                return 2
        free = list(copies)

        def job(mutant: Mutant) -> Outcome:
            copy = free.pop()
            try:
                outcome = run_mutant(mutant, copy, args.timeout)
            finally:
                free.append(copy)
            print(f"{outcome.status:>8}  {mutant.name}  ({outcome.seconds:.0f} s) {outcome.detail}",
                  file=sys.stderr, flush=True)
            return outcome

        with ThreadPoolExecutor(max_workers=len(copies)) as pool:
            outcomes = list(pool.map(job, mutants))

    print_table(outcomes)
    if args.markdown:
        Path(args.markdown).write_text(markdown_table(outcomes))
    killed = sum(o.status in ("killed", "timeout") for o in outcomes)
    print(f"\n{killed} of {len(outcomes)} planted bugs killed")
    return 0 if killed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
