"""Cases of the capsule family (spec capsule.md): routing in its three modes (``scratch.kernels.routing``),
squash, margin loss, the capsule layers and Su's capsule network (``scratch.models.capsule``).

Routing: predictions ``u_hat (B, K, N, D)`` (K outputs, N inputs), logits b⁰ = 0, R = ``iterations``:
c = softmax of b over the K outputs (axis 1), s = Σ_n c û, last iteration v = squash(s); before it
o = squash(s) ("sabour", "su1") or s/‖s‖ ("su2"), b ← b + û·o ("sabour") or û·o ("su1", "su2").
squash_ε(s) = s·√n/(ε + n) with n = ‖s‖² + 1e-7; normalise(s) = s/√max(‖s‖², 1e-12).
Layer weights: shared ``weight (K, D, d)``, û_kn = W_k u_n; full ``weight (N, K, D, d)``, û_kn = W_kn u_n.
"""
from __future__ import annotations

import numpy as np

from ...kernels.routing import route
from ...models.capsule import CapsuleLayer, PrimaryCaps, margin_loss, squash
from ...models.capsule.networks import SuCapsuleNet
from ...nn import Module
from .build import build_case, place_parameters

ROUTING = {"u_hat": "(B, K, N, D): prediction of input capsule n for output k", "v": "(B, K, D) output capsules"}
WIDTHS, IMAGE = (2, 3, 3, 4), (16, 16)


def _module_case(name: str, module: Module, x_name: str, x: np.ndarray, description: str, layouts: dict,
                 run, constants=None, options=None, seed=0):
    """A case whose parameters are ``module``'s (its state_dict names, float64) and whose reference loads them."""
    module_params = {k: p.data.astype(np.float64) for k, p in module.named_parameters()}

    def reference(**arrays):
        place_parameters(module, {k: arrays.pop(k) for k in module_params})
        return run(module, **arrays)
    return build_case(name, reference, description=description, inputs={x_name: x}, parameters=module_params,
                      constants=constants, options=options, layouts=layouts, seed=seed)


def cases() -> list:
    rng = np.random.default_rng(3)
    made = []
    for index, (mode, eps) in enumerate((("sabour", 1.0), ("su1", 0.5), ("su2", 0.5))):
        made.append(build_case(
            f"capsule/route_{mode}",
            lambda u_hat, iterations, mode, eps: {"v": route(u_hat, iterations, mode=mode, eps=eps)},
            description=f"dynamic routing, mode {mode!r}, 3 iterations, squash ε = {eps}",
            inputs={"u_hat": rng.standard_normal((2, 3, 5, 4))},
            options={"iterations": 3, "mode": mode, "eps": eps}, layouts=ROUTING, seed=index))
    made.append(build_case(
        "capsule/squash", lambda s, eps: {"v": squash(s, eps)}, description="squash_ε along the last axis",
        inputs={"s": rng.standard_normal((2, 3, 4))}, options={"eps": 0.5}, layouts={"s": "(..., D)", "v": "like s"}))
    made.append(build_case(
        "capsule/margin_loss",
        lambda lengths, targets, m_pos, m_neg, lam: {"loss": margin_loss(lengths, targets, m_pos, m_neg, lam, "mean")},
        description="mean over batch and classes of T·relu(m⁺ − p)² + λ(1 − T)·relu(p − m⁻)², T one-hot of targets",
        inputs={"lengths": rng.uniform(0.02, 0.98, (4, 3))}, constants={"targets": rng.integers(0, 3, 4)},
        options={"m_pos": 0.9, "m_neg": 0.1, "lam": 0.25},
        layouts={"lengths": "(B, K) capsule lengths", "targets": "(B,) int64 class ids", "loss": "()"}))
    shared = CapsuleLayer(3, 3, 4, iterations=3, mode="su2", rng=rng, dtype=np.float64)
    made.append(_module_case(
        "capsule/capsule_layer", shared, "u", rng.standard_normal((2, 5, 3)),
        "shared-weight capsule layer (Su): û_kn = W_k u_n, then su2 routing, 3 iterations, ε = 0.5",
        {"u": "(B, N, d) input capsules", "weight": "(K, D, d): W_k maps u_n to û_kn", "v": "(B, K, D)"},
        lambda m, u: {"v": m(u)}, seed=4))
    full = CapsuleLayer(3, 3, 4, shared=False, num_inputs=5, iterations=3, mode="sabour", eps=1.0, rng=rng,
                        dtype=np.float64)
    made.append(_module_case(
        "capsule/capsule_layer_full", full, "u", rng.standard_normal((2, 5, 3)),
        "full-weight capsule layer (Sabour): û_kn = W_kn u_n, then sabour routing, 3 iterations, ε = 1",
        {"u": "(B, N, d) input capsules", "weight": "(N, K, D, d): W_kn maps u_n to û_kn", "v": "(B, K, D)"},
        lambda m, u: {"v": m(u)}, seed=5))
    primary = PrimaryCaps(4, 2, 3, kernel_size=3, stride=2, eps=1.0, rng=rng, dtype=np.float64)
    made.append(_module_case(
        "capsule/primary_caps", primary, "x", rng.standard_normal((2, 4, 7, 7)),
        "PrimaryCaps: conv 3×3 stride 2 to C·d channels; channel c·d + e is component e of capsule type c; "
        "capsules ordered (c, row, column); squash ε = 1",
        {"x": "(B, C_in, H, W)", "conv.weight": "(C·d, C_in, 3, 3) nn.Conv2d.weight", "conv.bias": "(C·d,)",
         "u": "(B, C·H'·W', d)"},
        lambda m, x: {"u": m(x)}, seed=6))
    net = SuCapsuleNet(WIDTHS, num_classes=3, capsule_dim=4, capsule={"iterations": 3, "mode": "su2"}, rng=rng,
                       dtype=np.float64)
    layouts = {"images": "(B, 1, H, W)", "targets": "(B,) int64 class ids", "scores": "(B, K) capsule lengths",
               "loss": "() Su's margin loss, mean", "capsules.weight": "(K, D, C) shared capsule weight"}
    layouts.update({f"features.conv{i}.{p}": f"nn.Conv2d.{p} of the {i}th 3×3 valid convolution"
                    for i in range(1, 5) for p in ("weight", "bias")})
    made.append(_module_case(
        "capsule/su_capsule_net", net, "images", rng.uniform(0, 1, (2, 1) + IMAGE),
        "Su's capsule net: conv1, conv2 (ReLU), avg-pool 2, conv3, conv4 (ReLU), capsules u (B, H'·W', C) in "
        "row-major grid order, su2 routing (3 iterations, ε 0.5), scores = lengths, margin loss",
        layouts, lambda m, images, targets: {"scores": (p := m(images)), "loss": margin_loss(p, targets)},
        constants={"targets": np.array([0, 2])}, seed=7))
    return made
