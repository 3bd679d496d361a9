"""Primitive differentiable ops, grouped by kind (binary, unary, reductions, shape, linear algebra)."""
from .binary import Add, Div, Maximum, Minimum, Mul, Pow, Sub, Where
from .linalg import MatMul
from .reduction import Max, Mean, Min, Sum
from .shape import BroadcastTo, Concatenate, Gather, GetItem, Pad, Reshape, Stack, Take, Transpose
from .unary import Abs, Cast, Clip, Exp, Gelu, Log, Neg, Relu, Sigmoid, Silu, Sqrt, Tanh

__all__ = [
    "Add", "Div", "Maximum", "Minimum", "Mul", "Pow", "Sub", "Where", "MatMul", "Max", "Mean", "Min",
    "Sum", "BroadcastTo", "Concatenate", "Gather", "GetItem", "Pad", "Reshape", "Stack", "Take",
    "Transpose", "Abs", "Cast", "Clip", "Exp", "Gelu", "Log", "Neg", "Relu", "Sigmoid", "Silu", "Sqrt",
    "Tanh",
]
