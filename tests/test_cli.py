"""scratch.cli: one flag per dataclass field, typed and defaulted from the field, and back to the dataclass."""
import argparse
from dataclasses import dataclass, field

import pytest

from scratch.cli import add_config_arguments, config_from_arguments


@dataclass(frozen=True)
class Example:
    steps: int = 10
    lr: float = 0.5
    name: str = "a"
    window: int | None = None
    betas: tuple[float, float] = (0.9, 0.99)
    prenorm: bool = True
    note: str = field(default="x", metadata={"help": "a note"})


def parse(argv, **kwargs):
    parser = argparse.ArgumentParser()
    added = add_config_arguments(parser, Example, **kwargs)
    return added, parser.parse_args(argv), parser


def test_defaults_round_trip_to_the_dataclass():
    added, args, _ = parse([])
    assert added == ["steps", "lr", "name", "window", "betas", "prenorm", "note"]
    assert config_from_arguments(Example, args) == Example()


def test_flags_are_typed_from_the_annotations():
    _, args, _ = parse(["--steps", "3", "--lr", "0.25", "--window", "7", "--betas", "0.5", "0.6", "--no-prenorm"])
    config = config_from_arguments(Example, args)
    assert config == Example(steps=3, lr=0.25, window=7, betas=(0.5, 0.6), prenorm=False)
    assert isinstance(config.betas, tuple)


def test_skip_defaults_choices_help_and_fixed():
    added, args, parser = parse(["--name", "b"], skip=["note"], defaults={"steps": 2}, choices={"name": ["a", "b"]},
                                help_texts={"lr": "the rate"})
    assert "note" not in added and args.steps == 2
    assert config_from_arguments(Example, args, note="y") == Example(steps=2, name="b", note="y")
    assert "the rate" in parser.format_help()
    with pytest.raises(SystemExit):
        parser.parse_args(["--name", "c"])


def test_unknown_field_names_are_refused():
    with pytest.raises(ValueError, match="not fields of Example"):
        parse([], choices={"nope": [1]})
