"""The local-attention Transformer and length extrapolation (spec Part B): the model (``model``), the
position schemes (``positions``) and the extrapolation experiment (``extrapolation``). Dense attention
lives in ``scratch.functional``, the sliding-window kernel in ``scratch.kernels.window_attention``."""
from .model import (ACTIVATIONS, CONFIG_CHOICES, NORMS, POSITIONS, Block, CausalSelfAttention, TransformerConfig,
                    TransformerLM)

__all__ = ["ACTIVATIONS", "CONFIG_CHOICES", "NORMS", "POSITIONS", "Block", "CausalSelfAttention", "TransformerConfig",
           "TransformerLM"]
