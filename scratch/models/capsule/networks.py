"""The networks of the capsule experiments (spec capsule.md §4, §6) and the two-digit test.

* ``SuCapsuleNet``: Su's conv stack, then its C channels at every position read as N = H'·W'
  input capsules of dimension d = C (raw ReLU features, no squash) → shared-weight capsule layer
  → scores p_j = ‖v_j‖.
* ``CNNBaseline``: the same conv stack → global average pooling → Dense 128 ReLU → Dense K sigmoid.
* ``SabourCapsNet``: conv 9×9 → PrimaryCaps → full-weight capsule layer (Sabour routing, ε = 1),
  with the masked reconstruction decoder.

Conv stack (valid padding, ReLU): conv3×3 w₀ → conv3×3 w₁ → avgpool 2 → conv3×3 w₂ → conv3×3 w₃;
28×28 → 8×8 (N = 64) and 56×28 → 22×8 (N = 176) with the same weights. Su's widths are
64-64-128-128; 16-16-32-32 is the small CPU setting. Conv and dense layers are Glorot-uniform with
zero biases, as in Keras. Every model maps images (B, H, W) or (B, 1, H, W) to scores (B, K) in
[0, 1] and has ``loss(x, y)``: the margin loss, plus the scaled reconstruction error for Sabour.
They train with ``scratch.training.fit(model, model.loss, ..., loss_of="inputs")``.

The two-digit test (spec §6): a model trained on single digits scores images of two stacked digits
of different classes; it is right when its two highest scores are the two classes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ...autograd import Tensor, as_tensor, no_grad
from ...kernels.routing import DEFAULT_ITERATIONS, MODES, route_forward_reference
from ...nn import AvgPool2d, Conv2d, Linear, Module, ModuleList, init
from ...validation import choice, generator, int_pair, integer, positive_int, positive_real, real, shape
from .layers import SABOUR_MARGIN, CapsuleLayer, Margin, PrimaryCaps, capsule_lengths, margin_loss

SU_WIDTHS = (64, 64, 128, 128)
SMALL_WIDTHS = (16, 16, 32, 32)
TWO_DIGIT_MODELS = ("cnn", "su2", "su1", "sabour")  # their weights do not depend on the image size
MODEL_NAMES = TWO_DIGIT_MODELS + ("capsnet",)
SQUASH_EPS = {"su2": 0.5, "su1": 0.5, "sabour": 1.0, "capsnet": 1.0}  # Su's ε, and Sabour's for his routing
EVAL_BATCH_SIZE = 250  # images per forward at test time; the activations of 56×28 images at Su's widths fit in ~1 GB


@dataclass(frozen=True)
class Training:
    """Su's training of the two-digit experiment (spec §6): Adam, 30 epochs of batches of 128."""

    epochs: int = 30
    batch_size: int = 128
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate"})

    def __post_init__(self) -> None:
        positive_int("epochs", self.epochs)
        positive_int("batch_size", self.batch_size)
        positive_real("lr", self.lr)


def _images(x: Any) -> Tensor:
    """(B, H, W) or (B, 1, H, W) → a (B, 1, H, W) Tensor."""
    x = as_tensor(x)
    if x.ndim == 3:
        x = x.reshape(x.shape[0], 1, *x.shape[1:])
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"x must be grey images (B, H, W) or (B, 1, H, W), got shape {x.shape}")
    return x


def _glorot(*layers: Module, rng: np.random.Generator) -> None:
    """Keras defaults: Glorot-uniform weights and zero biases."""
    for layer in layers:
        init.xavier_uniform_(layer.weight, rng=rng)
        if layer.bias is not None:
            init.zeros_(layer.bias)


