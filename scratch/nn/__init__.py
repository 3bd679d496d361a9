"""Layers and the Module system: ``Module``, ``Parameter``, containers, layers and ``init``."""
from . import init
from .activation import GELU, ReLU, Sigmoid, SiLU, Tanh
from .conv import Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .linear import Linear
from .module import IncompatibleKeys, Module, ModuleList, Parameter, Sequential
from .normalization import LayerNorm, RMSNorm
from .pooling import AvgPool2d, MaxPool2d

__all__ = [
    "init", "GELU", "ReLU", "Sigmoid", "SiLU", "Tanh", "Conv2d", "Dropout", "Embedding", "Flatten",
    "Linear", "IncompatibleKeys", "Module", "ModuleList", "Parameter", "Sequential", "LayerNorm", "RMSNorm",
    "AvgPool2d", "MaxPool2d",
]
