"""Exported cases load back unchanged, and the standalone checker written next to them runs where this
project cannot be imported (a meta-path blocker on PYTHONPATH, the working directory outside the repo)."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from scratch.crosscheck import cases, load_cases
from scratch.crosscheck.checker import GROUPS
from scratch.crosscheck.export import SAFETENSORS, STANDALONE, export

BLOCKER = '''
import sys


class NoScratch:
    """Refuse to import this project, as on a machine that does not have it."""

    def find_spec(self, name, path=None, target=None):
        if name == "scratch" or name.startswith("scratch."):
            raise ModuleNotFoundError(f"{name} is blocked in this test")
        return None


sys.meta_path.insert(0, NoScratch())
'''


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    export(cases("engine") + cases("capsule"), out)
    return out


@pytest.fixture
def outsider(tmp_path):
    """(run, directory): run(args) executes Python in ``directory`` with this project unimportable."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    work = tmp_path / "work"
    work.mkdir()

    def run(*args):
        env = {"PYTHONPATH": str(blocker), "PATH": "/usr/bin:/bin", "NUMBA_CACHE_DIR": str(tmp_path / "nb")}
        return subprocess.run([sys.executable, *args], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    return run, work


def test_the_export_loads_back_unchanged(exported):
    loaded = {c.name: c for c in load_cases(exported)}
    originals = cases("engine") + cases("capsule")
    assert sorted(loaded) == sorted(c.name for c in originals)
    for original in originals:
        back = loaded[original.name]
        assert (back.options, back.atol, back.rtol, back.description) == (original.options, original.atol, original.rtol,
                                                                          original.description)
        for group in GROUPS:
            ours, theirs = getattr(original, group), getattr(back, group)
            assert list(ours) == list(theirs)
            for key in ours:
                np.testing.assert_array_equal(theirs[key], ours[key])
                assert theirs[key].dtype == ours[key].dtype


def test_the_manifest_describes_every_array(exported):
    manifest = json.loads((exported / "manifest.json").read_text())
    entry = next(e for e in manifest["cases"] if e["name"] == "capsule/su_capsule_net")
    weight = next(p for p in entry["parameters"] if p["name"] == "capsules.weight")
    assert weight == {"name": "capsules.weight", "shape": [3, 4, 4], "dtype": "float64",
                      "layout": "(K, D, C) shared capsule weight"}
    assert entry["constants"][0]["dtype"] == "int64"
    assert "fn(**inputs, **parameters, **constants, **options)" in manifest["convention"]
    with np.load(exported / "cases.npz") as arrays:
        assert "capsule/su_capsule_net/grads/capsules.weight" in arrays.files


def test_a_safetensors_copy_holds_the_same_arrays(exported):
    safetensors = pytest.importorskip("safetensors.numpy")
    stored = safetensors.load_file(str(exported / SAFETENSORS))
    with np.load(exported / "cases.npz") as arrays:
        assert sorted(stored) == sorted(arrays.files)
        for key in arrays.files:
            np.testing.assert_array_equal(stored[key], arrays[key])


def test_the_blocker_blocks(outsider):
    run, _ = outsider
    assert "blocked in this test" in run("-c", "import scratch").stderr


def test_the_standalone_checker_runs_without_the_project(exported, outsider):
    run, work = outsider
    (work / "mine.py").write_text(textwrap.dedent('''
        import numpy as np

        def softmax(x, dim):
            e = np.exp(x - x.max(axis=dim, keepdims=True))
            return e / e.sum(axis=dim, keepdims=True)

        def softmax_of_the_wrong_axis(x, dim):
            return softmax(x, 0)
    '''))
    passed = run(str(exported / STANDALONE), "--fn", "mine:softmax", "--framework", "numpy", "--case", "engine/softmax")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "engine/softmax [numpy] PASS" in passed.stdout and "1 of 1 cases passed" in passed.stdout
    failed = run(str(exported / STANDALONE), "--fn", "mine:softmax_of_the_wrong_axis", "--framework", "numpy",
                 "--case", "engine/softmax")
    assert failed.returncode == 1
    assert "engine/softmax: output of 'out' differs at index" in failed.stdout


@pytest.mark.torch
def test_the_standalone_checker_checks_a_torch_routing_without_the_project(exported, outsider):
    pytest.importorskip("torch")
    run, work = outsider
    (work / "routing.py").write_text(textwrap.dedent('''
        import torch

        def squash(s, eps):
            n = (s * s).sum(-1, keepdim=True) + 1e-7
            return s * n.sqrt() / (eps + n)

        def route(u_hat, iterations, mode, eps, axis=1):
            b = torch.zeros(u_hat.shape[:3], dtype=u_hat.dtype)
            for t in range(iterations):
                s = torch.einsum("bkn,bknd->bkd", torch.softmax(b, dim=axis), u_hat)
                if t == iterations - 1:
                    return squash(s, eps)
                o = torch.nn.functional.normalize(s, dim=-1, eps=1e-6) if mode == "su2" else squash(s, eps)
                a = torch.einsum("bknd,bkd->bkn", u_hat, o)
                b = b + a if mode == "sabour" else a

        def route_over_inputs(u_hat, iterations, mode, eps):
            return route(u_hat, iterations, mode, eps, axis=2)
    '''))
    passed = run(str(exported / STANDALONE), "--fn", "routing:route", "--case", "capsule/route_*")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "3 of 3 cases passed" in passed.stdout
    failed = run(str(exported / STANDALONE), "--fn", "routing:route_over_inputs", "--case", "capsule/route_su2")
    assert failed.returncode == 1
    assert "capsule/route_su2: output of 'v' differs at index" in failed.stdout
    assert "capsule/route_su2: gradient of 'u_hat' differs at index" in failed.stdout


def test_the_kit_builds_and_exports_without_torch(tmp_path):
    """torch is no dependency: with it blocked, the kit imports, builds cases, exports and checks NumPy code."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER.replace('"scratch"', '"torch"').replace('"scratch."', '"torch."'))
    code = textwrap.dedent(f'''
        import sys
        import scratch.crosscheck as kit
        from scratch.crosscheck.export import export
        export(kit.cases("glove"), {str(tmp_path / "out")!r})
        report = kit.check(kit.case("glove/simpler"), kit.case("glove/simpler").reference, framework="numpy")
        assert report.passed, report
        assert "torch" not in sys.modules
        print("ok")
    ''')
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), root])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert (tmp_path / "out" / "manifest.json").exists()
