"""``python -m scratch.crosscheck``: list, export and check from the shell."""
import json
import subprocess
import sys
import textwrap

import pytest

from scratch.crosscheck.__main__ import main


def test_list_names_the_cases_and_their_arrays(capsys):
    assert main(["list", "glove"]) == 0
    out = capsys.readouterr().out
    assert "glove/classic" in out and "word (9, 4)" in out and "→ loss" in out


def test_export_writes_a_family(tmp_path, capsys):
    assert main(["export", "glove", "--out", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [c["name"] for c in manifest["cases"]] == ["glove/classic", "glove/simpler"]
    assert (tmp_path / "check_cases.py").exists()


def test_check_runs_a_function_from_a_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "mine.py").write_text(textwrap.dedent('''
        import numpy as np

        def glove(word, rows, cols, target, weight, context=None, word_bias=None, context_bias=None):
            table = word if context is None else context
            e = (word[rows] * table[cols]).sum(1) - target
            if word_bias is not None:
                e = e + word_bias[rows] + context_bias[cols]
            return 0.5 * (weight * e * e).sum()

        def glove_without_half(**arrays):
            return 2 * glove(**arrays)
    '''))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["check", "glove", "--fn", "mine:glove", "--framework", "numpy"]) == 0
    assert "2 of 2 cases passed" in capsys.readouterr().out
    assert main(["check", "glove", "--fn", "mine:glove_without_half", "--framework", "numpy", "--case",
                 "glove/simpler"]) == 1
    assert "glove/simpler: output of 'loss' differs" in capsys.readouterr().out


def test_a_bad_family_or_function_spec_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["export", "bert", "--out", "x"])
    with pytest.raises(ValueError, match="package.module:function"):
        main(["check", "glove", "--fn", "mine", "--framework", "numpy"])


def test_the_module_runs_from_the_shell():
    done = subprocess.run([sys.executable, "-m", "scratch.crosscheck", "list", "transformer_vq"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "transformer_vq/gau" in done.stdout
