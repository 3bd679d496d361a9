"""The extrapolation experiment's pieces: variant configs, the HWFA window, the evaluation grid, and
scripts/reproduce_extrapolation.py end to end."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from scratch.models.transformer.extrapolation import (
    INFERENCE_VARIANTS,
    TRAINING_VARIANTS,
    evaluate_extrapolation,
    hwfa_window,
    inference_variants,
    seed_summary,
    text_chart,
    training_config,
)
from scratch.training.lm import TrainConfig, evaluate_lm, evaluation_windows
from scratch.models.transformer import CONFIG_CHOICES, TransformerConfig, TransformerLM

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "reproduce_extrapolation.py"


def test_hwfa_window_is_the_largest_receptive_field_within_alpha_n():
    for n, layers in [(64, 3), (128, 4), (32, 2), (8, 6)]:
        w = hwfa_window(n, layers)
        assert w >= 2
        if w > 2:
            assert (w - 1) * (layers - 1) + 1 <= 0.75 * n < w * (layers - 1) + 1
    assert hwfa_window(64, 3) == 24


def test_training_config_applies_each_variant():
    base = TransformerConfig(dim=16, layers=3, heads=2, ffn_dim=32, train_len=16)
    for name, changes in TRAINING_VARIANTS.items():
        config = training_config(base, name)
        assert config.position == changes["position"]
        assert config.dim == base.dim and config.train_len == base.train_len
    assert training_config(base, "hwfa").hwfa_window == hwfa_window(16, 3)
    assert training_config(base, "rope_log_n").log_n is True
    with pytest.raises(ValueError, match="variant must be one of"):
        training_config(base, "bogus")


def test_inference_variants_depend_on_the_position_encoding():
    rope = inference_variants(TransformerConfig(train_len=16, position="rope"))
    assert rope["window"] == {"window": 16} and rope["rerope"] == {"rerope": 8}
    assert rope["leaky_rerope"] == {"rerope": 8, "leaky_k": 16.0} and rope["log_n_clip"] == {"log_n_clip": True}
    assert rope["rerope+log_n_clip"] == {"rerope": 8, "log_n_clip": True} and rope["full"] == {}
    assert rope["rerope_w=N/8"] == {"rerope": 2} and rope["rerope_w=N/4"] == {"rerope": 4}
    assert rope["rerope_w=3N/4"] == {"rerope": 12}
    assert all(rope[method] == {"rope_scaling": method} for method in ("pi", "ntk", "yarn"))
    assert set(rope) == {"full", "window", "log_n_clip", "rerope", "rerope+log_n_clip", "leaky_rerope",
                         "rerope_w=N/8", "rerope_w=N/4", "rerope_w=3N/4", "pi", "ntk", "yarn"}
    assert set(inference_variants(TransformerConfig(train_len=16, position="alibi"))) == {"full", "window"}
    hwfa = TransformerConfig(train_len=16, position="rope", hwfa_window=6)
    assert set(inference_variants(hwfa)) == {"full", "window", "log_n_clip", "pi", "ntk", "yarn"}
    assert "rerope" in inference_variants(TransformerConfig(train_len=16, position="rope", hwfa_window=12))


def test_evaluate_extrapolation_grid_matches_direct_evaluation():
    config = TransformerConfig(dim=16, layers=2, heads=2, ffn_dim=32, train_len=8)
    model = TransformerLM(config, rng=np.random.default_rng(0))
    val = np.random.default_rng(1).integers(0, 256, 2000).astype(np.int64)
    results = evaluate_extrapolation(model, val, lengths=[8, 16], windows=4, seed=3)
    assert set(results) == set(inference_variants(config))
    for name, per_length in results.items():
        assert set(per_length) == {8, 16}
        for row in per_length.values():
            assert 0.0 <= row["accuracy"] <= 1.0 and 0.0 <= row["copy_accuracy"] <= 1.0
            assert np.isfinite(row["loss"]) and np.isfinite(row["copy_loss"])
    x, y = evaluation_windows(val, 16, 4, 3)
    direct = evaluate_lm(lambda ids: model(ids, window=8), x, y, tail=8)
    assert results["window"][16]["accuracy"] == direct["accuracy"]
    assert results["window"][16]["loss"] == pytest.approx(direct["loss"], rel=1e-12)
    # at the training length the window covers every key, so it changes nothing
    assert results["window"][8]["loss"] == pytest.approx(results["full"][8]["loss"], rel=1e-6)


def test_seed_summary_means_and_half_ranges_over_seeds():
    runs = [{"variant": "rope", "results": {"full": {"8": {"accuracy": 0.4}, "16": {"accuracy": 0.2}}}},
            {"variant": "rope", "results": {"full": {"8": {"accuracy": 0.6}, "16": {"accuracy": 0.2}}}},
            {"variant": "alibi", "results": {"full": {8: {"accuracy": 0.5}}}}]
    summary = seed_summary(runs, "accuracy")
    assert list(summary) == [("rope", "full"), ("alibi", "full")]
    assert summary[("rope", "full")][8] == pytest.approx((0.5, 0.1))
    assert summary[("rope", "full")][16] == pytest.approx((0.2, 0.0))
    assert summary[("alibi", "full")] == {8: (0.5, 0.0)}


def test_text_chart_bar_lengths_follow_the_values():
    chart = text_chart({"a": [20.0, 45.0], "bb": [70.0, 100.0]}, ["T=64", "T=128"], lo=20, hi=70, width=10)
    header, a, bb = chart.split("\n")
    assert header.startswith("   | T=64") and a.startswith("a  | ")
    bars = [cell for cell in a.split(" | ")[1:3]]
    assert bars == [" " * 10, "█████     "]
    assert bb.split(" | ")[1:3] == ["█" * 10, "█" * 10] and bb.endswith("70.0 100.0")
    assert text_chart({"x": [21.0]}, ["T"], 20, 30, width=2).split("\n")[1].split(" | ")[1] == "▎ "
    with pytest.raises(ValueError, match="values for 2 columns"):
        text_chart({"a": [1.0]}, ["T=64", "T=128"], 0, 1)
    with pytest.raises(ValueError, match="hi > lo"):
        text_chart({"a": [1.0]}, ["T"], 1, 1)


def test_rerope_on_hwfa_with_a_window_inside_w_equals_full_attention():
    config = TransformerConfig(dim=16, layers=3, heads=2, ffn_dim=32, train_len=16, hwfa_window=6)
    model = TransformerLM(config, rng=np.random.default_rng(0))
    ids = np.random.default_rng(1).integers(0, 256, (2, 40))
    np.testing.assert_allclose(model(ids, rerope=8).data, model(ids).data, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("args, match", [
    ((True, 3), "train_len"), ((0, 3), "train_len"), ((64, True), "layers"), ((64, 0), "layers"),
    ((64, 3, 0.0), "alpha"), ((64, 3, 1.5), "alpha"), ((64, 3, np.nan), "alpha"), ((64, 3, True), "alpha"),
])
def test_hwfa_window_rejects_bad_values(args, match):
    with pytest.raises(ValueError, match=match):
        hwfa_window(*args)


def test_variant_functions_reject_bad_values():
    base = TransformerConfig(train_len=16)
    with pytest.raises(ValueError, match="variant"):
        training_config(base, True)
    with pytest.raises(TypeError, match="base"):
        training_config({"train_len": 16}, "rope")
    with pytest.raises(TypeError, match="config"):
        inference_variants({"train_len": 16})


@pytest.mark.parametrize("kwargs, match", [
    (dict(lengths=[8, True]), "lengths"), (dict(lengths=[0]), "lengths"), (dict(lengths=[8.0]), "lengths"),
    (dict(windows=True), "windows"), (dict(windows=0), "windows"), (dict(seed=True), "seed"),
    (dict(seed=-1), "seed"),
])
def test_evaluate_extrapolation_rejects_bad_values(kwargs, match):
    model = TransformerLM(TransformerConfig(dim=16, layers=1, heads=2, ffn_dim=16, train_len=8))
    val = np.random.default_rng(1).integers(0, 256, 500).astype(np.int64)
    arguments = {"lengths": [8], "windows": 2, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        evaluate_extrapolation(model, val, **arguments)
    with pytest.raises(TypeError, match="model"):
        evaluate_extrapolation(lambda ids: ids, val, [8], 2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lo=np.nan), "lo"), (dict(hi=np.inf), "hi"), (dict(lo=True), "lo"), (dict(width=True), "width"),
    (dict(width=0), "width"), (dict(lo=2.0, hi=1.0), "hi > lo"),
])
def test_text_chart_rejects_bad_values(kwargs, match):
    arguments = {"lo": 0.0, "hi": 1.0, "width": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        text_chart({"a": [0.5]}, ["T"], **arguments)


def test_inference_variants_are_named_in_the_table_order():
    every = inference_variants(TransformerConfig(train_len=16, position="rope"))
    assert tuple(every) == INFERENCE_VARIANTS


def _load_script():
    spec = importlib.util.spec_from_file_location("reproduce_extrapolation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_flags_come_from_the_configs_and_variant_table(capsys):
    script = _load_script()
    args = script.parse_args([])
    assert args.variants == list(TRAINING_VARIANTS) and args.base == TransformerConfig()
    for name in ("dim", "layers", "heads", "ffn_dim", "norm", "prenorm", "activation", "sandwich_scale"):
        assert getattr(args, name) == getattr(TransformerConfig(), name)
    for name in ("seq_len", "lr", "final_lr", "warmup", "clip", "weight_decay", "copy_fraction"):
        assert getattr(args, name) == getattr(TrainConfig(), name)
    assert (args.batch_size, args.steps) == (script.EXPERIMENT_RUN["batch_size"], script.EXPERIMENT_RUN["steps"])
    assert script.parse_args(["--norm", CONFIG_CHOICES["norm"][-1]]).base.norm == CONFIG_CHOICES["norm"][-1]
    with pytest.raises(SystemExit):
        script.parse_args(["--variants", "t5"])
    with pytest.raises(SystemExit):
        script.parse_args(["--dim", "0"])
    assert "dim must be a positive integer" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        script.parse_args(["--help"])
    assert exit_info.value.code == 0 and "--no-prenorm" in capsys.readouterr().out


def test_script_trains_tabulates_and_reuses_its_runs(tmp_path, capsys):
    script = _load_script()
    argv = ["--variants", "rope", "alibi", "--seeds", "0", "--steps", "2", "--dim", "8", "--heads", "2", "--layers",
            "1", "--ffn-dim", "8", "--seq-len", "8", "--batch-size", "2", "--warmup", "1", "--eval-windows", "2",
            "--multiples", "1", "2", "--out", str(tmp_path)]
    assert script.main(argv) == 0
    table = (tmp_path / "table.md").read_text()
    assert "| rope | rerope |" in table and "| alibi | window |" in table and "T=16" in table
    first = json.loads((tmp_path / "rope_seed0.json").read_text())
    assert first["settings"]["dim"] == 8 and first["settings"]["prenorm"] is True
    assert script.main(argv) == 0
    assert json.loads((tmp_path / "rope_seed0.json").read_text()) == first
    with pytest.raises(ValueError, match="other settings"):
        script.main([*argv, "--no-prenorm"])
