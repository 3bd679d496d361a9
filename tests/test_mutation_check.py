"""The mutation check's list of planted bugs stays applicable: every mutant's text occurs exactly once in
its file, its tests exist, names are unique, and the list covers every kernel and family."""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_script():
    spec = importlib.util.spec_from_file_location("mutation_check", ROOT / "scripts" / "mutation_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


mutation_check = _load_script()


@pytest.mark.parametrize("mutant", mutation_check.MUTANTS, ids=lambda m: m.name)
def test_every_mutant_applies_once_and_names_existing_tests(mutant):
    assert mutation_check.check_applies(mutant, ROOT) is None
    assert mutant.tests and mutant.what
    for test in mutant.tests:
        assert (ROOT / test.split("::")[0]).is_file(), test


def test_names_are_unique():
    names = [m.name for m in mutation_check.MUTANTS]
    assert len(names) == len(set(names))


def test_the_list_covers_every_kernel_and_family():
    """At least 25 bugs; two per kernel file (subpackages included); at least one per model family; engine and optimizers."""
    mutants = mutation_check.MUTANTS
    assert len(mutants) >= 25
    for kernel in sorted((ROOT / "scratch" / "kernels").rglob("*.py")):
        if kernel.name == "__init__.py":
            continue
        path = kernel.relative_to(ROOT).as_posix()
        planted = sum(m.path == path for m in mutants)
        assert planted >= 2, f"{path}: {planted} planted bugs"
    families = {m.family for m in mutants}
    assert {"word2vec", "glove", "capsule", "transformer", "transformer_vq", "perturb_max",
            "engine", "optim"} <= families


def test_a_mutant_whose_text_is_missing_is_reported(tmp_path):
    (tmp_path / "f.py").write_text("x = 1\nx = 1\n")
    twice = mutation_check.Mutant("m", "engine", "f.py", "x = 1", "x = 2", ("t.py",), "dup")
    missing = mutation_check.Mutant("m", "engine", "f.py", "y = 1", "y = 2", ("t.py",), "missing")
    assert "2 times" in mutation_check.check_applies(twice, tmp_path)
    assert "0 times" in mutation_check.check_applies(missing, tmp_path)
