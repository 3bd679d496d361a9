"""scripts/train_lm.py end to end: a tiny run trains, checkpoints, resumes, evaluates and samples; --help."""
import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_lm.py"
TINY = ["--dim", "16", "--heads", "2", "--ffn-dim", "32", "--layers", "2", "--seq-len", "16", "--batch-size", "4",
        "--warmup", "1", "--eval-windows", "2", "--sample-length", "5", "--checkpoint-every", "3"]


def load_script():
    spec = importlib.util.spec_from_file_location("train_lm", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_lm_runs_resumes_and_samples(tmp_path, capsys):
    train_lm = load_script()
    out = tmp_path / "lm"
    assert train_lm.main([*TINY, "--steps", "3", "--position", "alibi", "--out", str(out), "--prompt", "Ab"]) == 0
    first = json.loads((out / "summary.json").read_text())
    assert first["config"]["position"] == "alibi" and first["train"]["steps"] == 3
    assert set(first) >= {"T=16 full", "T=16 window", "T=64 full", "T=64 window", "sample"}
    assert first["sample"].startswith("Ab") and 0 <= first["T=64 window"]["accuracy"] <= 1
    assert train_lm.main([*TINY, "--steps", "6", "--position", "alibi", "--out", str(out), "--resume"]) == 0
    resumed = json.loads((out / "summary.json").read_text())
    assert resumed["train"]["steps"] == 6 and resumed["final_train_loss"] is not None
    printed = capsys.readouterr()
    assert "T=64 window: accuracy" in printed.out and "step 6/6" in printed.err


def test_train_lm_help_lists_every_model_option(capsys):
    train_lm = load_script()
    with pytest.raises(SystemExit) as exit_info:
        train_lm.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--vocab-size", "--dim", "--layers", "--heads", "--ffn-dim", "--norm", "--postnorm", "--activation",
                 "--position", "--log-n", "--hwfa-window", "--sandwich-scale", "--seq-len", "--copy-fraction",
                 "--seed", "--out", "--steps", "--resume", "--prompt"):
        assert flag in text
    with pytest.raises(SystemExit):
        train_lm.main(["--vocab-size", "100"])
