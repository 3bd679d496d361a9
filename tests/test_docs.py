"""The documentation names only what exists: every file path (`scratch/…`, `scripts/…`, `tests/…`,
`docs/…`, `data/…`) and every dotted module path (`scratch.models.glove`) in README.md and docs/*.md
resolves, and the README stays short."""
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PATH = re.compile(r"(?<![\w./-])((?:scratch|scripts|tests|docs|data)/[\w./-]*\w)")
MODULE = re.compile(r"(?<![\w./])(scratch(?:\.[a-z_][a-z0-9_]*)+)")


def _mentions(pattern):
    found = []
    for page in PAGES:
        for match in pattern.finditer(page.read_text()):
            found.append((page.relative_to(ROOT).as_posix(), match.group(1)))
    return sorted(set(found))


@pytest.mark.parametrize("page, path", _mentions(PATH))
def test_named_paths_exist(page, path):
    assert (ROOT / path).exists() or list(ROOT.glob(path)), f"{page} names {path}, which does not exist"


def _importable(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        obj = module
        for name in parts[cut:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


@pytest.mark.parametrize("page, dotted", _mentions(MODULE))
def test_named_modules_and_objects_exist(page, dotted):
    assert _importable(dotted), f"{page} names {dotted}, which cannot be imported"


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 320
