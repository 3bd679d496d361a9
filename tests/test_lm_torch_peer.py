"""The benchmark's torch peer of TransformerLM computes the same loss and gradients from the same weights
(skipped without torch)."""
from dataclasses import replace

import numpy as np
import pytest

from scratch.models.transformer import TransformerConfig, TransformerLM
from scratch.training.lm import lm_loss

torch = pytest.importorskip("torch")

from scratch.bench.engine import LM_BATCH, cases  # noqa: E402 (the LM case imports the peer)
from scratch.crosscheck.torch_reference.lm import TorchTransformerLM  # noqa: E402

pytestmark = pytest.mark.torch

SMALL = TransformerConfig(vocab_size=256, dim=16, layers=2, heads=2, ffn_dim=24, train_len=9)


def torch_loss(model, x, y):
    logits = model(torch.from_numpy(x))
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))


@pytest.mark.parametrize("changes", [{}, {"norm": "layer", "activation": "silu"}, {"layers": 1, "heads": 4}])
def test_peer_has_the_same_loss_and_gradients_in_float64(rng, changes):
    config = replace(SMALL, **changes)
    ours = TransformerLM(config, rng=rng, dtype=np.float64)
    theirs = TorchTransformerLM(config, dtype=torch.float64)
    theirs.load_from(ours)
    x, y = rng.integers(0, 256, (3, 9)), rng.integers(0, 256, (3, 9))
    loss = lm_loss(ours(x), y)
    their_loss = torch_loss(theirs, x, y)
    np.testing.assert_allclose(loss.item(), their_loss.item(), rtol=1e-12)
    loss.backward()
    their_loss.backward()
    their_params = dict(theirs.named_parameters())
    assert set(their_params) == {name for name, _ in ours.named_parameters()}
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, their_params[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_peer_has_the_same_float32_loss_at_the_benchmark_size(rng):
    config = TransformerConfig()
    ours = TransformerLM(config, rng=rng)
    theirs = TorchTransformerLM(config)
    theirs.load_from(ours)
    x, y = rng.integers(0, 256, (LM_BATCH, 64)), rng.integers(0, 256, (LM_BATCH, 64))
    np.testing.assert_allclose(lm_loss(ours(x), y).item(), torch_loss(theirs, x, y).item(), rtol=1e-5)


def test_peer_refuses_a_config_it_does_not_compute():
    for changes in ({"position": "alibi"}, {"prenorm": False}, {"log_n": True}, {"hwfa_window": 4}):
        with pytest.raises(ValueError, match="torch peer"):
            TorchTransformerLM(replace(SMALL, **changes))


def test_benchmark_steps_run_on_both_sides(rng):
    step = next(case for case in cases(4, rng, torch) if case.name.startswith("Transformer LM"))
    step.scratch()
    step.torch()
