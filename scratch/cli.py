"""Command-line flags made from configuration dataclasses, so that a script restates no default or choice.

Each field ``name`` of a dataclass becomes the flag ``--name`` (``_`` written ``-``), typed and
defaulted from the field: an ``int``, ``float`` or ``str`` field takes one value, an ``X | None``
field one value of X, a ``tuple[X, ...]`` field one value per entry, and a ``bool`` field the pair
``--name`` / ``--no-name``. The dataclass still checks the values when the script builds it.
"""
from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any, Iterable, Mapping


def add_config_arguments(parser: argparse.ArgumentParser | Any, config: type, *, skip: Iterable[str] = (),
                         defaults: Mapping[str, Any] | None = None, choices: Mapping[str, Iterable[Any]] | None = None,
                         help_texts: Mapping[str, str] | None = None) -> list[str]:
    """Add one flag per field of the dataclass ``config`` to ``parser`` (or an argument group), except
    those in ``skip``; ``defaults`` replaces a field's default (a script's shorter run), ``choices``
    gives the allowed values of a field and ``help_texts`` its help (default: the field's
    ``metadata["help"]``). Returns the field names added.
    """
    defaults, choices, help_texts = dict(defaults or {}), dict(choices or {}), dict(help_texts or {})
    hints = typing.get_type_hints(config)
    unknown = (set(skip) | set(defaults) | set(choices) | set(help_texts)) - {f.name for f in dataclasses.fields(config)}
    if unknown:
        raise ValueError(f"not fields of {config.__name__}: {sorted(unknown)}")
    fields = [field for field in dataclasses.fields(config) if field.name not in set(skip)]
    for field in fields:
        flag = "--" + field.name.replace("_", "-")
        default = defaults.get(field.name, field.default)
        text = help_texts.get(field.name, field.metadata.get("help"))
        text = (text + " " if text else "") + "(default: %(default)s)"
        if hints[field.name] is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=text)
            continue
        value_type, nargs = _value_type(hints[field.name])
        parser.add_argument(flag, type=value_type, nargs=nargs, default=list(default) if nargs else default,
                            choices=choices.get(field.name), help=text)
    return [field.name for field in fields]


def config_from_arguments(config: type, args: argparse.Namespace, **fixed: Any) -> Any:
    """An instance of the dataclass ``config`` from the parsed flags of its fields, ``fixed`` overriding
    them (and supplying the fields that have no flag)."""
    hints = typing.get_type_hints(config)
    values = {}
    for field in dataclasses.fields(config):
        if hasattr(args, field.name):
            value = getattr(args, field.name)
            values[field.name] = tuple(value) if typing.get_origin(hints[field.name]) is tuple else value
    return config(**{**values, **fixed})


def _value_type(hint: Any) -> tuple[type, int | None]:
    """The argparse ``type`` and ``nargs`` of a field annotation: X → (X, None), X | None → (X, None),
    tuple[X, X] → (X, 2)."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        (hint,) = [a for a in arguments if a is not type(None)]
        return hint, None
    if origin is tuple:
        return arguments[0], len(arguments)
    return hint, None
