"""Embedding lookup: rows of a table picked by integer ids."""
from __future__ import annotations

from typing import Any

from .. import ops
from ..array_api import check_indices
from ..tensor import Tensor, as_tensor


def embedding(weight: Any, ids: Any) -> Tensor:
    """y[..., :] = weight[ids[...], :] for weight (V, D) and integer ids (...) in [0, V) → y (..., D).

    Backward scatter-adds each output row into the row it came from, so an id used n times
    receives the sum of its n gradients.
    """
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"weight must be a (num_embeddings, embedding_dim) table, got shape {weight.shape}")
    ids = check_indices(ids, weight.shape[0], "ids", allow_negative=False)
    return ops.Take.apply(weight, ids, axis=0)
