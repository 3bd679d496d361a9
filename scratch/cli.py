"""Command-line flags made from configuration dataclasses, so that a script restates no default or choice.

Each field ``name`` of a dataclass becomes the flag ``--name`` (``_`` written ``-``), typed and
defaulted from the field: an ``int``, ``float`` or ``str`` field takes one value, an ``X | None``
field one value of X, a ``tuple[X, ...]`` field one value per entry, and a ``bool`` field the pair
``--name`` / ``--no-name``. The dataclass still checks the values when the script builds it.

A training script's run lives in one folder, ``--out``, with its checkpoint ``checkpoint.npz``
(``add_run_arguments``). ``run_folder`` guards it: a new run does not replace another run's
checkpoint unless ``--overwrite`` is given; ``--resume`` continues only a run made with the same
flags, but for those that may change on resume (the number of epochs, threads, what is printed),
and otherwise lists the differences. Inside it, Ctrl-C ends the run with one line naming the last
checkpoint and the command that resumes it (exit status 130), and an error about a file, a
checkpoint or a non-finite loss ends it with one line (exit status 1).
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shlex
import sys
import types
import typing
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from . import checkpoint
from .progress import NonFiniteLossError

CHECKPOINT_NAME = "checkpoint.npz"
# flags about the run folder itself, not the run: never part of a run's configuration
RUN_FLAGS = ("out", "resume", "overwrite")
# errors whose message says all (they name the file, the checkpoint or the step): one line, no traceback
SCRIPT_ERRORS = (OSError, UnicodeDecodeError, checkpoint.CheckpointError, NonFiniteLossError)
INTERRUPTED = 130


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


def add_run_arguments(parser: argparse.ArgumentParser, default_out: str | os.PathLike,
                      may_change: Iterable[str]) -> None:
    """``--out`` (default ``default_out``, the script's own folder), and ``--resume`` / ``--overwrite``;
    ``may_change`` names the settings a resumed run may change (shown in the help)."""
    flags = ", ".join(_flag(name) for name in may_change)
    parser.add_argument("--out", type=Path, default=Path(default_out),
                        help="folder of the run: checkpoint and results (default: %(default)s)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true",
                      help=f"continue the run in --out, with its flags (only {flags} may change)")
    mode.add_argument("--overwrite", action="store_true",
                      help="start a new run even when --out holds another run's checkpoint, replacing it")


def run_config(args: argparse.Namespace, skip: Iterable[str] = ()) -> dict[str, Any]:
    """The run's configuration: every parsed flag but ``--out``, ``--resume``, ``--overwrite`` and ``skip``."""
    left_out = set(RUN_FLAGS) | set(skip)
    return {name: value for name, value in vars(args).items() if name not in left_out}


def prepare_run(out: str | os.PathLike, config: Mapping[str, Any], may_change: Iterable[str], *, resume: bool,
                overwrite: bool) -> Path:
    """Check the run folder ``out`` for a run with ``config`` and return its checkpoint path.

    ``resume``: the checkpoint must exist and store the same configuration, but for the names in
    ``may_change`` (``CheckpointError`` listing the differences otherwise). A new run: an existing
    checkpoint is removed with ``overwrite``, and is ``FileExistsError`` without it. ``--out`` naming
    a file is ``FileExistsError``.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} is an existing file, not a folder")
    path = out / CHECKPOINT_NAME
    if resume:
        if not path.exists():
            raise FileNotFoundError(f"cannot --resume: there is no checkpoint {path}")
        differences = checkpoint.config_differences(path, config, may_change)
        if differences:
            changed = ", ".join(f"{_flag(name)} {_shown(new)} (the run's: {_shown(old)})"
                                for name, (old, new) in differences.items())
            allowed = ", ".join(_flag(name) for name in may_change)
            raise checkpoint.CheckpointError(
                f"cannot --resume {path} with other settings: {changed}; only {allowed} may change on resume. "
                "Give the run's flags, or start a new run with --overwrite or another --out")
    elif path.exists():
        if not overwrite:
            raise FileExistsError(f"{out} holds the checkpoint of a run ({path}); add --resume to continue it, "
                                  "--overwrite to replace it, or choose another --out")
        path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def run_folder(args: argparse.Namespace, config: Mapping[str, Any], may_change: Iterable[str], *,
               script: str | os.PathLike, argv: list[str] | None = None) -> Iterator[Path]:
    """``prepare_run`` on ``args.out`` for the body of a training script, which gets the checkpoint path.

    Ctrl-C in the body prints ``interrupted_message`` and exits with status 130; a ``SCRIPT_ERRORS``
    error exits with its message (status 1). ``script`` and ``argv`` (default ``sys.argv[1:]``) make
    the command that resumes the run.
    """
    may_change = list(may_change)
    path = Path(args.out) / CHECKPOINT_NAME
    interrupted = False
    try:
        path = prepare_run(args.out, config, may_change, resume=args.resume, overwrite=args.overwrite)
        yield path
    except Exception as error:
        # Ctrl-C inside a call into compiled code (a Numba dispatch) surfaces as the error it caused
        if not _caused_by_interrupt(error):
            if isinstance(error, SCRIPT_ERRORS):
                raise SystemExit(f"{Path(script).name}: error: {error}") from None
            raise
        interrupted = True
    except KeyboardInterrupt:
        interrupted = True
    if interrupted:
        print(interrupted_message(path, script, sys.argv[1:] if argv is None else argv), file=sys.stderr, flush=True)
        raise SystemExit(INTERRUPTED)


def _caused_by_interrupt(error: BaseException) -> bool:
    """Whether a ``KeyboardInterrupt`` is among the causes (or contexts) of ``error``."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def interrupted_message(path: str | os.PathLike, script: str | os.PathLike, argv: list[str]) -> str:
    """One line: where the last checkpoint is and the command that resumes from it (the same flags,
    ``--overwrite`` replaced by ``--resume``), or that there is none yet."""
    command = ["python", _shown_path(script), *[a for a in argv if a not in ("--resume", "--overwrite")], "--resume"]
    if not Path(path).is_file():
        return f"interrupted before the first checkpoint; nothing to resume ({path} not written)"
    try:
        meta = checkpoint.read_meta(path)
    except (OSError, checkpoint.CheckpointError):
        meta = {}
    done = next((f" ({key} {meta[key]})" for key in ("epoch", "step") if key in meta), "")
    return f"interrupted; the last checkpoint is {path}{done}; continue with: {shlex.join(command)}"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _shown(value: Any) -> str:
    """A setting as written on a command line (lists space-separated, None as 'default')."""
    if value is None:
        return "default"
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value))
    return str(value)


def _shown_path(path: str | os.PathLike) -> str:
    """``path`` relative to the working folder when it lies inside it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
