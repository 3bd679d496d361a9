"""The extrapolation experiment's pieces: variant configs, the HWFA window, and the evaluation grid."""
import numpy as np
import pytest

from scratch.models.transformer.extrapolation import (
    TRAINING_VARIANTS,
    evaluate_extrapolation,
    hwfa_window,
    inference_variants,
    seed_summary,
    text_chart,
    training_config,
)
from scratch.training.lm import evaluate_lm, evaluation_windows
from scratch.models.transformer import TransformerConfig, TransformerLM


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
    assert set(rope) == {"full", "window", "log_n_clip", "rerope", "rerope+log_n_clip", "leaky_rerope"}
    assert set(inference_variants(TransformerConfig(train_len=16, position="alibi"))) == {"full", "window"}
    hwfa = TransformerConfig(train_len=16, position="rope", hwfa_window=6)
    assert set(inference_variants(hwfa)) == {"full", "window", "log_n_clip"}
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
