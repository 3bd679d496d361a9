"""GloVe and simpler GloVe (spec §2): the models (``model``) and the analyses of the vectors (``analysis``)."""
from .model import GloVe, SimplerGloVe

__all__ = ["GloVe", "SimplerGloVe"]
