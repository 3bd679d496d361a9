"""Runs, checkpoints and files: what the package and the train_* scripts do with a changed flag on
--resume, a run folder that holds another run, Ctrl-C, an interrupted save, a truncated or corrupted
checkpoint, a folder or a file where the other is expected, and a corpus in another encoding."""
import argparse
import gzip
import importlib.util
import os
import re
import shlex
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from scratch import checkpoint, cli
from scratch.datasets.cooccurrence import count_corpus
from scratch.datasets.lm import load_text
from scratch.datasets.text import Vocab, iter_lines
from scratch.progress import NonFiniteLossError

ROOT = Path(__file__).resolve().parents[1]
TRAIN_SCRIPTS = ("train_word2vec", "train_glove", "train_capsule", "train_lm", "train_transformer_vq")
GLOVE = ["--corpus", "lee", "--dim", "8", "--threads", "1"]
WORD2VEC = ["--corpus", "lee", "--dim", "8", "--epochs", "1", "--probes", "king"]
CAPSULE = ["--n-train", "64", "--n-test", "32", "--epochs", "1", "--widths", "4", "4", "4", "4", "--batch-size", "32",
           "--permutations", "1"]
LM = ["--dim", "16", "--heads", "2", "--ffn-dim", "32", "--layers", "1", "--seq-len", "16", "--batch-size", "2",
      "--warmup", "1", "--eval-windows", "1", "--sample-length", "2", "--checkpoint-every", "1", "--steps", "2"]
VQ = ["--d-model", "16", "--d-k", "8", "--layers", "1", "--codebook-size", "8", "--block", "8", "--seq-len", "16",
      "--batch-size", "2", "--steps", "2", "--warmup", "1", "--eval-windows", "1", "--sample-length", "2",
      "--checkpoint-every", "1"]
LATIN_1 = "the café is open\n".encode("latin-1") * 3


def script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exit_message(main, argv) -> str:
    """The message a script's main exits with (status 1: SystemExit carries the text)."""
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert isinstance(raised.value.code, str), raised.value.code
    return raised.value.code


class _State:
    def __init__(self, **arrays):
        self.arrays = arrays

    def state_dict(self):
        return dict(self.arrays)

    def load_state_dict(self, state, strict=True):
        self.arrays = dict(state)


# --- checkpoint files -------------------------------------------------------------------------------

def test_save_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(source, destination):
        calls.append("replace")
        real_replace(source, destination)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    checkpoint.save(tmp_path / "c.npz", _State(w=np.ones(3)), step=1)
    assert calls[:2] == ["fsync file", "replace"]
    if sys.platform.startswith("linux"):
        assert calls == ["fsync file", "replace", "fsync folder"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_checkpoint_gets_the_mode_of_a_new_file_under_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        path = checkpoint.save(tmp_path / "c.npz", step=1)
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == mode == plain.stat().st_mode & 0o777


KILLED_SAVE = """
import os, signal, sys
import numpy as np
from scratch import checkpoint
os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)
checkpoint.save(sys.argv[1], big=np.zeros(1000))
"""


def test_a_save_killed_before_its_rename_leaves_a_temporary_file_that_the_next_load_and_save_remove(tmp_path):
    path = checkpoint.save(tmp_path / "checkpoint.npz", step=1)
    for reader in (checkpoint.load, lambda p: checkpoint.save(p, step=2)):
        killed = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)], capture_output=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL
        left = [p.name for p in tmp_path.iterdir() if p.name != "checkpoint.npz"]
        assert len(left) == 1 and re.fullmatch(r"checkpoint\.npz[a-z0-9_]{8}\.tmp", left[0])
        reader(path)
        assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]
    assert checkpoint.load(path) == {"step": 2}


