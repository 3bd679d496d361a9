"""The cross-check kit: golden cases of every family and kernel, and ``check`` for a PyTorch, JAX or NumPy
implementation of them (docs/crosscheck.md).

``cases(family)`` / ``case(name)`` build the cases from the reference code (float64 inputs, parameters in
torch's layout, outputs and the vector-Jacobian products of fixed random cotangents); ``check(case, fn,
framework)`` runs ``fn`` and returns a ``Report``, tensor by tensor. ``export`` writes cases for other
languages; ``weights`` converts model state dicts to and from torch-named dicts. torch is never imported
here: the torch implementations live in ``scratch.crosscheck.torch_reference``.
"""
from .cases import FAMILIES, case, cases
from .checker import FRAMEWORKS, Case, Report, TensorResult, check, load_cases

__all__ = ["FAMILIES", "FRAMEWORKS", "Case", "Report", "TensorResult", "case", "cases", "check", "load_cases"]
