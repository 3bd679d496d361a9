"""``Optimizer``: the base of the update rules: the parameters, the learning rate and per-parameter state.

A subclass names the arrays it keeps for each parameter (``init_state``) and applies its rule in
place to a parameter, its gradient and its state arrays (``update``); ``step`` calls ``update`` for
every parameter whose ``grad`` is not None, creating its state on first use.

Lazy-sparse mode (``sparse=True``, for embedding tables) updates only the rows of the first axis
whose gradient row is non-zero: ``step`` gathers those rows of θ, of the gradient and of every
state array, applies the same ``update`` to them and scatters them back. The other rows keep their
values *and* their state, as if the step had not happened for them (TF's LazyAdam and
``torch.optim.SparseAdam`` treat the moments the same way). A row looked up but given an exactly
zero gradient counts as untouched.

``state_dict`` is flat and holds only arrays and numbers, so it goes straight into an ``.npz``:
``{"lr": 0.001, "state.3.exp_avg": array, "state.3.step": array, ...}`` (the number is the
parameter's position in ``params``).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from ..autograd import Tensor
from ..validation import boolean, positive_real, real


def touched_rows(grad: np.ndarray) -> np.ndarray:
    """Indices of the rows (first axis) of ``grad`` with a non-zero entry, ascending."""
    return np.flatnonzero(grad.reshape(len(grad), -1).any(axis=1))


def per_row(values: np.ndarray | float, like: np.ndarray) -> np.ndarray:
    """Per-row ``values`` (k,) (or a scalar) in ``like``'s dtype, shaped to broadcast over rows (k, 1, ..., 1)."""
    values = np.asarray(values, dtype=like.dtype)
    return values.reshape(values.shape + (1,) * max(like.ndim - 1, 0))


class Optimizer:
    """Base class: ``params`` (a list of Tensors), ``lr``, ``state`` (one dict of arrays per parameter)."""

    def __init__(self, params: Iterable[Tensor], lr: float, *, sparse: bool = False):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"params must be a non-empty iterable of Tensors, got {self.params!r}")
        sparse = boolean("sparse", sparse)
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"params[{i}] must be a Tensor that requires grad, got {type(p).__name__}")
            if id(p) in seen:
                raise ValueError(f"params[{i}] appears more than once in params")
            seen.add(id(p))
            if sparse and p.ndim == 0:
                raise ValueError(f"params[{i}] is a scalar; sparse=True updates rows of the first axis")
        self.lr = positive_real("lr", lr)
        self.sparse = sparse
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]

    @property
    def lr(self) -> float:
        """The learning rate; schedules set it before each step (0 is allowed, e.g. at warmup start)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        value = float(value)
        self._lr = real("lr", value, minimum=0.0)

    def init_state(self, p: Tensor) -> dict[str, np.ndarray]:
        """The state arrays of parameter ``p`` before its first step."""
        return {}

    def update(self, theta: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """Apply the rule in place to ``theta`` and the ``state`` arrays (``grad`` is read only)."""
        raise NotImplementedError

    def step(self) -> None:
        """Update every parameter that has a gradient (only its touched rows in lazy-sparse mode)."""
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            if not state:
                state.update(self.init_state(p))
            if not self.sparse:
                self.update(p.data, p.grad, state)
                continue
            rows = touched_rows(p.grad)
            theta, row_state = p.data[rows], {name: array[rows] for name, array in state.items()}
            self.update(theta, p.grad[rows], row_state)
            p.data[rows] = theta
            for name, array in row_state.items():
                state[name][rows] = array

    def zero_grad(self) -> None:
        """Drop every parameter's gradient (``grad = None``)."""
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict[str, Any]:
        """``{"lr": lr, "state.<i>.<name>": copy of the array}`` (see the module docstring)."""
        state: dict[str, Any] = {"lr": self.lr}
        for i, arrays in enumerate(self.state):
            state.update((f"state.{i}.{name}", value.copy()) for name, value in arrays.items())
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore ``lr`` and the per-parameter state saved by ``state_dict``.

        Raises KeyError for a missing ``lr``, an unknown key or an incomplete parameter state, and
        ValueError naming the key for a shape mismatch; nothing changes unless everything checks out.
        """
        if "lr" not in state:
            raise KeyError("optimizer state has no 'lr'")
        loaded: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        for key, value in state.items():
            if key == "lr":
                continue
            parts = key.split(".")
            if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit() \
                    or int(parts[1]) >= len(self.params):
                raise KeyError(f"unexpected optimizer state key {key!r} (this optimizer has "
                               f"{len(self.params)} parameters)")
            loaded[int(parts[1])][parts[2]] = np.asarray(value)
        for i, arrays in enumerate(loaded):
            if not arrays:
                continue
            expected = self.init_state(self.params[i])
            if arrays.keys() != expected.keys():
                raise KeyError(f"optimizer state of params[{i}] has {sorted(arrays)}, expected {sorted(expected)}")
            for name, value in arrays.items():
                if value.shape != expected[name].shape:
                    raise ValueError(f"optimizer state 'state.{i}.{name}' has shape {value.shape}, "
                                     f"expected {expected[name].shape}")
                arrays[name] = value.astype(expected[name].dtype, copy=True)
        self.lr = state["lr"]
        self.state = loaded
