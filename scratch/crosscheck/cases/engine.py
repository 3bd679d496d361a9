"""Cases of the engine: the functional ops of ``scratch.functional``, ``nn.Linear`` and broadcasting matmul.

Options use torch's names (``dim``, ``reduction``, ``eps``, ``stride``, ``padding``, ``kernel_size``,
``approximate``) so that ``torch.nn.functional`` calls take them as they are. Parameters are in torch's
layout: ``weight`` of a linear map (out, in), of a convolution (C_out, C_in, kH, kW), of an embedding (V, d).
"""
from __future__ import annotations

import numpy as np

from ... import functional as F
from .build import build_case


def _unary(name: str, op, shape=(3, 4), spread=2.0, **options):
    x = spread * np.random.default_rng(len(name)).standard_normal(shape)
    return build_case(f"engine/{name}", lambda x, **kw: {"out": op(x, **kw)}, description=f"out = {name}(x) entrywise",
                      inputs={"x": x}, options=options, layouts={"x": "any shape", "out": "the shape of x"})


def cases() -> list:
    rng = np.random.default_rng(11)
    made = [_unary("relu", F.relu), _unary("sigmoid", F.sigmoid), _unary("tanh", F.tanh), _unary("silu", F.silu),
            _unary("gelu", F.gelu, approximate="none"), _unary("gelu_tanh", F.gelu, approximate="tanh")]
    made.append(build_case(
        "engine/softmax", lambda x, dim: {"out": F.softmax(x, axis=dim)}, description="softmax of x along dim",
        inputs={"x": 3 * rng.standard_normal((3, 5, 4))}, options={"dim": 1},
        layouts={"x": "(3, 5, 4)", "out": "like x"}))
    made.append(build_case(
        "engine/log_softmax", lambda x, dim: {"out": F.log_softmax(x, axis=dim)}, description="log-softmax along dim",
        inputs={"x": 3 * rng.standard_normal((3, 5, 4))}, options={"dim": -1},
        layouts={"x": "(3, 5, 4)", "out": "like x"}))
    made.append(build_case(
        "engine/logsumexp", lambda x, dim: {"out": F.logsumexp(x, axis=dim)}, description="log Σ exp x along dim",
        inputs={"x": 10 * rng.standard_normal((3, 4, 5))}, options={"dim": 1},
        layouts={"x": "(3, 4, 5)", "out": "(3, 5)"}))
    targets = rng.integers(0, 5, 6)
    made.append(build_case(
        "engine/cross_entropy", lambda logits, targets, reduction: {"loss": F.cross_entropy(logits, targets, reduction)},
        description="softmax cross-entropy of class ids", inputs={"logits": 4 * rng.standard_normal((6, 5))},
        constants={"targets": targets}, options={"reduction": "mean"},
        layouts={"logits": "(N, C)", "targets": "(N,) int64 class ids", "loss": "()"}))
    made.append(build_case(
        "engine/nll_loss", lambda log_probs, targets, reduction: {"loss": F.nll_loss(log_probs, targets, reduction)},
        description="−log_probs[target], summed", inputs={"log_probs": rng.standard_normal((6, 5))},
        constants={"targets": targets}, options={"reduction": "sum"},
        layouts={"log_probs": "(N, C)", "targets": "(N,) int64 class ids", "loss": "()"}))
    made.append(build_case(
        "engine/binary_cross_entropy_with_logits",
        lambda logits, targets, reduction: {"loss": F.binary_cross_entropy_with_logits(logits, targets, reduction)},
        description="sigmoid cross-entropy; the targets are differentiated too",
        inputs={"logits": 10 * rng.standard_normal((4, 5)), "targets": rng.random((4, 5))},
        options={"reduction": "none"}, layouts={"logits": "(4, 5)", "targets": "(4, 5) in [0, 1]", "loss": "(4, 5)"}))
    made.append(build_case(
        "engine/mse_loss", lambda input, target, reduction: {"loss": F.mse_loss(input, target, reduction)},
        description="mean squared error", inputs={"input": rng.standard_normal((3, 4)),
                                                  "target": rng.standard_normal((3, 4))},
        options={"reduction": "mean"}, layouts={"input": "(3, 4)", "target": "(3, 4)", "loss": "()"}))
    made.append(build_case(
        "engine/layer_norm", lambda x, weight, bias, eps: {"out": F.layer_norm(x, weight, bias, eps)},
        description="LayerNorm over the last axis", inputs={"x": rng.standard_normal((2, 3, 5))},
        parameters={"weight": rng.standard_normal(5), "bias": rng.standard_normal(5)}, options={"eps": 1e-5},
        layouts={"x": "(2, 3, 5)", "weight": "(5,) nn.LayerNorm.weight", "bias": "(5,) nn.LayerNorm.bias",
                 "out": "like x"}))
    made.append(build_case(
        "engine/rms_norm", lambda x, weight, eps: {"out": F.rms_norm(x, weight, eps)},
        description="RMSNorm over the last axis", inputs={"x": rng.standard_normal((4, 6))},
        parameters={"weight": rng.standard_normal(6)}, options={"eps": 1e-6},
        layouts={"x": "(4, 6)", "weight": "(6,) nn.RMSNorm.weight", "out": "like x"}))
    made.append(build_case(
        "engine/embedding", lambda weight, ids: {"out": F.embedding(weight, ids)}, description="rows of weight",
        parameters={"weight": rng.standard_normal((7, 4))}, constants={"ids": rng.integers(0, 7, (3, 8))},
        layouts={"weight": "(V, d) nn.Embedding.weight", "ids": "(3, 8) int64", "out": "(3, 8, d)"}))
    made.append(build_case(
        "engine/linear", lambda x, weight, bias: {"out": x @ weight.T + bias}, description="x Wᵀ + b",
        inputs={"x": rng.standard_normal((2, 4, 6))},
        parameters={"weight": rng.standard_normal((3, 6)), "bias": rng.standard_normal(3)},
        layouts={"x": "(2, 4, in)", "weight": "(out, in) nn.Linear.weight", "bias": "(out,) nn.Linear.bias",
                 "out": "(2, 4, out)"}))
    made.append(build_case(
        "engine/matmul", lambda a, b: {"out": a @ b}, description="broadcasting a @ b",
        inputs={"a": rng.standard_normal((2, 1, 3, 4)), "b": rng.standard_normal((5, 4, 2))},
        layouts={"a": "(2, 1, 3, 4)", "b": "(5, 4, 2)", "out": "(2, 5, 3, 2)"}))
    made.append(build_case(
        "engine/conv2d", lambda x, weight, bias, stride, padding: {"out": F.conv2d(x, weight, bias, stride, padding)},
        description="cross-correlation as torch's conv2d, zero padding",
        inputs={"x": rng.standard_normal((2, 3, 9, 8))},
        parameters={"weight": rng.standard_normal((5, 3, 3, 2)), "bias": rng.standard_normal(5)},
        options={"stride": [2, 1], "padding": [0, 2]},
        layouts={"x": "(N, C_in, H, W)", "weight": "(C_out, C_in, kH, kW) nn.Conv2d.weight",
                 "bias": "(C_out,) nn.Conv2d.bias", "out": "(N, C_out, H', W')"}))
    for pool in ("avg_pool2d", "max_pool2d"):
        op = getattr(F, pool)
        made.append(build_case(
            f"engine/{pool}", lambda x, kernel_size, stride, op=op: {"out": op(x, kernel_size, stride)},
            description=f"{pool} without padding", inputs={"x": rng.standard_normal((2, 3, 9, 8))},
            options={"kernel_size": 3, "stride": 2}, layouts={"x": "(N, C, H, W)", "out": "(N, C, H', W')"}))
    return made
