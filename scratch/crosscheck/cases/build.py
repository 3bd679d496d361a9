"""Make a golden case by running the reference on the engine: outputs, then one backward pass of
Σ_o <u_o, output_o> with fixed random cotangents u_o, in float64."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...autograd import Tensor
from ...nn import Module, Parameter
from ..checker import Case

# float64 with different summation orders agrees to ~1e-13; two orders of magnitude of room.
ATOL, RTOL = 1e-10, 1e-8


def build_case(name: str, reference: Callable[..., dict[str, Any]], *, description: str,
               inputs: dict[str, np.ndarray] | None = None, parameters: dict[str, np.ndarray] | None = None,
               constants: dict[str, np.ndarray] | None = None, options: dict[str, Any] | None = None,
               layouts: dict[str, str], atol: float = ATOL, rtol: float = RTOL, seed: int = 0,
               straight_through: tuple[str, ...] = ()) -> Case:
    """Run ``reference(**inputs, **parameters, **constants, **options)`` (a dict of Tensors or integer
    arrays) with gradients on the inputs and parameters (passed as ``Parameter``s, which a reference may
    place into a module) and return the ``Case``.

    ``layouts`` must describe every array and output; cotangents are N(0, 1) from ``seed``;
    ``straight_through`` names the arrays whose gradient is a straight-through surrogate.
    """
    inputs, parameters = dict(inputs or {}), dict(parameters or {})
    constants, options = dict(constants or {}), dict(options or {})
    for group in (inputs, parameters):
        for key, value in group.items():
            if value.dtype != np.float64:
                raise ValueError(f"case {name}: {key} must be float64, got {value.dtype}")
    tensors = {**{k: Tensor(v, requires_grad=True) for k, v in inputs.items()},
               **{k: Parameter(v) for k, v in parameters.items()}}
    result = reference(**tensors, **constants, **options)
    outputs = {k: v.data.copy() if isinstance(v, Tensor) else np.asarray(v) for k, v in result.items()}
    rng = np.random.default_rng(seed)
    cotangents = {k: rng.standard_normal(v.shape) for k, v in outputs.items() if np.issubdtype(v.dtype, np.floating)}
    total = None
    for k, u in cotangents.items():
        if isinstance(result[k], Tensor) and result[k].requires_grad:
            term = (result[k] * u).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    grads = {k: np.zeros_like(t.data) if t.grad is None else np.array(t.grad) for k, t in tensors.items()}
    named = {*inputs, *parameters, *constants, *outputs}
    missing = sorted(named - set(layouts))
    if missing:
        raise ValueError(f"case {name}: no layout for {missing}")
    return Case(name, description, inputs, parameters, constants, options, outputs, cotangents, grads,
                {k: layouts[k] for k in layouts if k in named}, atol, rtol, tuple(straight_through), reference)


def place_parameters(module: Module, parameters: dict[str, Any]) -> None:
    """Put ``parameters`` (dotted state_dict names → Parameters, or arrays) into ``module`` in place of its
    own, so that the case's gradients land on them."""
    for key, value in parameters.items():
        *path, leaf = key.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, leaf, value if isinstance(value, Parameter) else Parameter(np.asarray(value)))
