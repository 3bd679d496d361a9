"""Transformer-VQ (spec transformer_vq.md): the GAU model (``model``) and the vector quantizer with its
EMA codebook (``quantizer``). VQ attention itself is the kernel ``scratch.kernels.vq_attention``."""
from .model import ATTENTIONS, GatedAttentionUnit, TrainingView, TransformerVQ
from .quantizer import VectorQuantizer

__all__ = ["ATTENTIONS", "GatedAttentionUnit", "TrainingView", "TransformerVQ", "VectorQuantizer"]