class ConvStack(Module):
    """x (B, 1, H, W) → features (B, w₃, H', W'), H' = ⌊(H − 4)/2⌋ − 4 (valid 3×3 convs, avgpool 2)."""

    def __init__(self, widths: tuple[int, int, int, int] = SU_WIDTHS, *, rng: np.random.Generator,
                 dtype: np.dtype | type = np.float32):
        super().__init__()
        shape("widths", widths, (4,))
        self.widths = tuple(positive_int(f"widths[{i}]", w) for i, w in enumerate(widths))
        channels = (1,) + self.widths
        self.conv1, self.conv2, self.conv3, self.conv4 = [
            Conv2d(c_in, c_out, 3, rng=rng, dtype=dtype) for c_in, c_out in zip(channels, channels[1:])]
        _glorot(self.conv1, self.conv2, self.conv3, self.conv4, rng=rng)
        self.pool = AvgPool2d(2)

    def forward(self, x: Any) -> Tensor:
        h = self.pool(self.conv2(self.conv1(x).relu()).relu())
        return self.conv4(self.conv3(h).relu()).relu()


class _MarginModel(Module):
    """Scores (B, K) in [0, 1] trained with the margin loss of the settings ``margin`` (``default_margin``
    when None: Su's settings, Sabour's for his CapsNet)."""

    default_margin = Margin()

    def __init__(self, margin: Margin | None):
        super().__init__()
        if margin is not None and not isinstance(margin, Margin):
            raise TypeError(f"margin must be a Margin or None, got {type(margin).__name__}")
        self.margin = self.default_margin if margin is None else margin

    def loss(self, x: Any, y: np.ndarray) -> Tensor:
        """The margin loss of the scores of images x (B, H, W) for class ids y (B,)."""
        return margin_loss(self(x), y, **asdict(self.margin))


class SuCapsuleNet(_MarginModel):
    """images → ConvStack (B, C, H', W') → u (B, N = H'·W', d = C) → CapsuleLayer → p = ‖v‖ (B, K).

    ``capsule`` holds the CapsuleLayer keywords (iterations, mode, eps, stop_gradient, implementation).
    """

    def __init__(self, widths: tuple[int, int, int, int] = SU_WIDTHS, num_classes: int = 10, capsule_dim: int = 16,
                 *, capsule: dict[str, Any] | None = None, margin: Margin | None = None,
                 rng: np.random.Generator | None = None, dtype: np.dtype | type = np.float32):
        super().__init__(margin)
        rng = generator("rng", rng)
        self.features = ConvStack(widths, rng=rng, dtype=dtype)
        self.capsules = CapsuleLayer(self.features.widths[-1], positive_int("num_classes", num_classes),
                                     positive_int("capsule_dim", capsule_dim), shared=True, rng=rng, dtype=dtype,
                                     **(capsule or {}))

    def forward(self, x: Any) -> Tensor:
        h = self.features(_images(x))
        batch, channels, height, width = h.shape
        u = h.reshape(batch, channels, height * width).transpose(0, 2, 1)
        return capsule_lengths(self.capsules(u))


class CNNBaseline(_MarginModel):
    """images → ConvStack → global average pool (B, C) → Dense 128 ReLU → Dense K sigmoid (B, K)."""

    def __init__(self, widths: tuple[int, int, int, int] = SU_WIDTHS, num_classes: int = 10, hidden: int = 128,
                 *, margin: Margin | None = None, rng: np.random.Generator | None = None,
                 dtype: np.dtype | type = np.float32):
        super().__init__(margin)
        rng = generator("rng", rng)
        self.features = ConvStack(widths, rng=rng, dtype=dtype)
        self.hidden = Linear(self.features.widths[-1], positive_int("hidden", hidden), rng=rng, dtype=dtype)
        self.out = Linear(hidden, positive_int("num_classes", num_classes), rng=rng, dtype=dtype)
        _glorot(self.hidden, self.out, rng=rng)

    def forward(self, x: Any) -> Tensor:
        pooled = self.features(_images(x)).mean(axis=(2, 3))
        return self.out(self.hidden(pooled).relu()).sigmoid()


