"""scripts/train_lm.py end to end: a tiny run trains, checkpoints, resumes, evaluates and samples; --help."""
import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from scratch.models.transformer import CONFIG_CHOICES, TransformerConfig
from scratch.training.lm import TrainConfig

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
    for flag in ("--vocab-size", "--dim", "--layers", "--heads", "--ffn-dim", "--norm", "--prenorm", "--no-prenorm",
                 "--activation", "--log-n", "--no-log-n",
                 "--position", "--log-n", "--hwfa-window", "--sandwich-scale", "--seq-len", "--copy-fraction",
                 "--seed", "--out", "--steps", "--resume", "--prompt"):
        assert flag in text
    with pytest.raises(SystemExit):
        train_lm.main(["--vocab-size", "100"])


def test_flags_take_defaults_and_choices_from_the_configs():
    """Every field is a flag with the config's default (the quick run's steps, batch size and warm-up
    apart), and the choice flags accept exactly the package's tables."""
    train_lm = load_script()
    args, config, train_config = train_lm.parse_args([])
    assert config == TransformerConfig(train_len=TrainConfig().seq_len)
    assert train_config == dataclasses.replace(TrainConfig(), **train_lm.QUICK_RUN)
    for name, allowed in CONFIG_CHOICES.items():
        for value in allowed:
            assert getattr(train_lm.parse_args([f"--{name}", value])[1], name) == value
        with pytest.raises(SystemExit):
            train_lm.parse_args([f"--{name}", "bogus"])
    _, config, train_config = train_lm.parse_args(["--no-prenorm", "--log-n", "--hwfa-window", "5", "--betas", "0.8",
                                                   "0.9", "--seq-len", "32"])
    assert not config.prenorm and config.log_n and config.hwfa_window == 5 and config.train_len == 32
    assert train_config.betas == (0.8, 0.9) and train_config.seq_len == 32


@pytest.mark.parametrize("argv, message", [
    (["--dim", "0"], "dim must be a positive integer"), (["--hwfa-window", "0"], "hwfa_window"),
    (["--sandwich-scale", "inf"], "sandwich_scale"), (["--heads", "3"], "heads"), (["--steps", "0"], "steps"),
    (["--dim", "True"], "--dim"), (["--vocab-size", "100"], "vocab-size"),
])
def test_bad_flag_values_exit_with_a_message_naming_them(argv, message, capsys):
    train_lm = load_script()
    with pytest.raises(SystemExit) as exit_info:
        train_lm.parse_args(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
