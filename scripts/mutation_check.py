"""Mutation check: plant small bugs one at a time in a copy of the repository and run the tests that
must catch them. Every planted bug must be killed (a test fails, times out or crashes the test process);
a survivor is a hole in the suite.

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
    # --- window attention and the Transformer (positions, model) -------------------------------------
    Mutant('window_attn_dk_overwritten_across_blocks', 'transformer', 'scratch/kernels/window_attention.py',
           'gemm(ds.T, q[bh, t0:t1], dk[bh, lo:t1], 1.0)',
           'gemm(ds.T, q[bh, t0:t1], dk[bh, lo:t1], 0.0)',
           ('tests/kernels/test_window_attention.py',),
           'Numba backward: a query block overwrites the dk of keys an earlier block already wrote'),
    Mutant('window_attn_dv_overwritten_across_blocks', 'transformer', 'scratch/kernels/window_attention.py',
           'gemm(p.T, grad[bh, t0:t1], dv[bh, lo:t1], 1.0)',
           'gemm(p.T, grad[bh, t0:t1], dv[bh, lo:t1], 0.0)',
           ('tests/kernels/test_window_attention.py',),
           'Numba backward: a query block overwrites the dv of keys an earlier block already wrote'),
    Mutant('window_attn_forward_block_edge', 'transformer', 'scratch/kernels/window_attention.py',
           'lo = max(0, t0 - window + 1)\n            s = buffer',
           'lo = max(0, t0 - window + 2)\n            s = buffer',
           ('tests/kernels/test_window_attention.py',),
           'Numba forward: the key range of a query block starts one key late, the first row of a block past the start loses its oldest key'),
    Mutant('window_attn_dbias_assigned', 'transformer', 'scratch/kernels/window_attention.py',
           'dbias_band[j] += d',
           'dbias_band[j] = d',
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
           'np.repeat(zeta[None, :] ** (np.asarray(positions, np.float64)[:, None] / scale_base), 2, axis=1)',
           'np.tile(zeta[None, :] ** (np.asarray(positions, np.float64)[:, None] / scale_base), (1, 2))',
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
           'pos.sandwich_bias(self.heads, window, self.head_dim, self.sandwich_scale,',
           'pos.sandwich_bias(self.heads, window, self.heads * self.head_dim, self.sandwich_scale,',
           ('tests/models/test_positions.py',),
           'Sandwich bias built over the model width instead of the head size'),
    Mutant('window_attn_forward_reuses_lse', 'transformer', 'scratch/kernels/window_attention.py',
           '_block_probabilities(s, t0, lo, window, row_scale, bias_reversed, lse[bh], LSE_COMPUTE)',
           '_block_probabilities(s, t0, lo, window, row_scale, bias_reversed, lse[bh], LSE_REUSE)',
           ('tests/kernels/test_window_attention.py',),
           'Numba forward: the block helper reads ℓ_t from the uninitialised lse instead of computing and storing it'),
    Mutant('window_attn_log_n_one_allowed', 'transformer', 'scratch/kernels/window_attention.py',
           'log_n = validation.real("log_n", log_n, minimum=1.0, open_below=True)',
           'log_n = validation.real("log_n", log_n, minimum=1.0)',
           ('tests/kernels/test_window_attention.py',),
           'log_n = 1 accepted: c_t = log n_t / log 1 divides by zero'),
    Mutant('window_attn_window_bool_accepted', 'transformer', 'scratch/kernels/window_attention.py',
           'window = validation.positive_int("window", window)\n    implementation',
           'window = int(window)\n    implementation',
           ('tests/kernels/test_window_attention.py',),
           'window=True (and 2.5) reach the kernel as a window of 1 (2) instead of raising'),
    Mutant('transformer_kerple_forms_swapped', 'transformer', 'scratch/models/transformer/model.py',
           'KERPLE_FORMS = {"kerple_power": pos.KERPLE_POWER, "kerple_log": pos.KERPLE_LOG}',
           'KERPLE_FORMS = {"kerple_power": pos.KERPLE_LOG, "kerple_log": pos.KERPLE_POWER}',
           ('tests/models/test_positions.py',),
           'position="kerple_power" builds the log bias and "kerple_log" the power bias'),
    Mutant('transformer_config_hwfa_window_bool', 'transformer', 'scratch/models/transformer/model.py',
           'validation.optional_positive_int("hwfa_window", self.hwfa_window)',
           'self.hwfa_window is None or int(self.hwfa_window)',
           ('tests/models/test_transformer.py',),
           'TransformerConfig(hwfa_window=True) accepted as a window of 1 (and 0 or 2.5 let through)'),
    Mutant('extrapolation_leaky_k', 'transformer', 'scratch/models/transformer/extrapolation.py',
           'LEAKY_REROPE_K = 16.0',
           'LEAKY_REROPE_K = 4.0',
           ('tests/models/test_extrapolation.py',),
           "Leaky ReRoPE evaluated with k = 4 instead of the spec's k = 16"),
    Mutant('positions_rerope_leaky_k_unchecked', 'transformer', 'scratch/models/transformer/positions.py',
           'leaky_k = None if leaky_k is None else validation.real("leaky_k", leaky_k, minimum=1.0)',
           'leaky_k = leaky_k',
           ('tests/models/test_positions.py',),
           'ReRoPE accepts leaky_k < 1, inf or True (a contraction turned into a stretch, or a division by inf)'),
    Mutant('positions_xpos_rerope_key_scaled_up', 'transformer', 'scratch/models/transformer/positions.py',
           'k = k * xpos_factors(centre - key_positions, dim, xpos_scale_base).astype(k.dtype)',
           'k = k * xpos_factors(key_positions - centre, dim, xpos_scale_base).astype(k.dtype)',
           ('tests/models/test_rerope_and_scaling.py',),
           'XPOS under ReRoPE scales the keys by ζ^{+p_k/γ}: the decay follows p_q + p_k, not the relative position'),
    Mutant('positions_clipped_distances_leaky_unscaled', 'transformer', 'scratch/models/transformer/positions.py',
           'else window + (delta - window) / leaky_k',
           'else window + (delta - window)',
           ('tests/models/test_rerope_and_scaling.py',),
           'Leaky ReRoPE distances for the biases not divided by k beyond the window (plain distance)'),
    Mutant('positions_ntk_base_exponent', 'transformer', 'scratch/models/transformer/positions.py',
           'base * factor ** (dim / (dim - 2))',
           'base * factor',
           ('tests/models/test_rerope_and_scaling.py',),
           'NTK-aware scaling raises the base by s instead of s^{D/(D−2)} (the slowest pair not interpolated by s)'),
    Mutant('transformer_yarn_sharpens_once', 'transformer', 'scratch/models/transformer/model.py',
           'sharpen = math.sqrt(pos.yarn_logit_factor(factor))',
           'sharpen = pos.yarn_logit_factor(factor)',
           ('tests/models/test_rerope_and_scaling.py',),
           "YaRN's logit factor applied to q and k each, so the logits get (0.1 ln s + 1)^4"),
    Mutant('cli_tuple_fields_left_as_lists', 'transformer', 'scratch/cli.py',
           'values[field.name] = tuple(value) if typing.get_origin(hints[field.name]) is tuple else value',
           'values[field.name] = value',
           ('tests/test_train_lm.py',),
           'tuple fields (TrainConfig.betas) reach the config as the list argparse made'),
    # --- VQ attention and the Transformer-VQ model ---------------------------------------------------
    Mutant('vq_numba_fold_lags_a_block', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'fold_into_cache(counts, means, codes[b, (n - 1) * L:n * L], v[b, (n - 1) * L:n * L])',
           'fold_into_cache(counts, means, codes[b, max(n - 2, 0) * L:max(n - 1, 0) * L], v[b, max(n - 2, 0) * L:max(n - 1, 0) * L])',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba forward folds block n-2 instead of n-1 into the cache after block n (cache one block late)'),
    Mutant('vq_numba_carried_assigned', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           '                carried[s] += d_means[s] / max(counts[s], 1.0)',
           '                carried[s] = d_means[s] / max(counts[s], 1.0)',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba backward: the reverse cumulative sum of dmu/N over blocks keeps only the latest block'),
    Mutant('vq_ema_sums_assigned', 'transformer_vq', 'scratch/models/transformer_vq/quantizer.py',
           'np.add.at(sums, self.last_codes, self.last_keys.astype(sums.dtype))',
           'sums[self.last_codes] = self.last_keys.astype(sums.dtype)',
           ('tests/models/test_transformer_vq.py::test_one_ema_step_equals_the_formula',),
           'EMA codebook update keeps one key per code instead of the sum of the keys assigned to it'),
    Mutant('vq_fold_forgets_the_old_mean', 'transformer_vq', 'scratch/kernels/vq_attention/cache.py',
           'means[s] = (counts[s] * means[s] + sums[s]) / new_counts[s]',
           'means[s] = (means[s] + sums[s]) / new_counts[s]',
           ('tests/kernels/test_vq_attention.py::test_fold_into_cache_keeps_counts_and_means_of_every_key_folded',),
           'fold: the old mean is not weighted by its count N_s when keys join the cache'),
    Mutant('vq_fold_skips_code_zero', 'transformer_vq', 'scratch/kernels/vq_attention/cache.py',
           '    for s in range(counts.size):\n        # a code',
           '    for s in range(1, counts.size):\n        # a code',
           ('tests/kernels/test_vq_attention.py::test_fold_into_cache_keeps_counts_and_means_of_every_key_folded',),
           'fold: the mean of code 0 never changes'),
    Mutant('vq_cache_logits_without_log', 'transformer_vq', 'scratch/kernels/vq_attention/cache.py',
           'np.where(counts > 0, np.log(np.maximum(counts, 1)), MASKED)',
           'np.where(counts > 0, np.maximum(counts, 1) - 1.0, MASKED)',
           ('tests/kernels/test_vq_attention.py::test_decoding_equals_the_dense_form_over_several_blocks',),
           'cache logit offset N - 1 instead of log N (NumPy reference and decoder)'),
    Mutant('vq_window_bias_check_misses_r_width', 'transformer_vq', 'scratch/kernels/vq_attention/cache.py',
           'len(np.shape(r)) != 2 or np.shape(r)[1] != d_k:',
           'len(np.shape(r)) != 2:',
           ('tests/kernels/test_vq_attention.py::test_bad_decoder_and_dense_arguments_are_named',),
           'window_bias check accepts r of the wrong width'),
    Mutant('vq_decoder_hides_the_oldest_key', 'transformer_vq', 'scratch/kernels/vq_attention/decoder.py',
           'seen = np.concatenate([[True], distance <= self.t])',
           'seen = np.concatenate([[True], distance < self.t])',
           ('tests/kernels/test_vq_attention.py::test_decoding_equals_the_dense_form_over_several_blocks',),
           'decoder masks the key at distance t (the first token) while it is still in the ring'),
    Mutant('vq_decoder_folds_one_step_late', 'transformer_vq', 'scratch/kernels/vq_attention/decoder.py',
           '        if self.t >= self.window:\n',
           '        if self.t > self.window:\n',
           ('tests/kernels/test_vq_attention.py::test_decoding_equals_the_dense_form_over_several_blocks',),
           'decoder drops the first key that leaves the ring instead of folding it into the cache'),
    Mutant('vq_reference_first_block_sees_block_minus_one', 'transformer_vq', 'scratch/kernels/vq_attention/reference.py',
           's_window[~grid.causal | ((np.arange(2 * L) < L) & first)] = MASKED',
           's_window[~grid.causal] = MASKED',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numpy-23-6-4-True]',),
           'reference scores: block 0 attends to the zero padding in front of it'),
    Mutant('vq_reference_bias_stops_before_w', 'transformer_vq', 'scratch/kernels/vq_attention/reference.py',
           '(distance >= 0) & (distance <= max_distance))',
           '(distance >= 0) & (distance < max_distance))',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numpy-23-6-4-True]',),
           'reference window grid: no bias at distance W (forward and backward)'),
    Mutant('vq_reference_carried_assigned', 'transformer_vq', 'scratch/kernels/vq_attention/reference.py',
           'carried += (a_cache.T @ g) / np.maximum(counts, 1)[:, None]',
           'carried = (a_cache.T @ g) / np.maximum(counts, 1)[:, None]',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numpy-23-6-4-True]',),
           'reference backward: the reverse cumulative sum of dmu/N over blocks keeps only the latest block'),
    Mutant('vq_padding_to_the_wrong_length', 'transformer_vq', 'scratch/kernels/vq_attention/attention.py',
           'extra = -ctx.length % block',
           'extra = ctx.length % block',
           ('tests/kernels/test_vq_attention.py::test_blockwise_equals_quadratic[numpy-50-7-12-0]',),
           'T is padded by T mod L instead of up to the next multiple of L'),
    Mutant('vq_function_swaps_du_dw', 'transformer_vq', 'scratch/kernels/vq_attention/attention.py',
           'return dq[:, :T], dk[:, :T], dv[:, :T], du, dw, dr',
           'return dq[:, :T], dk[:, :T], dv[:, :T], dw, du, dr',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numpy-23-6-4-True]',),
           "VQAttention.backward returns the gradients of u and w in each other's place"),
    Mutant('vq_bias_range_check_off_by_one', 'transformer_vq', 'scratch/kernels/vq_attention/attention.py',
           '    if r.shape[0] - 1 > block:',
           '    if r.shape[0] - 1 > block + 1:',
           ('tests/kernels/test_vq_attention.py::test_bad_input_is_named',),
           'entry accepts a bias range W = L + 1, longer than the block'),
    Mutant('vq_dense_drops_u', 'transformer_vq', 'scratch/kernels/vq_attention/dense.py',
           'scores = (q + u) @ k.transpose(0, 2, 1) + relative_bias_matrix(',
           'scores = q @ k.transpose(0, 2, 1) + relative_bias_matrix(',
           ('tests/kernels/test_vq_attention.py::test_windowed_bias_attention_at_all_distances',),
           'dense attention forgets the content bias u'),
    Mutant('vq_dense_visible_excludes_its_edge', 'transformer_vq', 'scratch/kernels/vq_attention/dense.py',
           '(distance <= (T if visible is None else visible))',
           '(distance < (T if visible is None else visible))',
           ('tests/models/test_transformer_vq.py::test_vq_equals_local_when_every_key_is_in_the_window',),
           'sliding window of the "local" baseline hides the key at distance W'),
    Mutant('vq_package_exports_blockwise_as_quadratic', 'transformer_vq', 'scratch/kernels/vq_attention/__init__.py',
           'VQAttention, quadratic_vq_attention, vq_attention',
           'VQAttention, vq_attention, vq_attention as quadratic_vq_attention',
           ('tests/kernels/test_vq_attention.py::test_gradients_equal_the_quadratic_reference',),
           "the package exports the blockwise form under the quadratic reference's name"),
    Mutant('vq_package_exports_dense_as_rel_shift', 'transformer_vq', 'scratch/kernels/vq_attention/__init__.py',
           'from .kernel import blockwise_backward_numba, blockwise_forward_numba',
           'from .kernel import blockwise_backward_numba, blockwise_forward_numba\nfrom .dense import windowed_bias_attention as relative_bias_matrix',
           ('tests/kernels/test_vq_attention.py::test_relative_bias_matrix_is_the_rel_shift',),
           'the package exports dense attention under the name of the rel-shift helper'),
    Mutant('lm_after_step_never_called', 'transformer_vq', 'scratch/training/lm.py',
           '        if after_step is not None:\n            after_step(step + 1)\n        losses.append(value)\n',
           '        losses.append(value)\n',
           ('tests/models/test_lm.py::test_after_step_runs_after_the_optimizer_step_and_before_that_steps_checkpoint',),
           'the after-step hook is never called (the EMA codebook never moves)'),
    Mutant('lm_checkpoint_before_after_step', 'transformer_vq', 'scratch/training/lm.py',
           '        if after_step is not None:\n            after_step(step + 1)\n        losses.append(value)\n        progress.update(step + 1, items=x.size, loss=value, bits=value / math.log(2), lr=optimizer.lr)\n        if checkpoint_path is not None and ((step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps):\n            checkpoint.save(checkpoint_path, model, optimizer, step=step + 1, seed=config.seed,\n                            **dict(checkpoint_meta or {}))\n',
           '        losses.append(value)\n        progress.update(step + 1, items=x.size, loss=value, bits=value / math.log(2), lr=optimizer.lr)\n        if checkpoint_path is not None and ((step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps):\n            checkpoint.save(checkpoint_path, model, optimizer, step=step + 1, seed=config.seed,\n                            **dict(checkpoint_meta or {}))\n        if after_step is not None:\n            after_step(step + 1)\n',
           ('tests/models/test_transformer_vq.py::test_resume_is_exact_for_parameters_and_codebooks',),
           'the after-step hook runs after the checkpoint of its step (a resumed run loses one EMA step)'),
    Mutant('lm_extra_loss_without_gradient', 'transformer_vq', 'scratch/training/lm.py',
           '            loss = loss + extra_loss()',
           '            loss = loss + extra_loss().detach()',
           ('tests/models/test_lm.py::test_extra_loss_joins_the_gradient_but_not_the_returned_losses',),
           'the extra loss is added to the value but not to the gradient'),
    Mutant('vq_auxiliary_loss_drops_beta', 'transformer_vq', 'scratch/models/transformer_vq/model.py',
           'return self.commit_weight * sum(commits[1:], commits[0])',
           'return sum(commits[1:], commits[0])',
           ('tests/models/test_transformer_vq.py::test_auxiliary_loss_is_beta_times_the_commitment_sum',),
           'auxiliary loss Σ l_commit without the weight β'),
    # --- routing and the capsule models --------------------------------------------------------------
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
           'b[j, i] = b[j, i] + a if mode == MODE_SABOUR else a',
           'b[j, i] = b[j, i] + a if mode != MODE_SU2 else a',
           ('tests/kernels/test_routing.py',),
           'Numba routing forward: su1 accumulates the logits like sabour instead of replacing them'),
    Mutant('margin_loss_negative_margin_sign', 'capsule', 'scratch/models/capsule/layers.py',
           'lam * (1.0 - t) * (p - m_neg).relu() ** 2',
           'lam * (1.0 - t) * (p + m_neg).relu() ** 2',
           ('tests/models/test_capsule.py',),
           'margin loss penalises absent classes from -m_neg instead of m_neg'),
    Mutant('routing_reference_sabour_delta_not_carried', 'capsule', 'scratch/kernels/routing.py',
           'delta = softmax_grad + delta if (mode == MODE_SABOUR and delta is not None) else softmax_grad',
           'delta = softmax_grad',
           ('tests/kernels/test_routing.py',),
           'NumPy routing backward: the Sabour logits b^{t+1} = b^t + a^t no longer pass δ back to b^t'),
    Mutant('routing_numba_normalise_backward_radial_sign', 'capsule', 'scratch/kernels/routing.py',
           'out[d] = (grad[d] - o_dot_g * s[d] / r) / r',
           'out[d] = (grad[d] + o_dot_g * s[d] / r) / r',
           ('tests/kernels/test_routing.py',),
           'Numba normalise backward (su2): the radial term is added instead of removed'),
    Mutant('capsule_layer_accepts_bool_iterations', 'capsule', 'scratch/models/capsule/layers.py',
           'self.iterations = positive_int("iterations", iterations)',
           'self.iterations = int(iterations)',
           ('tests/models/test_capsule.py',),
           'CapsuleLayer takes iterations=True as one routing iteration instead of rejecting it'),
    Mutant('capsnet_reconstruction_always_averaged', 'capsule', 'scratch/models/capsule/networks.py',
           'per_batch = 1.0 if self.margin.reduction == "sum" else 1.0 / len(y)',
           'per_batch = 1.0 / len(y)',
           ('tests/models/test_capsule.py::test_sabour_capsnet_loss_keeps_sabours_ratio',),
           "CapsNet's reconstruction term averaged over the batch while Sabour's margin loss is summed over it"),
    # --- word2vec: walker, sampler, update, dispatch, model ------------------------------------------
    Mutant('w2v_shrink_reach_off_by_one', 'word2vec', 'scratch/kernels/sampled_softmax/walker.py',
           'reach = window - below(state, window)',
           'reach = window - 1 - below(state, window)',
           ('tests/kernels/test_word2vec_walker.py',),
           'the shrunk reach is drawn from [0, w-1] instead of [1, w]: a reach of 0 drops the example'),
    Mutant('prefetch_for_writing', 'word2vec', 'scratch/kernels/prefetch.py',
           'i32(0), i32(3), i32(1)])',
           'i32(1), i32(3), i32(1)])',
           ('tests/kernels/test_prefetch.py',),
           'rows are prefetched for writing (x86 prefetchw), which takes the lines away from the other core'),
    Mutant('prefetch_bypasses_the_caches', 'word2vec', 'scratch/kernels/prefetch.py',
           'i32(0), i32(3), i32(1)])',
           'i32(0), i32(0), i32(1)])',
           ('tests/kernels/test_prefetch.py',),
           'rows are prefetched as non-temporal (x86 prefetchnta), kept out of the caches the update reads from'),
    Mutant('prefetch_float64_tables_only', 'word2vec', 'scratch/kernels/prefetch.py',
           '''def _prefetch_impl(table, row):
    if not (isinstance(table, types.Array) and table.ndim == 2 and''',
           '''def _prefetch_impl(table, row):
    if not (isinstance(table, types.Array) and table.ndim == 2 and table.dtype == types.float64 and''',
           ('tests/kernels/test_prefetch.py',),
           "prefetch_row is typed for float64 tables only: a caller with word2vec's float32 tables does not compile"),
    Mutant('prefetch_row_start_float64_tables_only', 'glove', 'scratch/kernels/prefetch.py',
           '''def _prefetch_start_impl(table, row):
    if not (isinstance(table, types.Array) and table.ndim == 2 and''',
           '''def _prefetch_start_impl(table, row):
    if not (isinstance(table, types.Array) and table.ndim == 2 and table.dtype == types.float64 and''',
           ('tests/kernels/test_prefetch.py',),
           "prefetch_row_start is typed for float64 tables only (GloVe's): a float32 caller does not compile"),
    Mutant('w2v_last_waiting_example_not_trained', 'word2vec', 'scratch/kernels/sampled_softmax/walker.py',
           '''    if waiting:
        loss_sum += _train(''',
           '''    if False:
        loss_sum += _train(''',
           ('tests/kernels/test_sampled_softmax.py::test_kernel_training_equals_reference_replay_of_its_examples',),
           'the example still waiting when a part ends is never trained'),
    Mutant('w2v_waiting_example_keeps_a_stale_sample', 'word2vec', 'scratch/kernels/sampled_softmax/walker.py',
           '''                    for s in range(K + 1):
                        waiting_sample[s] = sample[s]''',
           '''                    for s in range(K):
                        waiting_sample[s] = sample[s]''',
           ('tests/kernels/test_sampled_softmax.py::test_kernel_training_equals_reference_replay_of_its_examples',),
           "the waiting example keeps the last sample of the example before it"),
    Mutant('w2v_waiting_example_trained_at_the_next_rate', 'word2vec', 'scratch/kernels/sampled_softmax/walker.py',
           'waiting_sample, waiting_valid, waiting_alpha, work)',
           'waiting_sample, waiting_valid, alpha, work)',
           ('tests/kernels/test_sampled_softmax.py::test_kernel_training_equals_reference_replay_of_its_examples',),
           "the waiting example is trained at the learning rate of the line of the example built after it"),
    Mutant('w2v_right_trim_on_the_left', 'word2vec', 'scratch/kernels/sampled_softmax/walker.py',
           'left, right = reach, reach - config.right_trim',
           'left, right = reach - config.right_trim, reach',
           ('tests/kernels/test_word2vec_walker.py',),
           'the TF off-by-one trims the left side of the window instead of the right'),
    Mutant('w2v_trimmed_slot_not_padded', 'word2vec', 'scratch/kernels/sampled_softmax/walker.py',
           'for _ in range(config.right_trim):',
           'for _ in range(0):',
           ('tests/kernels/test_word2vec_walker.py',),
           'with the right off-by-one and padding, the window is not padded back to 2*window slots (TF class)'),
    Mutant('w2v_context_crosses_line', 'word2vec', 'scratch/kernels/sampled_softmax/walker.py',
           'if 0 <= j < n_tokens:',
           'if 0 <= j < longest:',
           ('tests/kernels/test_word2vec_walker.py',),
           'right contexts read past the end of the line (stale tokens of an earlier, longer line)'),
    Mutant('w2v_centre_subsampling_flipped', 'word2vec', 'scratch/kernels/sampled_softmax/walker.py',
           'if unit(state) >= keep[tokens[i]]:',
           'if unit(state) < keep[tokens[i]]:',
           ('tests/kernels/test_word2vec_walker.py',),
           'centre subsampling drops a word with its keep probability instead of keeping it'),
    Mutant('w2v_context_update_sign', 'word2vec', 'scratch/kernels/sampled_softmax/update.py',
           'E[c, k] -= dh[k]',
           'E[c, k] += dh[k]',
           ('tests/kernels/test_sampled_softmax.py::test_kernel_sgd_step_equals_reference',),
           'the per-example SGD step moves the context rows up the gradient'),
    Mutant('w2v_bias_update_dropped', 'word2vec', 'scratch/kernels/sampled_softmax/update.py',
           'b[r, 0] -= a',
           'b[r, 0] -= 0.0 * a',
           ('tests/kernels/test_sampled_softmax.py::test_kernel_sgd_step_equals_reference',),
           'the per-example SGD step drops the output bias update'),
    Mutant('w2v_alias_last_bucket', 'word2vec', 'scratch/kernels/sampled_softmax/sampling.py',
           'i = min(int(u), rows - 1)',
           'i = min(int(u), rows - 2)',
           ('tests/kernels/test_word2vec_walker.py',),
           'the alias draw never reads the last bucket: its draws go to the one before'),
    Mutant('w2v_model_config_swap', 'word2vec', 'scratch/models/word2vec.py',
           'right_trim=int(self.right_off_by_one),\n                                   shrink=self.shrink_window',
           'right_trim=int(self.shrink_window),\n                                   shrink=self.right_off_by_one',
           ('tests/models/test_word2vec.py::test_window_options_reach_the_walker',),
           'the model passes right_off_by_one as the shrink flag and shrink_window as the right trim'),
    Mutant('w2v_hogwild_every_part_trains_the_first', 'word2vec', 'scratch/kernels/sampled_softmax/dispatch.py',
           'part = Part(bounds[p], bounds[p + 1], seeds[p], progress, chunk_words)',
           'part = Part(bounds[0], bounds[1], seeds[p], progress, chunk_words)',
           ('tests/kernels/test_sampled_softmax.py::test_hogwild_parts_train_every_line_once',),
           'Hogwild: every thread trains the lines of the first part'),
    Mutant('w2v_update_distinct_last_pair_only', 'word2vec', 'scratch/kernels/sampled_softmax/update.py',
           'distinct &= sample[s] != sample[t]',
           'distinct = sample[s] != sample[t]',
           ('tests/kernels/test_sampled_softmax.py::test_kernel_sgd_step_equals_reference',),
           'repeated sampled ids are detected from the last pair only: a repeated row is read after it was written'),
    Mutant('w2v_lcg_increment', 'word2vec', 'scratch/kernels/sampled_softmax/sampling.py',
           'LCG_INCREMENT = np.uint64(11)',
           'LCG_INCREMENT = np.uint64(13)',
           ('tests/kernels/test_sampled_softmax.py::test_lcg_is_word2vec_c_generator', 'tests/kernels/test_word2vec_walker.py'),
           "the LCG adds 13 instead of word2vec.c's 11"),
    Mutant('w2v_log_uniform_rank_not_shifted', 'word2vec', 'scratch/kernels/sampled_softmax/sampling.py',
           'return min(max(k, 0), rows - 2) + 1',
           'return min(max(k, 0), rows - 2)',
           ('tests/kernels/test_word2vec_walker.py::test_alias_and_log_uniform_draws',),
           'the log-uniform sampler returns rank k as the id instead of k + 1 (draws the padding id, never V)'),
    Mutant('w2v_alias_table_leftover', 'word2vec', 'scratch/kernels/sampled_softmax/sampling.py',
           'scaled[g] -= 1.0 - scaled[s]',
           'scaled[g] -= scaled[s]',
           ('tests/kernels/test_sampled_softmax.py::test_alias_table_reproduces_the_distribution_exactly',),
           "Vose's construction takes the under-full bucket's mass, not its complement, from the over-full one"),
    Mutant('w2v_reference_target_delta_sign', 'word2vec', 'scratch/kernels/sampled_softmax/loss.py',
           'delta[:, 0] = -p[:, 1:].sum(axis=1)',
           'delta[:, 0] = p[:, 1:].sum(axis=1)',
           ('tests/kernels/test_sampled_softmax.py::test_reference_equals_autograd',),
           'the reference gives the target slot +(1 - p_0) instead of p_0 - 1'),
    Mutant('w2v_kernel_softmax_without_max', 'word2vec', 'scratch/kernels/sampled_softmax/loss.py',
           'lse = top + math.log(total)',
           'lse = math.log(total)',
           ('tests/kernels/test_sampled_softmax.py::test_kernel_sgd_step_equals_reference',),
           'the kernel log-sum-exp forgets the max it subtracted: wrong loss'),
    Mutant('w2v_kernel_nce_target_sign', 'word2vec', 'scratch/kernels/sampled_softmax/loss.py',
           'x = -z[s] if s == 0 else z[s]',
           'x = z[s] if s == 0 else -z[s]',
           ('tests/kernels/test_sampled_softmax.py::test_kernel_sgd_step_equals_reference',),
           'the kernel NCE loss scores the target as a negative and the negatives as targets'),
    Mutant('w2v_kernel_log_q_sign', 'word2vec', 'scratch/kernels/sampled_softmax/loss.py',
           'zs -= objective.log_expected[r]',
           'zs += objective.log_expected[r]',
           ('tests/kernels/test_sampled_softmax.py::test_kernel_sgd_step_equals_reference',),
           'the kernel adds log(K q) to the logits instead of subtracting it'),
    Mutant('w2v_lazy_adam_no_bias_correction', 'word2vec', 'scratch/kernels/sampled_softmax/lazy.py',
           'rate, root = real(lr / (1.0 - lazy.beta1 ** step[r]))',
           'rate, root = real(lr)',
           ('tests/kernels/test_sampled_softmax.py::test_lazy_optimizers_equal_scratch_optim_sparse_steps_on_the_replayed_examples',),
           "lazy Adam drops the first moment's bias correction 1/(1 - beta1^t)"),
    Mutant('w2v_lazy_adagrad_forgets_history', 'word2vec', 'scratch/kernels/sampled_softmax/lazy.py',
           'm[r, k] += g[k] * g[k]',
           'm[r, k] = g[k] * g[k]',
           ('tests/kernels/test_sampled_softmax.py::test_lazy_optimizers_equal_scratch_optim_sparse_steps_on_the_replayed_examples',),
           'lazy Adagrad keeps only the last squared gradient instead of the sum'),
    Mutant('w2v_lazy_shared_rows_not_merged', 'word2vec', 'scratch/kernels/sampled_softmax/lazy.py',
           'output = INPUT_TABLE if lazy.shared else OUTPUT_TABLE',
           'output = OUTPUT_TABLE',
           ('tests/kernels/test_sampled_softmax.py::test_lazy_optimizers_equal_scratch_optim_sparse_steps_on_the_replayed_examples',),
           'shared weights: a row that is a context and a sample takes two optimizer steps instead of one'),
    Mutant('w2v_serial_parts_share_a_seed', 'word2vec', 'scratch/kernels/sampled_softmax/dispatch.py',
           'part = Part(bounds[p], bounds[p + 1], seeds[p], progress + done, span)',
           'part = Part(bounds[p], bounds[p + 1], seeds[0], progress + done, span)',
           ('tests/kernels/test_sampled_softmax.py::test_hogwild_parts_train_every_line_once',),
           "the serial walk starts every part from the first part's seed"),
    Mutant('w2v_part_seeds_ignore_the_chunk', 'word2vec', 'scratch/kernels/sampled_softmax/dispatch.py',
           'np.random.SeedSequence([seed, chunk_index])',
           'np.random.SeedSequence([seed])',
           ('tests/kernels/test_word2vec_walker.py::test_examples_equal_the_plain_python_walker',),
           'every chunk of every epoch draws the same random numbers'),
    Mutant('w2v_model_sg_not_validated', 'word2vec', 'scratch/models/word2vec.py',
           'for name in ("sg", "cbow_mean", "shared",',
           'for name in ("cbow_mean", "shared",',
           ('tests/models/test_word2vec.py::test_bad_hyper_parameters_name_the_argument',),
           'sg is not checked: sg="no" turns skip-gram on'),
    Mutant('w2v_shared_negatives_detected_by_any', 'word2vec', 'scratch/models/word2vec.py',
           'np.all(samples[1:, 1:] == samples[:1, 1:])',
           'np.any(samples[1:, 1:] == samples[:1, 1:])',
           ('tests/models/test_word2vec_shared_negatives.py',),
           'the autograd loss scores every row against the first row negatives once any one negative agrees'),
    # --- GloVe: kernel, co-occurrence counting, model ------------------------------------------------
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
           'weights = scale / np.arange(1, window + 1) if weighting == "harmonic"',
           'weights = scale / np.arange(2, window + 2) if weighting == "harmonic"',
           ('tests/datasets/test_cooccurrence.py',),
           'harmonic counting weights a pair at distance d by 1/(d+1) instead of 1/d'),
    Mutant('glove_cooccurrence_dense_cell_shifted', 'glove', 'scratch/datasets/cooccurrence.py',
           'dense[row_start[lo] + hi - lo - 1] += weights[d - 1]',
           'dense[row_start[lo] + hi - lo] += weights[d - 1]',
           ('tests/datasets/test_cooccurrence.py',),
           'the Numba pair loop adds a pair of the dense table into the cell of the next column'),
    Mutant('glove_cooccurrence_dense_key_shifted', 'glove', 'scratch/datasets/cooccurrence.py',
           'return rows * size + cells - row_start[rows] + rows + 1, dense[cells]',
           'return rows * size + cells - row_start[rows] + rows, dense[cells]',
           ('tests/datasets/test_cooccurrence.py',),
           'the dense table reads back its cells as the pair (i, j - 1)'),
    Mutant('glove_cooccurrence_inexact_harmonic_sums', 'glove', 'scratch/datasets/cooccurrence.py',
           'return scale if scale * window * max(tokens, 1) < 2**53 else 1',
           'return 1',
           ('tests/datasets/test_cooccurrence.py::test_harmonic_counts_are_the_exact_sums_correctly_rounded_for_any_chunking_and_memory',),
           'harmonic weights summed as floats 1/d: the counts depend on the order of the additions'),
    Mutant('tokens_line_that_does_not_fit_joins_the_chunk', 'word2vec', 'scratch/datasets/tokens.py',
           'if last == line and size == 0:',
           'if last == line:',
           ('tests/datasets/test_tokens.py::test_chunks_and_vocabulary_equal_the_text_readers',),
           'the cached reader adds a line that does not fit to the chunk instead of closing it'),
    Mutant('tokens_empty_lines_stored', 'word2vec', 'scratch/datasets/tokens.py',
           'return ids[ids != _LINE_BREAK], lengths[lengths > 0]',
           'return ids[ids != _LINE_BREAK], lengths',
           ('tests/datasets/test_tokens.py::test_tokens_are_those_of_tokenize_line_by_line',),
           'the cache stores the lines without tokens as empty lines'),
    Mutant('tokens_key_without_encoding', 'word2vec', 'scratch/datasets/tokens.py',
           'key = {"sha256": sha256(path), "encoding": encoding, "tokenizer": TOKENIZER}',
           'key = {"sha256": sha256(path), "tokenizer": TOKENIZER}',
           ('tests/datasets/test_tokens.py::test_a_changed_corpus_or_another_encoding_is_tokenized_afresh',),
           'a cache made with one encoding is read for another'),
    Mutant('tokens_key_by_size_only', 'word2vec', 'scratch/datasets/tokens.py',
           'key = {"sha256": sha256(path),',
           'key = {"sha256": str(path.stat().st_size),',
           ('tests/datasets/test_tokens.py::test_a_changed_corpus_or_another_encoding_is_tokenized_afresh',),
           'a corpus changed to other text of the same size reads the stale cache'),
    Mutant('w2v_fit_keeps_unknown_words', 'word2vec', 'scratch/models/word2vec.py',
           'return tokens.chunks(self.vocab, self.config.chunk_tokens, drop_unknown=True)',
           'return tokens.chunks(self.vocab, self.config.chunk_tokens, drop_unknown=False)',
           ('tests/datasets/test_tokens.py::test_word2vec_trains_the_same_from_the_cache_as_from_the_text',),
           'Word2Vec.fit gives unknown words a window position (word2vec.c drops them)'),
    Mutant('glove_model_target_not_pmi', 'glove', 'scratch/models/glove/model.py',
           'return cooccurrence.pmi()',
           'return np.log(cooccurrence.counts)',
           ('tests/models/test_glove.py::test_planted_rank_d_pmi_is_recovered',),
           'simpler GloVe fits log X_ij instead of the PMI m_ij'),
    Mutant('glove_numba_bias_order_swapped', 'glove', 'scratch/kernels/glove.py',
           '            if order == ADAGRAD_SU:\n                Gb[i] += fe * fe',
           '            if order == ADAGRAD_STANFORD:\n                Gb[i] += fe * fe',
           ('tests/kernels/test_glove.py::test_numba_epoch_equals_the_numpy_definition',),
           'Numba loop: the biases step in the other AdaGrad order than the vectors'),
    Mutant('glove_settings_drop_grad_clip', 'glove', 'scratch/kernels/glove.py',
           'grad_clip=validation.positive_real("grad_clip", grad_clip))',
           'grad_clip=100.0)',
           ('tests/kernels/test_glove.py::test_epoch_equals_the_per_record_adagrad_of_the_spec',),
           "the epoch's AdaGrad settings ignore the grad_clip argument (always glove.c's 100)"),
    Mutant('glove_model_window_unchecked', 'glove', 'scratch/models/glove/model.py',
           'self.window = validation.positive_int("window", window)',
           'self.window = window',
           ('tests/models/test_glove.py::test_true_is_not_an_integer_hyper_parameter',),
           'the model takes window=True as a window of 1 instead of raising'),
    # --- perturb-max: kernel, laws, distribution -----------------------------------------------------
    Mutant('perturb_max_vjp_sign_of_the_other_class', 'perturb_max', 'scratch/kernels/perturb_max.py',
           '                    out[b, j] -= a',
           '                    out[b, j] += a',
           ('tests/models/test_perturb_max.py::test_gradcheck_log_probs_and_probs',),
           'Numba VJP adds A_ij to ∂L/∂μ_j instead of subtracting it'),
    Mutant('perturb_max_parallel_skips_last_row', 'perturb_max', 'scratch/kernels/perturb_max.py',
           'for b in prange(mu.shape[0]):\n        _log_terms_row',
           'for b in prange(mu.shape[0] - 1):\n        _log_terms_row',
           ('tests/models/test_perturb_max.py',),
           'the rows-in-parallel forward leaves the last row of T unwritten'),
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
    Mutant('perturb_max_law_codes_swapped', 'perturb_max', 'scratch/kernels/perturb_max.py',
           '"logistic": LAW_LOGISTIC, "laplace": LAW_LAPLACE,',
           '"logistic": LAW_LAPLACE, "laplace": LAW_LOGISTIC,',
           ('tests/models/test_perturb_max.py::test_numba_kernel_equals_numpy_reference',),
           "the logistic and Laplace laws reach the Numba loops with each other's code"),
    Mutant('perturb_max_scale_unchecked', 'perturb_max', 'scratch/models/perturb_max/distribution.py',
           'scale = validation.positive_real("scale", scale)',
           'scale = float(scale)',
           ('tests/models/test_perturb_max.py::test_settings_are_checked_by_name',),
           'perturb-max takes scale=True as a temperature of 1 and scale=inf as given instead of raising'),
    # --- the engine: ops, functional, convolution, gradcheck itself, training loop -------------------
    Mutant('engine_every_gradient_kept_as_is', 'engine', 'scratch/autograd/tensor.py',
           'mine = g is not None and owned.pop(id(g), None) is g',
           'mine = g is not None',
           ('tests/autograd/test_tensor.py',),
           "a leaf keeps any gradient without a copy, the caller's upstream array and one handed to two leaves included"),
    Mutant('engine_owned_gradient_not_released', 'engine', 'scratch/autograd/tensor.py',
           'mine = g is not None and owned.pop(id(g), None) is g',
           'mine = g is not None and owned.get(id(g)) is g',
           ('tests/autograd/test_tensor.py',),
           'an array a fresh_gradients Function hands to two leaves is kept by both, so they share one .grad'),
    Mutant('engine_kept_gradient_of_another_dtype', 'engine', 'scratch/autograd/tensor.py',
           'keep = mine and g.base is None and g.dtype == self.dtype and',
           'keep = mine and g.base is None and',
           ('tests/autograd/test_tensor.py', 'tests/kernels/test_routing.py'),
           'a fresh gradient of another dtype (a float64 array for a float32 leaf) becomes .grad unconverted'),
    Mutant('conv_weight_grad_assigned_per_chunk', 'engine', 'scratch/autograd/functional/conv.py',
           'dw_sum += x_cols @ g_cols.T if dw_transposed else g_cols @ x_cols.T',
           'dw_sum = x_cols @ g_cols.T if dw_transposed else g_cols @ x_cols.T',
           ('tests/autograd/test_functional.py',),
           "conv2d backward keeps the last chunk's weight gradient only"),
    Mutant('conv_weight_grad_not_transposed_back', 'engine', 'scratch/autograd/functional/conv.py',
           'dw_rows = dw_sum.T if dw_transposed else dw_sum',
           'dw_rows = dw_sum.reshape(dw_sum.shape[::-1])',
           ('tests/autograd/test_functional.py',),
           'conv2d backward reads the weight gradient summed as dWᵀ (kh·kw·C, O) in the layout of dW (O, kh·kw·C)'),
    Mutant('conv_drops_partial_last_chunk', 'engine', 'scratch/autograd/functional/conv.py',
           'return [slice(start, min(start + step, n)) for start in range(0, n, step)]',
           'return [slice(start, min(start + step, n)) for start in range(0, n - step + 1, step)]',
           ('tests/autograd/test_functional.py::test_conv2d_over_uneven_chunks_equals_the_definition',),
           'conv2d chunks skip a last chunk shorter than the step (only when the chunk count does not divide the batch)'),
    Mutant('gelu_tanh_cubic_coefficient', 'engine', 'scratch/autograd/ops/unary.py',
           't = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))',
           't = np.tanh(_SQRT_2_OVER_PI * (x + 0.04715 * x**3))',
           ('tests/autograd/test_functional.py::test_gelu_values_without_torch',),
           'tanh-approximate GELU forward uses 0.04715 for the cubic coefficient'),
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
    Mutant('fit_partial_batch_weighted_as_full', 'engine', 'scratch/training/classifier.py',
           'total += value * len(idx)',
           'total += value * batch_size',
           ('tests/test_training.py',),
           "fit's epoch loss weights the short last batch as a full one (its loss counted batch_size times)"),
    Mutant('minibatches_drop_partial_last_batch', 'engine', 'scratch/training/classifier.py',
           'for start in range(0, n, batch_size)]',
           'for start in range(0, n - n % batch_size, batch_size)]',
           ('tests/test_training.py',),
           'minibatches drops the short last batch: its examples are never trained on nor predicted'),
    Mutant('fit_resume_restarts_step_count', 'engine', 'scratch/training/classifier.py',
           'step = epoch * steps_per_epoch + i + 1',
           'step = (epoch - start_epoch) * steps_per_epoch + i + 1',
           ('tests/test_training.py',),
           'a resumed fit numbers its steps from 1 again instead of continuing the run'),
    Mutant('checkpoint_no_fsync_before_rename', 'engine', 'scratch/checkpoint.py',
           'os.fsync(f.fileno())',
           'f.flush()',
           ('tests/test_runs_and_files.py::test_save_fsyncs_the_file_before_the_rename_and_the_folder_after',),
           'a checkpoint renamed over the old one before its bytes reach the disk (a crash can leave it empty)'),
    Mutant('checkpoint_private_file_mode', 'engine', 'scratch/checkpoint.py',
           'return 0o666 & ~umask',
           'return 0o600',
           ('tests/test_runs_and_files.py::test_checkpoint_gets_the_mode_of_a_new_file_under_the_umask',),
           "checkpoints keep the temporary file's mode 0600 instead of the user's normal mode"),
    Mutant('run_overwrites_a_checkpoint_silently', 'engine', 'scratch/cli.py',
           '        if not overwrite:\n',
           '        if False:\n',
           ('tests/test_runs_and_files.py::test_prepare_run_refuses_to_replace_a_run_and_to_resume_another',),
           'a new run into a folder that holds a checkpoint replaces it without --overwrite'),
    Mutant('resume_compares_only_the_flags_that_may_change', 'engine', 'scratch/checkpoint.py',
           'if name not in allowed and stored.get(name, _MISSING)',
           'if name in allowed and stored.get(name, _MISSING)',
           ('tests/test_runs_and_files.py::test_config_differences_list_changed_added_and_removed_settings_but_those_that_may_change',),
           '--resume checks the flags that may change and lets every other changed flag through'),
    # --- the optimizers ------------------------------------------------------------------------------
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
    # --- non-finite input and argument checks ------------------------------------------------------
    Mutant('window_attn_forward_nonfinite_v_through_blas', 'transformer', 'scratch/kernels/window_attention.py',
           'finite = all_finite(v[bh])',
           'finite = True',
           ('tests/kernels/test_nonfinite.py',),
           'Numba forward: a head with a NaN/inf value takes the BLAS product, whose 0 · NaN spreads it to rows that never see that key'),
    Mutant('window_attn_backward_nonfinite_through_blas', 'transformer', 'scratch/kernels/window_attention.py',
           'finite = all_finite(grad[bh]) and all_finite(q[bh]) and all_finite(k[bh])',
           'finite = True',
           ('tests/kernels/test_nonfinite.py',),
           'Numba backward: a head with a NaN/inf query or key takes the BLAS products and spreads it past the band'),
    Mutant('window_attn_ds_before_band_not_zeroed', 'transformer', 'scratch/kernels/window_attention.py',
           'ds[i, :first] = 0.0',
           'ds[i, :first] *= p[i, :first]',
           ('tests/kernels/test_nonfinite.py',),
           'Numba backward: dS before the band is p · (dO·v − Δ) with p = 0, so a NaN value there leaks as 0 · NaN'),
    Mutant('window_attn_reference_band_padding_kept', 'transformer', 'scratch/kernels/window_attention.py',
           'return np.where(exists[..., None], x[:, :, j], 0.0)',
           'return x[:, :, j]',
           ('tests/kernels/test_nonfinite.py',),
           'NumPy reference: the missing band entries point at key 0 unmasked, so a NaN/inf there reaches the first w − 1 rows'),
    Mutant('window_attn_softmax_fastmath', 'transformer', 'scratch/kernels/window_attention.py',
           '@njit(cache=True)\ndef _block_probabilities(',
           '@njit(cache=True, fastmath=True)\ndef _block_probabilities(',
           ('tests/kernels/test_nonfinite.py',),
           'the softmax helper compiled with fastmath=True: NaN/inf logits give garbage or a ZeroDivisionError now and then'),
    Mutant('window_attn_all_finite_skips_last_row', 'transformer', 'scratch/kernels/vector_math.py',
           'flat = x.reshape(-1)',
           'flat = x[:-1].reshape(-1)',
           ('tests/kernels/test_nonfinite.py',),
           'Numba kernels: the finiteness check of a head misses its last position, so a NaN there takes the BLAS path'),
    Mutant('window_attn_reuse_drops_bias', 'transformer', 'scratch/kernels/window_attention.py',
           'band[j] = exp_like(band[j] * ct + bias[j] - shift)',
           'band[j] = exp_like(band[j] * ct - shift)',
           ('tests/kernels/test_window_attention.py',),
           'Numba backward: the recomputed probabilities leave out the distance bias β'),
    Mutant('window_attn_dk_dv_not_zeroed', 'transformer', 'scratch/kernels/window_attention.py',
           '            dk[bh, t0:t1] = 0.0\n            dv[bh, t0:t1] = 0.0\n',
           '            dk[bh, t0:t1] = 0.0\n',
           ('tests/kernels/test_window_attention.py',),
           'Numba backward: the dv rows of the keys a block brings in are not zeroed, so β = 1 adds to what the array held'),
    Mutant('exp32_low_part_of_ln2_dropped', 'transformer', 'scratch/kernels/vector_math.py',
           'r = (x - n * LN2_HI) - n * LN2_LO',
           'r = x - n * LN2_HI',
           ('tests/kernels/test_vector_math.py',),
           'exp32: the reduction x − n ln 2 uses only the high part of ln 2 (errors of ~10 ulp at large |x|)'),
    Mutant('exp32_polynomial_term_dropped', 'transformer', 'scratch/kernels/vector_math.py',
           '    for c in POLY[1:]:',
           '    for c in POLY[2:]:',
           ('tests/kernels/test_vector_math.py', 'tests/kernels/test_window_attention.py'),
           'exp32: one term of the polynomial for e^r is missing'),
    Mutant('order_key_negatives_not_flipped', 'transformer', 'scratch/kernels/vector_math.py',
           'return b ^ ((b >> np.int32(31)) & _FLIP)',
           'return b',
           ('tests/kernels/test_vector_math.py',),
           'order_key: negative floats keep their raw bits, which sort in reverse, so the maximum of negative logits is wrong'),
    Mutant('sentence_classification_gradient_unscaled_penalty', 'word2vec', 'scratch/evaluate.py',
           'grad = np.vstack([x.T @ residual + l2 / n * params[:-1], residual.sum(axis=0)])',
           'grad = np.vstack([x.T @ residual + l2 * params[:-1], residual.sum(axis=0)])',
           ('tests/test_evaluate.py',),
           'sentence classification: the gradient of the L2 penalty is n times too large, so L-BFGS stops off the optimum'),
    Mutant('sentence_classification_fold_leaks_test_rows', 'word2vec', 'scratch/evaluate.py',
           'model = _fit_softmax_regression((features[~test] - mean) / std, labels[~test], labels.max() + 1, l2)',
           'model = _fit_softmax_regression((features - mean) / std, labels, labels.max() + 1, l2)',
           ('tests/test_evaluate.py',),
           'sentence classification: each fold is fitted on every sentence, its own test rows included'),
    Mutant('routing_nonfinite_accepted', 'capsule', 'scratch/kernels/routing.py',
           '    finite("u_hat", u_hat.data)\n',
           '',
           ('tests/kernels/test_nonfinite.py',),
           'route lets a NaN/inf prediction through instead of raising NonFiniteError'),
    Mutant('vq_attention_nonfinite_accepted', 'transformer_vq', 'scratch/kernels/vq_attention/attention.py',
           '        finite(name, x)\n',
           '        pass\n',
           ('tests/kernels/test_nonfinite.py',),
           'vq_attention lets NaN/inf arrays through instead of raising NonFiniteError'),
    Mutant('lm_forward_nonfinite_not_the_guard', 'transformer_vq', 'scratch/training/lm.py',
           'except NonFiniteError as error:',
           'except NonFiniteLossError as error:',
           ('tests/kernels/test_nonfinite.py',),
           'train_lm lets the NonFiniteError of a NaN forward escape as a ValueError instead of stopping through its guard'),
    Mutant('glove_fastmath_widened', 'glove', 'scratch/kernels/glove.py',
           '@njit(cache=True, fastmath={"reassoc", "contract"}, error_model="numpy")',
           '@njit(cache=True, fastmath={"reassoc", "contract", "arcp", "afn", "nsz"}, error_model="numpy")',
           ('tests/kernels/test_nonfinite.py',),
           'GloVe epoch with the wider fastmath set: a NaN accumulator drops other updates than the reference'),
    Mutant('loss_infinite_returned', 'engine', 'scratch/autograd/functional/loss.py',
           'if not np.isfinite(out.data).all():',
           'if np.isnan(out.data).any():',
           ('tests/test_bad_arguments.py',),
           'a loss that comes out +inf (a −inf logit on the target) is returned instead of raising'),
    Mutant('validation_finite_one_bad_entry_passes', 'engine', 'scratch/validation.py',
           '    if bad:\n        raise NonFiniteError(',
           '    if bad > 1:\n        raise NonFiniteError(',
           ('tests/kernels/test_nonfinite.py',),
           'validation.finite lets an array with a single NaN/inf entry through'),
    Mutant('init_xavier_gain_unchecked', 'engine', 'scratch/nn/init.py',
           'bound = real("gain", gain) * math.sqrt(6.0 / (fan_in + fan_out))',
           'bound = gain * math.sqrt(6.0 / (fan_in + fan_out))',
           ('tests/test_bad_arguments.py',),
           'xavier_uniform_ takes gain=True as 1 instead of refusing it'),
    # --- VQ attention kernel rewrite, the LM/conv-net engine work ---------------------------------------
    Mutant('vq_numba_bias_grad_drops_distance_w', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'd_position[i, :max(lo - (L + i - W), 0)] = 0.0',
           'd_position[i, :max(lo - (L + i - W), 1)] = 0.0',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba backward drops the bias term at distance W from dP (dr_W, dq and dw lose it)'),
    Mutant('vq_numba_first_block_sees_block_minus_one', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'window, cache = scores[i, lo:L + i + 1], scores[i, 2 * L:]',
           'window, cache = scores[i, 0:L + i + 1], scores[i, 2 * L:]',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba weights: block 0 attends to the L slots in front of it (block -1, which does not exist)'),
    Mutant('vq_numba_bias_grad_reads_block_minus_one', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           '                d_position[i, :max(lo - (L + i - W), 0)] = 0.0  # block −1 of block 0: no slots there\n',
           '',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba backward: dP of block 0 reads the slots of block -1 (stale dS of block 1) instead of zeros'),
    Mutant('row_max_skips_the_last', 'transformer_vq', 'scratch/kernels/vector_math.py',
           '    for j in range(x.size):\n        key = order_key(x[j])',
           '    for j in range(x.size - 1):\n        key = order_key(x[j])',
           ('tests/kernels/test_vector_math.py', 'tests/kernels/test_vq_attention.py::test_numba_equals_numpy_reference_with_large_logits'),
           'row maximum ignores the last entry of a row (e^(s - m) can overflow)'),
    Mutant('row_sum_skips_the_first', 'transformer_vq', 'scratch/kernels/vector_math.py',
           '    for j in range(x.size):\n        total += x[j]\n',
           '    for j in range(1, x.size):\n        total += x[j]\n',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba softmax normaliser leaves out the first slot of each part of the row'),
    Mutant('row_dot_squares_do', 'transformer_vq', 'scratch/kernels/vector_math.py',
           'total += x[j] * y[j]',
           'total += x[j] * x[j]',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba backward: rowsum(dO * O) computed as rowsum(dO * dO)'),
    Mutant('exp_like_float64_takes_exp32', 'transformer_vq', 'scratch/kernels/vector_math.py',
           '    if x == types.float32:\n        return lambda x: exp32(x)',
           '    if x in (types.float32, types.float64):\n        return lambda x: exp32(x)',
           ('tests/kernels/test_vector_math.py', 'tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]'),
           'float64 weights go through the float32 exponential (float32 accuracy in the float64 kernels)'),
    Mutant('vq_numba_bias_run_reversed', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'scores[i, L + i - W:L + i + 1] += position[i]',
           'scores[i, L + i - W:L + i + 1] += position[i, ::-1]',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba scores: the bias run of a row is added in the wrong direction (r_d lands at distance W - d)'),
    Mutant('vq_numba_cache_without_log_counts', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'scores[i, 2 * L:] += log_counts',
           'scores[i, 2 * L:] += 0.0',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba cache scores miss log N (counts ignored, empty codes not masked)'),
    Mutant('vq_numba_causal_zeroing_one_short', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'scores[i, L + i + 1:2 * L] = 0.0',
           'scores[i, L + i + 2:2 * L] = 0.0',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba weights: the slot right after the query keeps its raw score (a future key leaks in)'),
    Mutant('vq_numba_cache_weights_unnormalised', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           '            window /= den\n            cache /= den\n',
           '            window /= den\n',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba forward normalises the window weights but not the cache weights'),
    Mutant('vq_numba_forward_cache_output_overwrites', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'gemm(scores[:, 2 * L:], means, out[b, now:now + L], 1.0)',
           'gemm(scores[:, 2 * L:], means, out[b, now:now + L], 0.0)',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba forward: the cache term of O replaces the window term instead of adding to it'),
    Mutant('vq_numba_dv_window_overwritten', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'gemm(weights[:, lo:2 * L].T, g, dv[b, first:now + L], 1.0)',
           'gemm(weights[:, lo:2 * L].T, g, dv[b, first:now + L], 0.0)',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba backward: a block overwrites the dv its successor (and the cache) already wrote'),
    Mutant('vq_numba_dk_window_overwritten', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'gemm(d_scores[:, lo:2 * L].T, qu, dk[b, first:now + L], 1.0)',
           'gemm(d_scores[:, lo:2 * L].T, qu, dk[b, first:now + L], 0.0)',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba backward: a block overwrites the dk its successor already wrote'),
    Mutant('vq_numba_dr_overwritten', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'gemm(d_position.T, qw, dr_b[b], 1.0)',
           'gemm(d_position.T, qw, dr_b[b], 0.0)',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba backward: dr keeps only the last block (block 0) instead of the sum over blocks'),
    Mutant('vq_numba_dr_not_reversed', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'dr_b.sum(axis=0)[::-1].copy()',
           'dr_b.sum(axis=0).copy()',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba backward returns dr in the reversed order of r~ (dr_{W-d} in place of dr_d)'),
    Mutant('vq_numba_dscores_skip_the_cache', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'for j in range(lo, 2 * L + S):',
           'for j in range(lo, 2 * L):',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba backward: dS of the cache slots stays dO mu^T (no A * (. - rowsum) step)'),
    Mutant('vq_numba_dqu_cache_term_overwrites', 'transformer_vq', 'scratch/kernels/vq_attention/kernel.py',
           'gemm(d_scores[:, 2 * L:], codebook, dqu, 1.0)',
           'gemm(d_scores[:, 2 * L:], codebook, dqu, 0.0)',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'Numba backward: d(q+u) from the cache replaces the window part instead of adding to it'),
    Mutant('vq_gemm_rows_read_transposed', 'transformer_vq', 'scratch/kernels/blas.py',
           'return ord("n"), max(row_stride if rows > 1 else columns, columns, 1)',
           'return ord("t"), max(row_stride if rows > 1 else columns, columns, 1)',
           ('tests/kernels/test_vq_attention.py::test_gemm_writes_products_of_views_in_place',),
           'gemm passes the transpose flag for an operand with contiguous rows'),
    Mutant('vq_gemm_ignores_the_row_stride_of_c', 'transformer_vq', 'scratch/kernels/blas.py',
           'ldc = max(c.strides[0] // c.itemsize if m > 1 else n, n, 1)',
           'ldc = max(n, 1)',
           ('tests/kernels/test_vq_attention.py::test_gemm_writes_products_of_views_in_place',),
           'gemm writes c as if it were contiguous (wrong for a column block of a wider buffer)'),
    Mutant('vq_gemm_drops_beta', 'transformer_vq', 'scratch/kernels/blas.py',
           '_xxgemm(trans_b, trans_a, n, m, k, b, ldb, a, lda, beta, c, ldc)',
           '_xxgemm(trans_b, trans_a, n, m, k, b, ldb, a, lda, 0.0, c, ldc)',
           ('tests/kernels/test_vq_attention.py::test_gemm_writes_products_of_views_in_place',),
           'gemm always overwrites c (beta = 1 does not add)'),
    Mutant('vq_padding_skipped_for_one_row', 'transformer_vq', 'scratch/kernels/vq_attention/attention.py',
           '    if extra == 0:\n        return np.ascontiguousarray(x)',
           '    if extra <= 1:\n        return np.ascontiguousarray(x)',
           ('tests/kernels/test_vq_attention.py::test_several_blocks_and_a_partial_one_equal_the_dense_form[numba-23-6-4-True]',),
           'T one short of a multiple of the block is not padded (the last partial block is never computed)'),
    Mutant('layer_norm_eps_outside_sqrt', 'engine', 'scratch/autograd/functional/normalization.py',
           'r = 1 / np.sqrt(_row_dot(xc, xc) / x.shape[-1] + eps)',
           'r = 1 / (np.sqrt(_row_dot(xc, xc) / x.shape[-1]) + eps)',
           ('tests/autograd/test_functional.py::test_affine_norm_values_without_torch', 'tests/nn/test_layers.py::test_affine_norm_layers_compute_the_formula'),
           'layer/RMS norm adds eps to the standard deviation instead of the variance'),
    Mutant('gelu_exact_cdf_argument_scaled', 'engine', 'scratch/autograd/ops/unary.py',
           '        return special.ndtr(x), _INV_SQRT_2PI',
           '        return special.ndtr(x * 1.0001), _INV_SQRT_2PI',
           ('tests/autograd/test_functional.py::test_gelu_values_without_torch',),
           'exact GELU forward evaluates Phi at a slightly rescaled argument'),
    Mutant('causal_attention_delta_sign', 'engine', 'scratch/autograd/functional/attention.py',
           'ds -= np.einsum("bhtd,bhtd->bht", g, o[part])[..., None]',
           'ds += np.einsum("bhtd,bhtd->bht", g, o[part])[..., None]',
           ('tests/autograd/test_fused.py',),
           'fused attention backward adds Δ = dO·o instead of subtracting it (dS = P ⊙ (dP + Δ))'),
    Mutant('causal_attention_backward_drops_factor', 'engine', 'scratch/autograd/functional/attention.py',
           '            ds *= ctx.factor\n',
           '',
           ('tests/autograd/test_fused.py',),
           'fused attention backward forgets the factor c σ on dS (dq, dk too large by 1/(c σ))'),
    Mutant('causal_attention_last_partial_block_dropped', 'engine', 'scratch/autograd/functional/attention.py',
           'return [slice(start, min(start + step, batch)) for start in range(0, batch, step)]',
           'return [slice(start, min(start + step, batch)) for start in range(0, batch - step + 1, step)]',
           ('tests/autograd/test_fused.py',),
           'the batch blocks of fused attention skip a last block shorter than the step'),
    Mutant('causal_attention_nonfinite_through_blas', 'engine', 'scratch/autograd/functional/attention.py',
           '    if not np.isfinite(out).all():\n',
           '    if False:\n',
           ('tests/autograd/test_fused.py',),
           'fused attention multiplies the masked zeros by a later NaN key/value (0 · NaN reaches earlier queries)'),
    Mutant('causal_attention_dk_from_untransposed_scores', 'engine', 'scratch/autograd/functional/attention.py',
           '_causal_matmul(ds.swapaxes(-1, -2), q[part], ~future.T, dk[part])',
           '_causal_matmul(ds, q[part], ~future, dk[part])',
           ('tests/autograd/test_fused.py',),
           'fused attention computes dk = dS q instead of dSᵀ q'),
    Mutant('transformer_dense_path_drops_log_n', 'transformer', 'scratch/models/transformer/model.py',
           'o = F.causal_attention(q, k, v, row_scale=None if self.log_n is None\n',
           'o = F.causal_attention(q, k, v, row_scale=None if True\n',
           ('tests/autograd/test_fused.py', 'tests/models/test_transformer.py'),
           "the model's fused full-attention path forgets the trained log-n factor"),
    Mutant('gelu_float32_erfc_fit_coefficient', 'engine', 'scratch/autograd/ops/unary.py',
           '_ERFC_FIT = (-1.26551223, 1.00002368,',
           '_ERFC_FIT = (-1.26551223, 1.0002368,',
           ('tests/autograd/test_fused.py',),
           "float32 GELU's erfc fit has a mistyped first-order coefficient (Φ off by ~1e-4)"),
    Mutant('gelu_blocks_skip_partial_last', 'engine', 'scratch/autograd/ops/unary.py',
           'for start in range(0, flat.size, ELEMENTWISE_BLOCK):',
           'for start in range(0, flat.size - ELEMENTWISE_BLOCK + 1, ELEMENTWISE_BLOCK):',
           ('tests/autograd/test_fused.py',),
           'GELU forward leaves a last block shorter than ELEMENTWISE_BLOCK unwritten'),
    Mutant('gelu_derivative_drops_x', 'engine', 'scratch/autograd/ops/unary.py',
           '                    pdf *= flat[part]\n',
           '',
           ('tests/autograd/test_ops.py', 'tests/autograd/test_fused.py'),
           "exact GELU's kept derivative is Φ + φ instead of Φ + x φ"),
    Mutant('matmul_stacked_rows_weight_grad_first_matrix', 'engine', 'scratch/autograd/ops/linalg.py',
           'gb = matrix_rows(a).T @ g if db else None',
           'gb = a.reshape(-1, a.shape[-1])[:a.shape[-2]].T @ g[:a.shape[-2]] if db else None',
           ('tests/autograd/test_fused.py', 'tests/autograd/test_ops.py'),
           "stacked-rows MatMul backward sums the matrix's gradient over the first matrix of the stack only"),
    Mutant('max_pool_disjoint_if_one_axis_is', 'engine', 'scratch/autograd/functional/conv.py',
           'ctx.disjoint = slices, sh >= kh and sw >= kw',
           'ctx.disjoint = slices, sh >= kh or sw >= kw',
           ('tests/autograd/test_functional.py',),
           'max-pool backward overwrites instead of adding when windows overlap along one axis only'),
    Mutant('max_pool_ties_all_take_the_gradient', 'engine', 'scratch/autograd/functional/conv.py',
           '            left *= np.logical_not(hit, out=hit)\n',
           '',
           ('tests/autograd/test_functional.py',),
           'max-pool backward gives every tied maximum the whole gradient instead of the first one'),
    Mutant('max_pool_forward_skips_last_kernel_row', 'engine', 'scratch/autograd/functional/conv.py',
           'row_max = _maximum([x[..., slices[kw * i][-2], :] for i in range(kh)])',
           'row_max = _maximum([x[..., slices[kw * i][-2], :] for i in range(max(kh - 1, 1))])',
           ('tests/autograd/test_functional.py',),
           'max-pool forward ignores the last row of each window'),
    Mutant('conv_bias_dropped_in_output_copy', 'engine', 'scratch/autograd/functional/conv.py',
           'np.add(outputs, bias[:, None, None], out=y[part])',
           'np.add(outputs, bias[:1, None, None], out=y[part])',
           ('tests/autograd/test_functional.py',),
           "conv2d forward adds the first channel's bias to every output channel"),
    Mutant('conv_bias_grad_assigned_per_chunk', 'engine', 'scratch/autograd/functional/conv.py',
           'db += g_cols.sum(axis=1)',
           'db = g_cols.sum(axis=1)',
           ('tests/autograd/test_functional.py',),
           "conv2d backward keeps the last chunk's bias gradient only"),
    Mutant('norm_backward_projection_sign', 'engine', 'scratch/autograd/functional/normalization.py',
           'dx = x_hat * (_row_dot(g_hat, x_hat) / -x_hat.shape[-1])',
           'dx = x_hat * (_row_dot(g_hat, x_hat) / x_hat.shape[-1])',
           ('tests/autograd/test_functional.py',),
           'layer/RMS norm backward adds x̂ mean(ĝ ⊙ x̂) instead of subtracting it'),
    Mutant('norm_weight_grad_forgets_x_hat', 'engine', 'scratch/autograd/functional/normalization.py',
           'dw = np.einsum("ni,ni->i", matrix_rows(grad), matrix_rows(x_hat))',
           'dw = matrix_rows(grad).sum(axis=0)',
           ('tests/autograd/test_functional.py',),
           'layer/RMS norm weight gradient is Σ g instead of Σ g ⊙ x̂'),
    Mutant('cross_entropy_target_logit_after_exp', 'engine', 'scratch/autograd/functional/loss.py',
           '        z_target = np.take_along_axis(p, t, axis=-1)\n        np.exp(p, out=p)\n',
           '        np.exp(p, out=p)\n        z_target = np.take_along_axis(p, t, axis=-1)\n',
           ('tests/autograd/test_functional.py',),
           'cross-entropy reads the target entry after the in-place exp (exp z_t instead of z_t)'),
    Mutant('torch_peer_rope_frequencies_over_model_width', 'engine', 'scratch/crosscheck/torch_reference/lm.py',
           'dtype=torch.float64) / self.head_dim)',
           'dtype=torch.float64) / self.dim)',
           ('tests/test_lm_torch_peer.py',),
           "the torch peer's RoPE frequencies use the model width d instead of the head size D"),
    Mutant('torch_peer_embedding_not_scaled', 'engine', 'scratch/crosscheck/torch_reference/lm.py',
           'x = self.embedding(ids) * math.sqrt(self.dim)',
           'x = self.embedding(ids)',
           ('tests/test_lm_torch_peer.py',),
           'the torch peer forgets the √d scale of the embedding'),
    Mutant('max_pool_grad_uninitialised_with_a_remainder', 'engine', 'scratch/autograd/functional/conv.py',
           'ctx.tiled = (sh, sw) == (kh, kw) and x.shape[-2] % kh == 0 and x.shape[-1] % kw == 0',
           'ctx.tiled = (sh, sw) == (kh, kw)',
           ('tests/autograd/test_functional.py',),
           'max-pool backward leaves the remainder rows/columns of dx uninitialised (np.empty) when windows do not tile x'),
    # --- the 2 × 2 max-pool kernel and the allocator setting ------------------------------------------
    Mutant('max_pool_kernel_misses_a_window_entry', 'engine', 'scratch/kernels/max_pool.py',
           '_maximum(top[2 * q + 1], bottom[2 * q + 1]))',
           'top[2 * q + 1])',
           ('tests/kernels/test_max_pool.py',),
           "the kernel's forward leaves the bottom-right entry of each window out of the maximum"),
    Mutant('max_pool_kernel_drops_nan', 'engine', 'scratch/kernels/max_pool.py',
           'return a if a >= b or a != a else b',
           'return a if a >= b else b',
           ('tests/kernels/test_max_pool.py',),
           "the kernel's maximum drops a NaN in its first operand (np.maximum propagates it)"),
    Mutant('max_pool_kernel_tie_gradient_shared', 'engine', 'scratch/kernels/max_pool.py',
           '''                d_top[2 * q] = left * hit
                left *= one - hit''',
           '''                d_top[2 * q] = left * hit''',
           ('tests/kernels/test_max_pool.py',),
           "at a tie with the top-left entry, the kernel's backward hands the gradient out a second time"),
    Mutant('max_pool_kernel_odd_row_not_cleared', 'engine', 'scratch/kernels/max_pool.py',
           'dx[k, h - 1, :] = zero',
           'dx[k, h - 1, :] = dx[k, h - 2, :]',
           ('tests/kernels/test_max_pool.py',),
           "the kernel's backward copies the last pooled row's gradient into the dropped odd row"),
    Mutant('nn_max_pool_kernel_for_any_stride', 'engine', 'scratch/nn/pooling.py',
           'if self.kernel_size == self.stride == (2, 2) and',
           'if self.kernel_size == (2, 2) and',
           ('tests/kernels/test_max_pool.py',),
           'nn.MaxPool2d runs the stride-2 kernel for a 2 × 2 window of any stride'),
    Mutant('routing_finite_check_first_sample_only', 'capsule', 'scratch/kernels/routing.py',
           '    return finite.all()',
           '    return finite[0]',
           ('tests/kernels/test_routing.py', 'tests/kernels/test_nonfinite.py'),
           "the parallel finiteness check of the predictions reads only the first sample's verdict"),
    Mutant('routing_numba_skips_finite_check', 'capsule', 'scratch/kernels/routing.py',
           'if not (implementation == NUMBA and all_finite_numba(np.ascontiguousarray(u_hat.data))):',
           'if implementation != NUMBA:',
           ('tests/kernels/test_routing.py', 'tests/kernels/test_nonfinite.py'),
           'route with the Numba kernel no longer refuses NaN or infinite predictions'),
    Mutant('freed_memory_trimmed', 'engine', 'scratch/memory.py',
           'return bool(mapped) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))',
           'return bool(mapped)',
           ('tests/test_memory.py',),
           'keep_freed_memory leaves the trim threshold: free memory at the top of the heap is still returned'),
    Mutant('freed_memory_large_blocks_mapped', 'engine', 'scratch/memory.py',
           'mapped = mallopt(M_MMAP_THRESHOLD, mmap_threshold) or mallopt(M_MMAP_THRESHOLD, min(mmap_threshold, 1 << 25))',
           'mapped = True',
           ('tests/test_memory.py',),
           'keep_freed_memory leaves the mmap threshold: large blocks still get mappings of their own'),
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
    status: str          # killed, survived, baseline-ok, baseline-failed, error, timeout, crashed
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
    if code < 0:  # the test process died on a signal (memory the bug corrupted): the suite cannot pass
        return Outcome(mutant, "crashed", f"pytest killed by signal {-code}: " + " | ".join(tail), seconds)
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
    killed = sum(o.status in ("killed", "timeout", "crashed") for o in outcomes)
    print(f"\n{killed} of {len(outcomes)} planted bugs killed")
    return 0 if killed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