def test_only_the_checkpoints_own_temporary_files_are_removed(tmp_path):
    path = checkpoint.save(tmp_path / "checkpoint.npz", step=1)
    stale = tmp_path / "checkpoint.npzab_cd123.tmp"
    others = [tmp_path / "checkpoint.npz.tmp", tmp_path / "notes.tmp", tmp_path / "other.npzabcdefgh.tmp"]
    for file in [stale, *others]:
        file.write_bytes(b"x")
    assert checkpoint.remove_stale_temporaries(path) == [stale]
    assert all(file.exists() for file in others) and not stale.exists()


def test_truncated_or_corrupted_checkpoints_raise_an_error_naming_the_file(tmp_path, rng):
    path = checkpoint.save(tmp_path / "c.npz", _State(w=rng.standard_normal(4000)), step=3)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(checkpoint.CheckpointError, match=f"checkpoint {re.escape(str(truncated))} is not an .npz"):
        checkpoint.load(truncated)
    corrupted = tmp_path / "corrupted.npz"
    corrupted.write_bytes(data[:len(data) // 2] + bytes(255 - b for b in data[len(data) // 2:len(data) // 2 + 64])
                          + data[len(data) // 2 + 64:])
    with pytest.raises(checkpoint.CheckpointError, match=f"{re.escape(str(corrupted))} cannot be read.*CRC"):
        checkpoint.load(corrupted, _State())
    text = tmp_path / "text.npz"
    text.write_text("not a checkpoint")
    with pytest.raises(checkpoint.CheckpointError, match=re.escape(str(text))):
        checkpoint.read_meta(text)


def test_object_arrays_are_refused_in_every_part(tmp_path):
    for key in ("model/w", "optim/state", "meta/x"):
        path = tmp_path / f"{key.replace('/', '_')}.npz"
        np.savez(path, **{key: np.array([{"a": 1}], dtype=object)})
        with pytest.raises(checkpoint.CheckpointError, match=f"{re.escape(str(path))} cannot be read.*allow_pickle"):
            checkpoint.load(path, _State(), _State())


def test_folders_and_files_in_the_wrong_place_are_named(tmp_path):
    with pytest.raises(IsADirectoryError, match=f"checkpoint {re.escape(str(tmp_path))} is a folder"):
        checkpoint.load(tmp_path)
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(IsADirectoryError, match="folder.npz: it is a folder"):
        checkpoint.save(tmp_path / "folder.npz", step=1)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="file is a file, not a folder"):
        checkpoint.save(tmp_path / "file" / "c.npz", step=1)


def test_read_meta_returns_the_meta_values_alone(tmp_path):
    path = checkpoint.save(tmp_path / "c.npz", _State(w=np.ones(2)), _State(m=np.zeros(2)), step=4, name="x")
    assert checkpoint.read_meta(path) == {"step": 4, "name": "x"}


# --- run configurations -----------------------------------------------------------------------------

def test_config_differences_list_changed_added_and_removed_settings_but_those_that_may_change(tmp_path):
    stored = {"window": 10, "eta": 0.05, "epochs": 5, "widths": (4, 4), "gone": "x"}
    path = checkpoint.save(tmp_path / "c.npz", config=checkpoint.encode_config(stored))
    assert checkpoint.config_differences(path, {**stored, "widths": [4, 4]}) == {}
    current = {"window": 2, "eta": 0.05, "epochs": 9, "widths": (4, 8), "new": 1}
    assert checkpoint.config_differences(path, current, may_change=["epochs"]) == {
        "gone": ("x", None), "new": (None, 1), "widths": ([4, 4], [4, 8]), "window": (10, 2)}
    old = checkpoint.save(tmp_path / "old.npz", step=1)
    with pytest.raises(checkpoint.CheckpointError, match="stores no run configuration"):
        checkpoint.config_differences(old, stored)


def test_prepare_run_refuses_to_replace_a_run_and_to_resume_another(tmp_path):
    config = {"window": 10, "epochs": 5}
    path = cli.prepare_run(tmp_path / "run", config, ["epochs"], resume=False, overwrite=False)
    assert path == tmp_path / "run" / "checkpoint.npz" and path.parent.is_dir()
    checkpoint.save(path, epoch=5, config=checkpoint.encode_config(config))
    with pytest.raises(FileExistsError, match="holds the checkpoint of a run .*--resume.*--overwrite"):
        cli.prepare_run(tmp_path / "run", config, ["epochs"], resume=False, overwrite=False)
    assert cli.prepare_run(tmp_path / "run", {**config, "epochs": 9}, ["epochs"], resume=True, overwrite=False) == path
    with pytest.raises(checkpoint.CheckpointError,
                       match=r"--window 2 \(the run's: 10\); only --epochs may change on resume"):
        cli.prepare_run(tmp_path / "run", {"window": 2, "epochs": 5}, ["epochs"], resume=True, overwrite=False)
    assert path.exists()
    cli.prepare_run(tmp_path / "run", config, ["epochs"], resume=False, overwrite=True)
    assert not path.exists()
    with pytest.raises(FileNotFoundError, match="cannot --resume: there is no checkpoint"):
        cli.prepare_run(tmp_path / "run", config, ["epochs"], resume=True, overwrite=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is an existing file, not a folder"):
        cli.prepare_run(tmp_path / "file", config, [], resume=False, overwrite=False)


def _args(out, resume=False, overwrite=False):
    return argparse.Namespace(out=out, resume=resume, overwrite=overwrite)


def test_run_folder_turns_ctrl_c_into_one_line_and_status_130(tmp_path, capsys):
    argv = ["--epochs", "7", "--overwrite"]
    with pytest.raises(SystemExit) as raised:
        with cli.run_folder(_args(tmp_path), {}, [], script="scripts/train_x.py", argv=argv) as path:
            raise KeyboardInterrupt
    assert raised.value.code == 130
    assert capsys.readouterr().err == f"interrupted before the first checkpoint; nothing to resume ({path} not written)\n"
    with pytest.raises(SystemExit) as raised:
        with cli.run_folder(_args(tmp_path, overwrite=True), {}, [], script="scripts/train_x.py", argv=argv) as path:
            checkpoint.save(path, epoch=3, config=checkpoint.encode_config({}))
            raise KeyboardInterrupt
    assert raised.value.code == 130
    command = "python scripts/train_x.py --epochs 7 --resume"
    assert capsys.readouterr().err == f"interrupted; the last checkpoint is {path} (epoch 3); continue with: {command}\n"


def test_ctrl_c_inside_compiled_code_is_an_interrupt_too(tmp_path, capsys):
    """Ctrl-C during a Numba dispatch reaches Python as a SystemError caused by the KeyboardInterrupt."""
    with pytest.raises(SystemExit) as raised:
        with cli.run_folder(_args(tmp_path), {}, [], script="scripts/train_x.py", argv=[]):
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt as interrupt:
                raise SystemError("CPUDispatcher(...) returned a result with an exception set") from interrupt
    assert raised.value.code == 130 and capsys.readouterr().err.startswith("interrupted before the first checkpoint")


@pytest.mark.parametrize("error", [FileNotFoundError("corpus x.txt does not exist"),
                                   checkpoint.CheckpointError("checkpoint c.npz is not an .npz archive"),
                                   NonFiniteLossError("loss is nan at step 4")])
def test_run_folder_ends_a_run_on_a_file_or_checkpoint_error_with_its_message(tmp_path, error):
    with pytest.raises(SystemExit) as raised:
        with cli.run_folder(_args(tmp_path), {}, [], script="scripts/train_x.py", argv=[]):
            raise error
    assert raised.value.code == f"train_x.py: error: {error}"


def test_run_folder_lets_other_errors_through_with_their_traceback(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with cli.run_folder(_args(tmp_path), {}, [], script="scripts/train_x.py", argv=[]):
            raise ZeroDivisionError


# --- corpora in another encoding -----------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".txt", ".txt.gz"])
def test_a_latin_1_corpus_names_the_file_and_line_and_reads_with_its_encoding(tmp_path, suffix):
    path = tmp_path / f"corpus{suffix}"
    data = b"plain ascii line\n" + LATIN_1
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    message = (r"'utf-8' codec can't decode byte 0xe9 in position 7: invalid continuation byte "
               rf"\(file {re.escape(str(path))}, line 2\); the file is not utf-8: pass its encoding")
    for read in (lambda: list(iter_lines(path)), lambda: Vocab.from_corpus(path, 1), lambda: load_text(path),
                 lambda: count_corpus(path, 1, 2)):
        with pytest.raises(UnicodeDecodeError, match=message):
            read()
    assert list(iter_lines(path, encoding="latin-1"))[1] == "the café is open"
    assert "café" in Vocab.from_corpus(path, 1, encoding="latin-1")
    assert "café" in count_corpus(path, 1, 2, encoding="latin-1")[0]
    assert load_text(path, encoding="latin-1").count("café") == 3


def test_a_binary_file_as_corpus_names_the_file(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UnicodeDecodeError, match=f"byte 0x80 in position 117.*file {re.escape(str(path))}, line 2\\)"):
        list(iter_lines(path))


def test_an_unknown_encoding_is_refused_by_name(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b c\n")
    with pytest.raises(ValueError, match="encoding must be a known text encoding .* got 'utf-9'"):
        list(iter_lines(path, encoding="utf-9"))
    with pytest.raises(TypeError, match="encoding must be the name of a text encoding, got int"):
        load_text(path, encoding=8)


# --- the train_* scripts -------------------------------------------------------------------------------

def test_each_train_script_has_its_own_default_out_and_the_run_flags():
    defaults = {}
    for name in TRAIN_SCRIPTS:
        result = subprocess.run([sys.executable, str(ROOT / "scripts" / f"{name}.py"), "--help"], capture_output=True,
                                text=True, timeout=120)
        text = " ".join(result.stdout.split())
        assert "[--resume | --overwrite]" in text and "may change" in text, name
        defaults[name] = re.search(r"--out OUT folder of the run: checkpoint and results \(default: (\S+)\)", text)[1]
    assert len(set(defaults.values())) == len(TRAIN_SCRIPTS), defaults


RUNS = {  # a tiny run of each script, and a flag that changes the run, with the message that names it
    "train_word2vec": (WORD2VEC, ["--window", "2", "--sg", "--alpha", "0.5"],
                       r"--alpha 0.5 \(the run's: 0.025\), --sg True \(the run's: False\), --window 2 \(the run's: 5\)"),
    "train_glove": ([*GLOVE, "--epochs", "1"], ["--window", "2", "--eta", "0.5", "--simpler-model", "sum"],
                    r"--eta 0.5 \(the run's: default\), --simpler-model sum \(the run's: default\), "
                    r"--window 2 \(the run's: default\)"),
    "train_capsule": (CAPSULE, ["--model", "sabour"], r"--model sabour \(the run's: su2\)"),
    "train_lm": (LM, ["--position", "alibi"], r"--position alibi \(the run's: rope\)"),
    "train_transformer_vq": (VQ, ["--codebook-size", "4"], r"--codebook-size 4 \(the run's: 8\)"),
}


@pytest.mark.parametrize("name", TRAIN_SCRIPTS)
def test_resume_with_a_changed_flag_is_refused_and_a_new_run_does_not_replace_the_checkpoint(name, tmp_path, capsys):
    main = script(name).main
    base, changed, listed = RUNS[name]
    out = ["--out", str(tmp_path / "run")]
    main([*base, *out])
    path = tmp_path / "run" / "checkpoint.npz"
    saved = path.read_bytes()
    message = exit_message(main, [*base, *changed, *out, "--resume"])
    assert re.search(rf"^{name}.py: error: cannot --resume {re.escape(str(path))} with other settings: {listed}; "
                     r"only --\S+.* may change on resume", message), message
    message = exit_message(main, [*base, *out])
    assert message == (f"{name}.py: error: {tmp_path / 'run'} holds the checkpoint of a run ({path}); add --resume to "
                       "continue it, --overwrite to replace it, or choose another --out")
    assert path.read_bytes() == saved
    (tmp_path / "file").write_text("x")
    assert exit_message(main, [*base, "--out", str(tmp_path / "file")]).endswith(
        f"error: --out {tmp_path / 'file'} is an existing file, not a folder")
    capsys.readouterr()


def test_glove_resume_may_change_the_epochs_and_formats_and_overwrite_starts_afresh(tmp_path, capsys):
    main = script("train_glove").main
    out = ["--out", str(tmp_path)]
    assert main([*GLOVE, "--epochs", "1", *out]) == 0
    assert main([*GLOVE, "--epochs", "2", "--format", "glove", *out, "--resume"]) == 0
    assert checkpoint.read_meta(tmp_path / "checkpoint.npz")["epoch"] == 2
    assert main([*GLOVE, "--epochs", "1", "--window", "3", *out, "--overwrite"]) == 0
    assert checkpoint.read_meta(tmp_path / "checkpoint.npz")["epoch"] == 1
    assert "window 3, 1 iterations" in capsys.readouterr().out


def test_glove_default_is_one_thread_and_two_runs_with_one_seed_agree(tmp_path, capsys):
    glove = script("train_glove")
    assert glove.parse_args([]).threads == 1
    for run in ("a", "b"):
        assert glove.main(["--corpus", "lee", "--dim", "8", "--epochs", "2", "--out", str(tmp_path / run)]) == 0
    assert (tmp_path / "a" / "vectors.txt").read_bytes() == (tmp_path / "b" / "vectors.txt").read_bytes()
    assert "threads 1" in capsys.readouterr().out


def test_scripts_name_a_corpus_they_cannot_decode_and_read_it_with_encoding(tmp_path, capsys):
    corpus = tmp_path / "latin.txt"
    lines = list(iter_lines(ROOT / "data" / "lee_background.txt.gz"))[:150]
    corpus.write_bytes(LATIN_1 + "\n".join(lines).encode("latin-1", errors="replace"))
    glove = script("train_glove").main
    common = ["--corpus", str(corpus), "--dim", "4", "--epochs", "1", "--min-count", "2"]
    message = exit_message(glove, [*common, "--out", str(tmp_path / "a")])
    assert message.startswith("train_glove.py: error: 'utf-8' codec can't decode byte 0xe9 in position 7") \
        and f"(file {corpus}, line 1)" in message
    assert glove([*common, "--out", str(tmp_path / "b"), "--encoding", "latin-1"]) == 0
    assert "café" in (tmp_path / "b" / "vocab.txt").read_text(encoding="utf-8")
    lm = script("train_lm").main
    message = exit_message(lm, [*LM, "--corpus", str(corpus), "--out", str(tmp_path / "c")])
    assert "train_lm.py: error: 'utf-8' codec can't decode byte 0xe9" in message and str(corpus) in message
    assert lm([*LM, "--corpus", str(corpus), "--encoding", "latin-1", "--out", str(tmp_path / "d")]) == 0
    capsys.readouterr()


def test_capsule_run_resumed_after_an_epoch_equals_the_run_straight_through(tmp_path, capsys):
    main = script("train_capsule").main
    two_epochs = [*CAPSULE[:CAPSULE.index("--epochs")], "--epochs", "2", *CAPSULE[CAPSULE.index("--epochs") + 2:]]
    main([*two_epochs, "--out", str(tmp_path / "straight")])
    main([*CAPSULE, "--out", str(tmp_path / "resumed")])
    main([*two_epochs, "--out", str(tmp_path / "resumed"), "--resume"])
    straight, resumed = (np.load(tmp_path / run / "checkpoint.npz") for run in ("straight", "resumed"))
    assert straight.files == resumed.files
    for key in straight.files:
        np.testing.assert_array_equal(straight[key], resumed[key], err_msg=key)
    assert (tmp_path / "straight" / "results.json").read_text() == (tmp_path / "resumed" / "results.json").read_text()
    capsys.readouterr()


def test_a_truncated_checkpoint_ends_a_resumed_run_with_one_line_naming_it(tmp_path, capsys):
    main = script("train_capsule").main
    out = ["--out", str(tmp_path)]
    main([*CAPSULE, *out])
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(path.read_bytes()[:1000])
    assert exit_message(main, [*CAPSULE, *out, "--resume"]) == (
        f"train_capsule.py: error: checkpoint {path} is not an .npz archive (truncated, or another kind of file)")
    capsys.readouterr()


@pytest.mark.parametrize("name, argv", [
    ("train_glove", [*GLOVE, "--epochs", "100000"]),
    ("train_lm", [*LM[:-2], "--steps", "100000"]),
])
def test_ctrl_c_ends_a_run_with_one_line_and_the_printed_command_resumes_it(name, argv, tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, str(ROOT / "scripts" / f"{name}.py"), *argv, "--out", str(out)]
    # a test run started in the background inherits an ignored SIGINT, which Python then keeps ignoring
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    path = out / "checkpoint.npz"
    deadline = time.monotonic() + 300
    while not path.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), process.communicate()[1] if process.poll() is not None else "no checkpoint in time"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert "Traceback" not in err
    meta = checkpoint.read_meta(path)
    done = ("epoch", meta["epoch"]) if "epoch" in meta else ("step", meta["step"])
    resume = shlex.join(["python", f"scripts/{name}.py", *argv, "--out", str(out), "--resume"])
    assert last == f"interrupted; the last checkpoint is {path} ({done[0]} {done[1]}); continue with: {resume}"
    printed = shlex.split(last.split("continue with: ")[1])[2:]
    length = "--epochs" if name == "train_glove" else "--steps"
    printed[printed.index(length) + 1] = str(done[1] + 1)
    resumed = subprocess.run([sys.executable, str(ROOT / "scripts" / f"{name}.py"), *printed], capture_output=True,
                             text=True, timeout=300, cwd=ROOT)
    assert resumed.returncode == 0, resumed.stderr
    assert checkpoint.read_meta(path)[done[0]] == done[1] + 1


def test_capsule_script_margin_defaults_follow_the_model():
    """Su's margin settings for Su's models, Sabour's for his CapsNet; an explicit flag wins."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("train_capsule_margin", ROOT / "scripts" / "train_capsule.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert (script.parse_args([]).margin.lam, script.parse_args([]).margin.reduction) == (0.25, "mean")
    capsnet = script.parse_args(["--model", "capsnet"]).margin
    assert (capsnet.lam, capsnet.reduction) == (0.5, "sum")
    mixed = script.parse_args(["--model", "capsnet", "--reduction", "mean"]).margin
    assert (mixed.lam, mixed.reduction) == (0.5, "mean")


def test_vq_benchmark_quadratic_cells_measured_extrapolated_or_empty():
    """The quadratic reference's cells: measured at T, extrapolated as T² from the longest measured length,
    or "–" when ``--max-quadratic`` is below every length (which used to fail on an empty maximum)."""
    cells = script("bench_vq_attention").quadratic_cells
    measured = {1024: (0.002048, 0.006144), 2048: (0.008192, 0.024576)}
    assert cells(1024, measured) == ((2e-6, 6e-6), ["2.0", "6.0"])
    quad, text = cells(8192, measured)  # 4× the length of 2048: 4× the time per token
    assert quad == pytest.approx((16e-6, 48e-6)) and text == ["~16 (extrapolated)", "~48 (extrapolated)"]
    assert cells(1024, {}) == (None, ["–", "–"])
