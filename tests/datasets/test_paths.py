"""Where the data lives, and the error for a missing file."""
from pathlib import Path

import pytest

from scratch.datasets import data_dir, data_path
from scratch.datasets.prepare import RECIPES


def test_data_dir_is_the_repository_data_folder_unless_overridden(tmp_path, monkeypatch):
    monkeypatch.delenv("SCRATCH_DATA", raising=False)
    assert data_dir() == Path(__file__).resolve().parents[2] / "data"
    monkeypatch.setenv("SCRATCH_DATA", str(tmp_path))
    assert data_dir() == tmp_path


def test_every_default_data_file_ships():
    for recipe in RECIPES:
        if not recipe.optional:
            assert data_path(recipe.filename).stat().st_size > 0


def test_missing_file_names_itself_and_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRATCH_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="english.txt.gz not found; `python scripts/fetch_data.py`"):
        data_path("english.txt.gz")
