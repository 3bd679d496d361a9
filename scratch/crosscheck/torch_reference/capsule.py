"""Capsule routing, the capsule layers and Su's two small models in torch: the cases ``capsule/*`` and the
peer of ``scripts/bench_capsule.py``.

Routing (spec capsule.md §2–3): c = softmax of the logits over the outputs, s = Σ_n c û, the next logits
are the agreements û·o (added to the old ones for "sabour"), with o = normalise(s) for "su2" and squash(s)
otherwise; the last iteration returns squash(s). The modules use the parameter names of
``scratch.models.capsule`` (``features.conv1.weight`` …, ``capsules.weight``), so a state dict moves
between the two as it is.
"""
import torch
from torch import nn
from torch.nn import functional as F


def squash(s, eps):
    """s·√n/(ε + n), n = ‖s‖² + 1e-7, along the last axis."""
    n = (s * s).sum(-1, keepdim=True) + 1e-7
    return s * n.sqrt() / (eps + n)


def torch_route(u_hat, iterations: int, mode: str, eps: float):
    """u_hat (B, K, N, D) → v (B, K, D), autograd through every iteration; ``mode`` "sabour" | "su1" | "su2"."""
    b = torch.zeros(u_hat.shape[:3], dtype=u_hat.dtype)
    for t in range(iterations):
        c = torch.softmax(b, dim=1)
        s = torch.einsum("bkn,bknd->bkd", c, u_hat)
        if t == iterations - 1:
            return squash(s, eps)
        o = F.normalize(s, dim=-1, eps=1e-6) if mode == "su2" else squash(s, eps)
        a = torch.einsum("bknd,bkd->bkn", u_hat, o)
        b = b + a if mode == "sabour" else a


def margin_loss(lengths, targets, m_pos=0.9, m_neg=0.1, lam=0.25):
    """Mean of T·relu(m⁺ − p)² + λ(1 − T)·relu(p − m⁻)² for lengths (B, K) and class ids or a 0/1 matrix."""
    t = F.one_hot(targets, lengths.shape[1]).to(lengths.dtype) if targets.dim() == 1 else targets
    return (t * torch.relu(m_pos - lengths) ** 2 + lam * (1 - t) * torch.relu(lengths - m_neg) ** 2).mean()


def capsule_layer(u, weight, iterations, mode, eps):
    """û (B, K, N, D) from u (B, N, d) by a shared (K, D, d) or full (N, K, D, d) weight, then routing."""
    equation = "bnc,kdc->bknd" if weight.dim() == 3 else "bnc,nkdc->bknd"
    return torch_route(torch.einsum(equation, u, weight), iterations, mode, eps)


def primary_caps(x, capsule_dim, eps, stride, **conv):
    """Conv (C·d channels), channel c·d + e = component e of capsule type c, capsules ordered (c, row, col)."""
    y = F.conv2d(x, conv["conv.weight"], conv["conv.bias"], stride)
    batch, channels, h, w = y.shape
    y = y.reshape(batch, channels // capsule_dim, capsule_dim, h, w).permute(0, 1, 3, 4, 2)
    return squash(y.reshape(batch, -1, capsule_dim), eps)


class _Features(nn.Module):
    def __init__(self, widths):
        super().__init__()
        channels = (1,) + tuple(widths)
        for i, (a, b) in enumerate(zip(channels, channels[1:]), start=1):
            setattr(self, f"conv{i}", nn.Conv2d(a, b, 3))

    def forward(self, x):
        h = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        h = F.avg_pool2d(h, 2)
        return torch.relu(self.conv4(torch.relu(self.conv3(h))))


class _Capsules(nn.Module):
    def __init__(self, num_classes, capsule_dim, in_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, capsule_dim, in_dim).uniform_(-0.1, 0.1))


def torch_model(name: str, widths: tuple[int, int, int, int], iterations: int, mode: str, num_classes: int = 10,
                capsule_dim: int = 16, eps: float = 0.5):
    """Su's capsule net (``name`` "capsule") or the CNN baseline ("cnn") as a torch module with the shapes and
    parameter names of ``scratch.models.capsule.networks``: images (B, 1, H, W) → scores (B, K)."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = _Features(widths)
            if name == "capsule":
                self.capsules = _Capsules(num_classes, capsule_dim, widths[-1])
            else:
                self.hidden, self.out = nn.Linear(widths[-1], 128), nn.Linear(128, num_classes)

        def forward(self, x):
            h = self.features(x)
            if name == "cnn":
                return torch.sigmoid(self.out(torch.relu(self.hidden(h.mean(dim=(2, 3))))))
            u = h.flatten(2).transpose(1, 2)
            return capsule_layer(u, self.capsules.weight, iterations, mode, eps).norm(dim=-1)

    return Net()


def su_capsule_net(images, targets, **state):
    """The case ``capsule/su_capsule_net``: the torch module run on the case's parameters."""
    widths = tuple(state[f"features.conv{i}.weight"].shape[0] for i in range(1, 5))
    classes, dim, _ = state["capsules.weight"].shape
    net = torch_model("capsule", widths, 3, "su2", classes, dim).double()
    scores = torch.func.functional_call(net, state, (images,))
    return {"scores": scores, "loss": margin_loss(scores, targets)}


FUNCTIONS = {
    **{f"capsule/route_{mode}": torch_route for mode in ("sabour", "su1", "su2")},
    "capsule/squash": squash,
    "capsule/margin_loss": margin_loss,
    "capsule/capsule_layer": lambda u, weight: capsule_layer(u, weight, 3, "su2", 0.5),
    "capsule/capsule_layer_full": lambda u, weight: capsule_layer(u, weight, 3, "sabour", 1.0),
    "capsule/primary_caps": lambda x, **conv: primary_caps(x, 3, 1.0, 2, **conv),
    "capsule/su_capsule_net": su_capsule_net,
}
