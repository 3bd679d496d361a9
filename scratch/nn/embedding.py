"""``Embedding``: a table of vectors looked up by integer ids."""
from __future__ import annotations

import numpy as np

from ..autograd import functional as F
from ..autograd import Tensor, where
from . import init
from .module import Module, Parameter
from ..validation import floating_dtype, generator, integer, positive_int


class Embedding(Module):
    """y[..., :] = W[ids[...], :].

    ids: integer array of any shape → y: (*ids.shape, embedding_dim);  W: (num_embeddings,
    embedding_dim) ~ N(0, 1) as ``torch.nn.Embedding``. The row ``padding_idx`` (if given) starts
    at zero and receives no gradient: positions holding it read the row as a constant.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, *, padding_idx: int | None = None,
                 rng: np.random.Generator | None = None, dtype: np.dtype | type = np.float32):
        super().__init__()
        self.num_embeddings = positive_int("num_embeddings", num_embeddings)
        self.embedding_dim = positive_int("embedding_dim", embedding_dim)
        if padding_idx is not None:
            padding_idx = integer("padding_idx", padding_idx, -self.num_embeddings, self.num_embeddings - 1)
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        weight = np.empty((self.num_embeddings, self.embedding_dim), floating_dtype("dtype", dtype))
        init.normal_(weight, 0.0, 1.0, generator("rng", rng))
        if padding_idx is not None:
            weight[padding_idx] = 0
        self.weight = Parameter(weight)

    def forward(self, ids: Tensor | np.ndarray) -> Tensor:
        ids = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        y = F.embedding(self.weight, ids)
        if self.padding_idx is None:
            return y
        is_padding = (ids == self.padding_idx)[..., None]
        return where(is_padding, self.weight.data[self.padding_idx], y)

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
