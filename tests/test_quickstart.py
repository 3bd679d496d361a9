"""The quickstart script end to end on the shipped digits (two short epochs)."""
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "quickstart.py"


def test_quickstart_trains_saves_and_reloads(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("quickstart", SCRIPT)
    quickstart = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quickstart)
    assert quickstart.main(["--epochs", "2", "--hidden", "128", "--out", str(tmp_path)]) == 0
    summary = capsys.readouterr().out
    accuracy = float(summary.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.8, summary
    assert (tmp_path / "mlp.npz").is_file()