class SabourCapsNet(_MarginModel):
    """Sabour et al. (spec §1): conv 9×9 ReLU → PrimaryCaps (squash ε = 1) → full-weight capsules → ‖v‖.

    For 28×28 inputs: conv (B, c, 20, 20) → PrimaryCaps (B, 36·P, p) → v (B, K, D). Sabour's sizes are
    c = 256, P = 32, p = 8, D = 16; smaller ones keep it trainable on a CPU. The margin loss defaults to
    Sabour's settings (``SABOUR_MARGIN``: λ = 0.5, summed over classes); ``loss`` adds the decoder's
    ``recon_weight`` · Σ (x − x̂)² per image (0.0005), with the decoder fed only the true class's capsule,
    reduced over the batch as the margin loss is (summed with "sum", averaged with "mean"), so the two
    terms keep Sabour's per-image ratio under his settings; ``recon_weight = 0`` drops the decoder.
    """

    default_margin = SABOUR_MARGIN

    def __init__(self, num_classes: int = 10, conv_channels: int = 256, primary_channels: int = 32,
                 primary_dim: int = 8, capsule_dim: int = 16, image_size: tuple[int, int] = (28, 28),
                 decoder: tuple[int, int] = (512, 1024), recon_weight: float = 0.0005, *,
                 capsule: dict[str, Any] | None = None, margin: Margin | None = None,
                 rng: np.random.Generator | None = None, dtype: np.dtype | type = np.float32):
        super().__init__(margin)
        rng = generator("rng", rng)
        num_classes = positive_int("num_classes", num_classes)
        conv_channels = positive_int("conv_channels", conv_channels)
        primary_channels = positive_int("primary_channels", primary_channels)
        primary_dim = positive_int("primary_dim", primary_dim)
        capsule_dim = positive_int("capsule_dim", capsule_dim)
        self.image_size = int_pair("image_size", image_size, minimum=17)  # a 9×9 conv, then a 9×9 stride-2 one
        decoder = tuple(positive_int(f"decoder[{i}]", size) for i, size in enumerate(decoder))
        self.recon_weight = real("recon_weight", recon_weight, minimum=0.0)
        self.conv = Conv2d(1, conv_channels, 9, rng=rng, dtype=dtype)
        self.primary = PrimaryCaps(conv_channels, primary_channels, primary_dim, rng=rng, dtype=dtype)
        grid = [((s - 8) - 9) // 2 + 1 for s in self.image_size]
        options = {"mode": "sabour", "eps": SQUASH_EPS["capsnet"], **(capsule or {})}
        self.capsules = CapsuleLayer(primary_dim, num_classes, capsule_dim, shared=False,
                                     num_inputs=primary_channels * grid[0] * grid[1], rng=rng, dtype=dtype, **options)
        sizes = (num_classes * capsule_dim, *decoder, self.image_size[0] * self.image_size[1])
        self.decoder = ModuleList([Linear(a, b, rng=rng, dtype=dtype) for a, b in zip(sizes, sizes[1:])])

    def capsule_outputs(self, x: Any) -> Tensor:
        """images → v (B, K, D)."""
        u = self.primary(self.conv(_images(x)).relu())
        return self.capsules(u)

    def forward(self, x: Any) -> Tensor:
        return capsule_lengths(self.capsule_outputs(x))

    def reconstruct(self, v: Tensor, classes: np.ndarray) -> Tensor:
        """x̂ (B, H·W) from v (B, K, D) with every capsule but ``classes`` (B,) masked to zero."""
        batch, k, d = v.shape
        mask = np.eye(k, dtype=v.dtype)[classes][:, :, None]
        h = (v * mask).reshape(batch, k * d)
        *hidden, last = list(self.decoder)
        for layer in hidden:
            h = layer(h).relu()
        return last(h).sigmoid()

    def loss(self, x: Any, y: np.ndarray) -> Tensor:
        """The margin loss of images x (B, H, W) for class ids y (B,), plus the weighted reconstruction error."""
        v = self.capsule_outputs(x)
        loss = margin_loss(capsule_lengths(v), y, **asdict(self.margin))
        if self.recon_weight == 0:
            return loss
        target = np.asarray(x, dtype=v.dtype).reshape(len(y), -1)
        error = self.reconstruct(v, np.asarray(y)) - target
        per_batch = 1.0 if self.margin.reduction == "sum" else 1.0 / len(y)
        return loss + (error * error).sum() * (self.recon_weight * per_batch)


def build_model(name: str, widths: tuple[int, int, int, int] = SMALL_WIDTHS, *,
                iterations: int = DEFAULT_ITERATIONS, eps: float | None = None, stop_gradient: bool = False,
                margin: Margin | None = None, rng: np.random.Generator | None = None, **capsnet: Any) -> Module:
    """A model of the experiments by name (``MODEL_NAMES``): "cnn" (CNNBaseline); "su2", "su1", "sabour"
    (SuCapsuleNet with that routing); "capsnet" (SabourCapsNet, ``capsnet`` holding its size keywords).

    ``eps`` defaults to the model's ``SQUASH_EPS``: 1 (Sabour's squash) for "sabour" and "capsnet", 0.5
    (Su's) otherwise.
    """
    choice("name", name, MODEL_NAMES)
    if name == "cnn":
        return CNNBaseline(widths, margin=margin, rng=rng)
    eps = SQUASH_EPS[name] if eps is None else positive_real("eps", eps)
    routing = {"iterations": iterations, "eps": eps, "stop_gradient": stop_gradient}
    if name == "capsnet":
        return SabourCapsNet(capsule={**routing, "mode": "sabour"}, margin=margin, rng=rng, **capsnet)
    return SuCapsuleNet(widths, capsule={**routing, "mode": name}, margin=margin, rng=rng)


def routing_coefficients(model: SuCapsuleNet, x: np.ndarray) -> np.ndarray:
    """Coupling coefficients of the last routing iteration, c^{R−1} (B, K, H', W'), on images x (B, H, W).

    c[b, j] shows where on the feature grid the input capsules send their votes to output j.
    """
    layer = model.capsules
    with no_grad():
        h = model.features(_images(x))
        batch, channels, height, width = h.shape
        u_hat = layer.predictions(h.reshape(batch, channels, height * width).transpose(0, 2, 1)).data
    _, tape = route_forward_reference(u_hat, layer.iterations, MODES[layer.mode], layer.eps)
    return tape.c[-1].reshape(batch, layer.num_capsules, height, width)


def two_digit_pairs(x: np.ndarray, y: np.ndarray, permutations: int = 3,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Su's two-digit test set (spec §6): each image stacked above a permuted partner.

    For each of ``permutations`` seeded permutations π, image i (H, W) on top of image π(i) gives a
    (2H, W) image; pairs with the same label are dropped. Returns images (M, 2H, W) and their sorted
    label pairs (M, 2).
    """
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"x and y must hold the same number (>= 2) of images, got {len(x)} and {len(y)}")
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    images, labels = [], []
    for _ in range(positive_int("permutations", permutations)):
        partner = rng.permutation(len(x))
        keep = y != y[partner]
        images.append(np.concatenate([x[keep], x[partner[keep]]], axis=1))
        labels.append(np.sort(np.stack([y[keep], y[partner[keep]]], axis=1), axis=1))
    return np.concatenate(images), np.concatenate(labels)


def two_digit_metrics(scores: np.ndarray, pairs: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Su's two metrics on scores (M, K) and sorted label pairs (M, 2).

    ``top2``: the classes of the two highest scores are the pair; ``top2_confident``: also the second
    highest score exceeds ``threshold``.
    """
    shape("scores", scores, (None, None))
    shape("pairs", pairs, (len(scores), 2))
    threshold = real("threshold", threshold)
    order = np.argsort(scores, axis=1)
    top2 = np.sort(order[:, -2:], axis=1)
    hit = np.all(top2 == pairs, axis=1)
    second = np.take_along_axis(scores, order[:, -2:-1], axis=1)[:, 0]
    return {"top2": float(hit.mean()), "top2_confident": float((hit & (second > threshold)).mean())}
