"""scripts/reproduce_transformer_vq.py end to end at a tiny size: a quantized and the unquantized variant
train and are tabulated, every variant builds its config, cached runs are reused, and a cached run with
other settings is refused."""
import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "reproduce_transformer_vq.py"
TINY = ["--d-model", "16", "--d-k", "8", "--layers", "1", "--codebook-size", "8", "--block", "8", "--seq-len", "32",
        "--batch-size", "2", "--steps", "2", "--warmup", "1", "--eval-windows", "2", "--multiples", "1", "2"]


def _load_script():
    spec = importlib.util.spec_from_file_location("reproduce_transformer_vq", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_variant_runs_and_is_tabulated(tmp_path, capsys):
    script = _load_script()
    out = tmp_path / "vq"
    assert script.main([*TINY, "--variants", "vq_reseed", "full", "--seeds", "0", "--out", str(out)]) == 0
    table = (out / "table.md").read_text()
    for variant in ("vq_reseed", "full"):
        assert f"| {variant} | 1 |" in table
        result = json.loads((out / f"{variant}_seed0.json").read_text())
        cells = result["results"]["trained"]
        assert set(cells) == {"32", "64"}
        assert all(0.0 <= cell["copy_accuracy"] <= 1.0 and cell["bits"] > 0 for cell in cells.values())
        assert (result["codebook"] is None) == (variant == "full")
    assert json.loads((out / "vq_reseed_seed0.json").read_text())["settings"]["steps"] == 2
    before = (out / "full_seed0.json").read_text()
    script.main([*TINY, "--variants", "full", "--seeds", "0", "--out", str(out)])
    assert (out / "full_seed0.json").read_text() == before
    with pytest.raises(ValueError, match="other settings"):
        script.main([*TINY, "--steps", "3", "--variants", "full", "--seeds", "0", "--out", str(out)])
    from dataclasses import replace
    base = script.parse_args(TINY).base
    configs = {name: replace(base, **changes) for name, changes in script.VARIANTS.items()}
    assert [c.attention for c in configs.values()] == ["vq", "vq", "local", "full"]
    assert configs["vq_reseed"].reseed_dead and not configs["vq"].reseed_dead
