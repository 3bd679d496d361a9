"""Every script answers --help, and scripts/bench.py hands a section's arguments to its script."""
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).parents[1] / "scripts").glob("*.py"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_help(script):
    result = run(str(script), "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")


def test_bench_sections_run_their_own_script():
    bench = str(Path(__file__).parents[1] / "scripts" / "bench.py")
    result = run(bench, "perturb_max", "--help")
    assert result.returncode == 0 and "usage: bench_perturb_max.py" in result.stdout
    result = run(bench, "nonsense")
    assert result.returncode != 0 and "unrecognized arguments: nonsense" in result.stderr
