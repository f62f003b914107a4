"""PyTorch peers for the benchmarks, written the way a user of the paper's scripts would.

* `reference_rank1_da`: one rank-one network at a time, an ``nn.Module`` whose
  forward loops over time in Python (W = m nᵀ, Eq. 47), ``loss.backward()``,
  ``optimizer.step()`` (SGD): the paper's workflow.
* `batched_rank1_da`: the same networks stacked in one graph (tensors
  ``[nets, N]``), one ``autograd.grad`` per epoch, per-network lr.
* `eager_dcd`: full-rank DCD, trials batched, Python loop over time, SGD or Adam;
  with ``sigma > 0`` it draws the recurrent noise ξ_t ~ N(0, σ²) of Eq. 47
  (``torch.randn(batch, N)`` every step, inside the tanh): every trial differs.
* `batched_dcd`: the same for a grid of networks in one graph (``[nets, batch, N]``,
  ``torch.baddbmm`` per step), one lr / σ for all.

Import `bench.common` first (threads pinned).
"""

from __future__ import annotations

import numpy as np

from bench.common import pin_torch

torch = pin_torch()


class Rank1RNN(torch.nn.Module):
    """r_{t+1} = (1−α) r_t + α tanh(m nᵀ r_t + b);  z_t = σ(β(nᵀ r_{t+1} − θ))."""

    def __init__(self, m, n, b, *, r0, alpha, beta, theta):
        super().__init__()
        self.m = torch.nn.Parameter(torch.as_tensor(m, dtype=torch.float32)[:, None].clone())
        self.n = torch.nn.Parameter(torch.as_tensor(n, dtype=torch.float32)[:, None].clone())
        self.b = torch.nn.Parameter(torch.as_tensor(b, dtype=torch.float32).clone())
        self.r0 = torch.full((self.b.shape[0],), float(r0))
        self.alpha, self.beta, self.theta = alpha, beta, theta

    def forward(self, n_steps: int):
        w = self.m @ self.n.T
        r, zs = self.r0, []
        for _ in range(n_steps):
            r = (1 - self.alpha) * r + self.alpha * torch.tanh(w @ r + self.b)
            kappa = (self.n.T @ r)[0]
            zs.append(torch.sigmoid(self.beta * (kappa - self.theta)))
        return torch.stack(zs)


def _da_target(delay, response):
    return torch.cat([torch.zeros(delay), torch.ones(response)])


def reference_rank1_da(
    m0, n0, b0, lrs, *, epochs, r0=-0.3, alpha=0.5, beta=10.0, theta=1.0, delay=20, response=20
):
    """Train each network in turn (reference loop); return final losses ``[nets]``."""
    y = _da_target(delay, response)
    out = []
    for m, n, b, lr in zip(m0, n0, b0, lrs, strict=True):
        model = Rank1RNN(m, n, b, r0=r0, alpha=alpha, beta=beta, theta=theta)
        opt = torch.optim.SGD(model.parameters(), lr=float(lr))
        for _ in range(epochs):
            opt.zero_grad()
            z = model(delay + response)
            loss = ((z - y) ** 2).sum() / delay
            loss.backward()
            opt.step()
        out.append(loss.item())
    return np.array(out)


def batched_rank1_da(
    m0, n0, b0, lrs, *, epochs, r0=-0.3, alpha=0.5, beta=10.0, theta=1.0, delay=20, response=20
):
    """All networks in one graph (``[nets, N]``); return final losses ``[nets]``."""
    f32 = torch.float32
    m, n, b = (torch.tensor(np.asarray(a), dtype=f32, requires_grad=True) for a in (m0, n0, b0))
    lr = torch.tensor(np.asarray(lrs), dtype=f32)[:, None]
    y = _da_target(delay, response)
    r_init = torch.full(m.shape, float(r0))
    for _ in range(epochs):
        r, loss = r_init, torch.zeros(m.shape[0])
        for t in range(delay + response):
            kappa = (n * r).sum(1, keepdim=True)
            r = (1 - alpha) * r + alpha * torch.tanh(m * kappa + b)
            z = torch.sigmoid(beta * ((n * r).sum(1) - theta))
            loss = loss + (z - y[t]) ** 2
        loss = loss / delay
        grads = torch.autograd.grad(loss.sum(), (m, n, b))
        with torch.no_grad():
            for p, g in zip((m, n, b), grads, strict=True):
                p -= lr * g
    return loss.detach().numpy()


