"""The tour end to end: every part at its quick sizes, one part alone, and the summary table."""
import importlib.util
import re
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "tour.py"


@pytest.fixture(scope="module")
def tour():
    spec = importlib.util.spec_from_file_location("tour", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["tour"] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    yield module
    del sys.modules["tour"]


def test_every_part_runs_at_quick_sizes_and_ends_with_the_table(tour, tmp_path, capsys):
    assert tour.main(["--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in tour.PARTS:
        assert f"\n{name}: " in "\n" + out, name
        assert f"| {name} | " in out, name
    assert "| total | " in out
    assert "max |blockwise − quadratic| = " in out
    gap = float(out.split("max |blockwise − quadratic| = ")[1].split()[0])
    assert gap < 1e-10
    accuracy = float(re.search(r"digits: ([\d.]+)% on \d+ held out", out).group(1))
    assert accuracy > 80, out
    assert (tmp_path / "mlp.npz").is_file() and "reloads to the same score" in out


def test_only_runs_the_parts_named(tour, tmp_path, capsys):
    assert tour.main(["--quick", "--only", "perturb_max", "--only", "transformer_vq", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert [line.split(":")[0] for line in out.splitlines() if ": " in line] == ["perturb_max", "transformer_vq"]
    assert "| engine | " not in out and not (tmp_path / "mlp.npz").exists()


def test_an_unknown_part_is_refused(tour, capsys):
    with pytest.raises(SystemExit):
        tour.main(["--only", "bert"])
    assert "invalid choice: 'bert'" in capsys.readouterr().err
