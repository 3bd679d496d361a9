"""The capsule routing and Su's two small models written directly in torch: the peer of
``scripts/bench_capsule.py`` and the independent reference of the routing's torch cross-check.

Nothing here calls scratch; torch is imported inside each function, so the module imports without it.
Routing follows ``scratch.kernels.routing`` (spec capsule.md §2–3): c = softmax of the logits over the
outputs, s = Σ_n c û, the next logits are the agreements û·o (added to the old ones for Sabour),
with o = normalise(s) for "su2" and squash(s) otherwise; the last iteration returns squash(s).
"""
from __future__ import annotations


def torch_route(u_hat, iterations: int, mode: str, eps: float):
    """u_hat: torch (B, K, N, D) → v (B, K, D), autograd through every iteration;
    ``mode`` "sabour" | "su1" | "su2"."""
    import torch

    def squash(s):
        n = (s * s).sum(-1, keepdim=True) + 1e-7
        return s * n.sqrt() / (eps + n)

    b = torch.zeros(u_hat.shape[:3], dtype=u_hat.dtype)
    for t in range(iterations):
        c = torch.softmax(b, dim=1)
        s = torch.einsum("bkn,bknd->bkd", c, u_hat)
        if t == iterations - 1:
            return squash(s)
        o = torch.nn.functional.normalize(s, dim=-1, eps=1e-6) if mode == "su2" else squash(s)
        a = torch.einsum("bknd,bkd->bkn", u_hat, o)
        b = b + a if mode == "sabour" else a


def torch_model(name: str, widths: tuple[int, int, int, int], iterations: int, mode: str):
    """Su's capsule net (``name`` "capsule", squash ε 0.5) or the CNN baseline ("cnn") as a torch
    module with the shapes of ``scratch.models.capsule.networks``: images (B, 1, H, W) → scores (B, 10)."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            channels = (1,) + tuple(widths)
            self.convs = nn.ModuleList(nn.Conv2d(a, b, 3) for a, b in zip(channels, channels[1:]))
            if name == "capsule":
                self.weight = nn.Parameter(torch.empty(10, 16, widths[-1]).uniform_(-0.1, 0.1))
            else:
                self.hidden, self.out = nn.Linear(widths[-1], 128), nn.Linear(128, 10)

        def forward(self, x):
            h = torch.relu(self.convs[1](torch.relu(self.convs[0](x))))
            h = torch.nn.functional.avg_pool2d(h, 2)
            h = torch.relu(self.convs[3](torch.relu(self.convs[2](h))))
            if name == "cnn":
                return torch.sigmoid(self.out(torch.relu(self.hidden(h.mean(dim=(2, 3))))))
            u = h.flatten(2).transpose(1, 2)
            u_hat = torch.einsum("bnc,kdc->bknd", u, self.weight)
            return torch_route(u_hat, iterations, mode, 0.5).norm(dim=-1)

    return Net()


def torch_margin_loss(lengths, targets):
    """Su's margin loss (m⁺ 0.9, m⁻ 0.1, λ 0.25, mean) of lengths and 0/1 targets, both torch (B, K)."""
    import torch

    return (targets * torch.relu(0.9 - lengths) ** 2 + 0.25 * (1 - targets) * torch.relu(lengths - 0.1) ** 2).mean()
