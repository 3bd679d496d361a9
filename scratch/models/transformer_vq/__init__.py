"""Transformer-VQ (spec transformer_vq.md): the GAU model (``model``) and the vector quantizer with its
EMA codebook (``quantizer``). VQ attention itself is the kernel ``scratch.kernels.vq_attention``."""
from .model import ATTENTIONS, TRAINING, GatedAttentionUnit, TransformerVQ, TransformerVQConfig, codebook_after_step
from .quantizer import VectorQuantizer

__all__ = ["ATTENTIONS", "TRAINING", "GatedAttentionUnit", "TransformerVQ", "TransformerVQConfig",
           "VectorQuantizer", "codebook_after_step"]
