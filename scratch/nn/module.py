"""``Parameter`` and ``Module``, the containers of a model's learnable state, and ``ModuleList``/``Sequential``.

A ``Module`` registers every ``Parameter`` and sub-``Module`` assigned to it as an attribute, in
assignment order; a non-empty list or tuple of Modules is stored as a ``ModuleList`` (start from
``ModuleList()``, not ``[]``, to append Modules later). Walking the tree depth first in that order
names every parameter by its attribute path::

    class Net(Module):
        def __init__(self):
            super().__init__()
            self.blocks = [Linear(4, 8), Linear(8, 8)]   # stored as a ModuleList
            self.scale = Parameter(np.ones(8))
            self.head = Linear(8, 2)

    [name for name, _ in Net().named_parameters()]
    # ['blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias', 'scale',
    #  'head.weight', 'head.bias']

A Parameter or Module reached twice (tied weights, a shared block) is listed once, under its first
name. Buffers are non-learnable arrays (EMA statistics, running counts) registered with
``register_buffer``; ``state_dict`` saves them with the parameters.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, NamedTuple

import numpy as np

from ..autograd import Tensor


class Parameter(Tensor):
    """A Tensor that a Module learns: ``requires_grad`` is always True."""

    def __init__(self, data: Any, dtype: Any = None):
        super().__init__(data, requires_grad=True, dtype=dtype)

    def __repr__(self) -> str:
        return f"Parameter({np.array2string(self.data, prefix='Parameter(')}, dtype={self.dtype})"


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` left out: keys the module has that the state lacks,
    and keys of the state the module does not have."""

    missing: list[str]
    unexpected: list[str]


class Module:
    """Base class of layers and models: subclasses assign their parts in ``__init__`` and define ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_members", [])
        object.__setattr__(self, "_buffers", [])
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_members" not in self.__dict__:
            raise AttributeError(f"call super().__init__() in {type(self).__name__}.__init__ "
                                 f"before assigning {name!r}")
        if isinstance(value, (list, tuple)) and any(isinstance(v, (Parameter, Module)) for v in value):
            if not all(isinstance(v, Module) for v in value):
                raise TypeError(f"{name!r} is a {type(value).__name__} holding Parameters or Modules mixed "
                                f"with other values, which would not be registered; assign each Parameter "
                                f"as its own attribute and Modules as a list of Modules (or a ModuleList)")
            value = ModuleList(value)
        if isinstance(value, (Parameter, Module)):
            if name in self._buffers:
                raise TypeError(f"{name!r} is a buffer of {type(self).__name__}; it holds arrays, "
                                f"not a {type(value).__name__}")
            if name not in self._members:
                self._members.append(name)
        elif name in self._members:
            if value is not None:
                raise TypeError(f"{name!r} is a registered {type(self.__dict__[name]).__name__} of "
                                f"{type(self).__name__}; assign a Parameter or Module (or None to "
                                f"remove it), got {type(value).__name__}")
            self._members.remove(name)
        elif name in self._buffers:
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._members, self._buffers):
            if name in registry:
                registry.remove(name)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, array: Any) -> None:
        """Add the non-learnable array ``array`` as attribute ``name``; ``state_dict`` includes it."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"buffer name must be an identifier, got {name!r}")
        if name in self.__dict__ or hasattr(type(self), name):
            raise ValueError(f"cannot register buffer {name!r}: {type(self).__name__} already has "
                             f"an attribute of that name")
        self._buffers.append(name)
        setattr(self, name, array)

    # ----------------------------------------------------------------- traversal
    def _named_members(self) -> Iterator[tuple[str, Parameter | Module]]:
        """Every Parameter and Module below this one as (dotted name, value): depth first, in
        assignment order, each object once."""
        seen = {id(self)}
        stack = [(name, self.__dict__[name]) for name in reversed(self._members)]
        while stack:
            name, member = stack.pop()
            if id(member) in seen:
                continue
            seen.add(id(member))
            yield name, member
            if isinstance(member, Module):
                stack.extend((f"{name}.{child}", member.__dict__[child]) for child in reversed(member._members))

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs, depth first in assignment order, each Parameter once."""
        return ((name, m) for name, m in self._named_members() if isinstance(m, Parameter))

    def parameters(self) -> Iterator[Parameter]:
        """The Parameters of ``named_parameters()``."""
        return (p for _, p in self.named_parameters())

    def named_modules(self) -> Iterator[tuple[str, Module]]:
        """(dotted name, Module) pairs: this module (named "") first, then every descendant once."""
        yield "", self
        yield from ((name, m) for name, m in self._named_members() if isinstance(m, Module))

    def modules(self) -> Iterator[Module]:
        """The Modules of ``named_modules()``."""
        return (m for _, m in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(attribute name, Module) for the direct sub-Modules, in assignment order."""
        members = ((name, self.__dict__[name]) for name in self._members)
        return ((name, m) for name, m in members if isinstance(m, Module))

    def children(self) -> Iterator[Module]:
        """The Modules of ``named_children()``."""
        return (m for _, m in self.named_children())

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """(dotted name, array) for the buffers of this module and its descendants."""
        for prefix, module in self.named_modules():
            for name in module._buffers:
                yield _join(prefix, name), module.__dict__[name]

    def num_parameters(self) -> int:
        """The number of learnable scalars (shared Parameters counted once)."""
        return sum(p.size for p in self.parameters())

    # ----------------------------------------------------------------- modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set ``training = mode`` on this module and every descendant (Dropout acts only in training)."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """``train(False)``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Drop the gradients of all parameters (``grad = None``)."""
        for p in self.parameters():
            p.grad = None

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed by dotted name (parameters first)."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, np.array(b, copy=True)) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy the arrays of ``state`` into the parameters and buffers of the same names.

        Values are cast to the dtype the module already has. With ``strict`` a missing or
        unexpected key raises KeyError listing them; a shape mismatch always raises ValueError
        naming the key. Nothing is changed unless every key checks out.
        """
        params = dict(self.named_parameters())
        buffers = {_join(prefix, name): (module, name)
                   for prefix, module in self.named_modules() for name in module._buffers}
        current = {key: p.data for key, p in params.items()}
        current.update((key, module.__dict__[name]) for key, (module, name) in buffers.items())
        missing = [key for key in current if key not in state]
        unexpected = [key for key in state if key not in current]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        values = {}
        for key in current.keys() & state.keys():
            value = np.asarray(state[key])
            if value.shape != current[key].shape:
                raise ValueError(f"load_state_dict: {key!r} has shape {value.shape} in the state, "
                                 f"{current[key].shape} in the module")
            values[key] = value.astype(current[key].dtype, copy=True)
        for key, value in values.items():
            if key in params:
                params[key].data = value
            else:
                module, name = buffers[key]
                setattr(module, name, value)
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The constructor arguments shown inside this module's ``repr``."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): {child!r}".replace("\n", "\n  ") for name, child in self.named_children()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleList(Module):
    """A list of Modules, registered under the names "0", "1", ...; indexable, iterable, no forward."""

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__} holds Modules, got {type(module).__name__}")
        setattr(self, str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end."""
        for module in modules:
            self.append(module)
        return self

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[Module]:
        return (self.__dict__[name] for name in self._members)

    def __getitem__(self, index: int) -> Module:
        return self.__dict__[self._members[index]]


class Sequential(ModuleList):
    """Modules applied in order: ``Sequential(f, g, h)(x) = h(g(f(x)))``."""

    def __init__(self, *modules: Module):
        super().__init__(modules)

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
