"""word2vec's sampled-softmax kernels (spec word_vectors.md §1.2–1.3, §5), one idea per module:

- ``loss``: the loss of an example and its gradients, the NumPy reference and its Numba twin;
- ``sampling``: word2vec.c's LCG, Walker's alias tables, the uniform / unigram / log-uniform draws;
- ``update``: the fused SGD step of one example, in place;
- ``lazy``: lazy per-row Adagrad / Adam on the rows an example touches;
- ``walker``: the examples built from lines of a corpus chunk (windows, subsampling, padding);
- ``dispatch``: parts, seeds, serial or Hogwild walks — ``train_chunk`` and ``trace_chunk``.
"""
from .dispatch import part_seeds, split_lines, trace_chunk, train_chunk
from .lazy import LAZY_OPTIMIZERS, MOMENTS, OPTIMIZER_ADAGRAD, OPTIMIZER_ADAM, OPTIMIZER_SGD, LazyState, lazy_state
from .loss import (LOSS_NCE, LOSS_SOFTMAX, LOSSES, Objective, Tables, example_loss_and_grads, sgd_step_reference,
                   slot_deltas_reference, tables)
from .sampling import (SAMPLER_LOG_UNIFORM, SAMPLER_UNIFORM, SAMPLER_UNIGRAM, SAMPLERS, Sampler, alias_table,
                       lcg_next)
from .update import sgd_step_kernel
from .walker import SUBSAMPLE_BOTH, SUBSAMPLE_CENTRE, SUBSAMPLE_OFF, SUBSAMPLING, WalkerConfig

__all__ = ["LAZY_OPTIMIZERS", "LOSSES", "LOSS_NCE", "LOSS_SOFTMAX", "LazyState", "MOMENTS", "OPTIMIZER_ADAGRAD",
           "OPTIMIZER_ADAM", "OPTIMIZER_SGD", "Objective", "SAMPLERS", "SAMPLER_LOG_UNIFORM", "SAMPLER_UNIFORM",
           "SAMPLER_UNIGRAM", "SUBSAMPLE_BOTH", "SUBSAMPLE_CENTRE", "SUBSAMPLE_OFF", "SUBSAMPLING", "Sampler",
           "Tables", "WalkerConfig", "alias_table", "example_loss_and_grads", "lazy_state", "lcg_next", "part_seeds",
           "sgd_step_kernel", "sgd_step_reference", "slot_deltas_reference", "split_lines", "tables", "trace_chunk",
           "train_chunk"]