def _optimizer(params, lr, optimizer):
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(f"`optimizer` (={optimizer!r}) must be 'sgd' or 'adam'")


def eager_dcd(
    params: dict, inputs, targets, *, lr, epochs, alpha=0.5, sigma=0.0, optimizer="sgd", seed=0
):
    """Full-rank DCD, read before the update, tanh readout, MSE, SGD / Adam; return final loss.

    ``params``: numpy ``w [N,N]``, ``w_in [N,1]``, ``b [N]``, ``r0 [N]`` (frozen),
    ``w_out [1,N]``, ``b_out [1]``; ``inputs``, ``targets``: ``[time, batch, 1]``.
    ``sigma > 0``: r ← (1−α) r + α tanh(W r + W_in u + b + ξ), ξ = σ·randn(batch, N)
    drawn every step (torch's default CPU generator, seeded with ``seed``).
    """
    f32 = torch.float32
    train = ("w", "w_in", "b", "w_out", "b_out")
    p = {
        k: torch.tensor(np.asarray(v), dtype=f32, requires_grad=k in train)
        for k, v in params.items()
    }
    u = torch.tensor(np.asarray(inputs), dtype=f32)
    y = torch.tensor(np.asarray(targets), dtype=f32)
    opt = _optimizer([p[k] for k in train], lr, optimizer)
    gen = torch.Generator().manual_seed(seed)
    shape = (u.shape[1], p["w"].shape[0])
    for _ in range(epochs):
        opt.zero_grad()
        r = p["r0"].expand(u.shape[1], -1)
        zs = []
        for t in range(u.shape[0]):
            zs.append(torch.tanh(r @ p["w_out"].T + p["b_out"]))
            pre = r @ p["w"].T + u[t] @ p["w_in"].T + p["b"]
            if sigma:
                pre = pre + sigma * torch.randn(shape, generator=gen)
            r = (1 - alpha) * r + alpha * torch.tanh(pre)
        loss = ((torch.stack(zs) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return loss.item()


def batched_dcd(
    params: dict, inputs, targets, *, lr, epochs, alpha=0.5, sigma=0.0, optimizer="sgd", seed=0
):
    """`eager_dcd` for G networks at once: every array of ``params`` has a leading ``[G]``
    axis; the loss summed over networks (each network's gradient is its own). Returns the
    final losses ``[G]``."""
    f32 = torch.float32
    train = ("w", "w_in", "b", "w_out", "b_out")
    p = {
        k: torch.tensor(np.asarray(v), dtype=f32, requires_grad=k in train)
        for k, v in params.items()
    }
    u = torch.tensor(np.asarray(inputs), dtype=f32)  # [time, batch, 1]
    y = torch.tensor(np.asarray(targets), dtype=f32)
    opt = _optimizer([p[k] for k in train], lr, optimizer)
    gen = torch.Generator().manual_seed(seed)
    G, B, n = p["w"].shape[0], u.shape[1], p["w"].shape[1]
    for _ in range(epochs):
        opt.zero_grad()
        wT, w_outT = p["w"].transpose(1, 2), p["w_out"].transpose(1, 2)  # [G, n, n], [G, n, 1]
        drive_in = torch.einsum("tbi,gni->tgbn", u, p["w_in"]) + p["b"][None, :, None, :]
        r = p["r0"][:, None, :].expand(G, B, n)
        zs = []
        for t in range(u.shape[0]):
            zs.append(torch.tanh(torch.baddbmm(p["b_out"][:, None, :], r, w_outT)))
            pre = torch.baddbmm(drive_in[t], r, wT)
            if sigma:
                pre = pre + sigma * torch.randn((G, B, n), generator=gen)
            r = (1 - alpha) * r + alpha * torch.tanh(pre)
        per_net = ((torch.stack(zs) - y[:, None]) ** 2).mean(dim=(0, 2, 3))
        per_net.sum().backward()
        opt.step()
    return per_net.detach().numpy()
