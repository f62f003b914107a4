"""What a grid run answers: each network's outcome, and how often each outcome occurs per lr.

A network's outcome is the ``status`` of :func:`ghostmech.training.detect` on its loss and
gradient-norm curves (windows of :func:`ghostmech.runs.analysis.default_detect_kw`, the
ones ``ghostmech analyze`` uses):

* ``learned``: final loss below ½ L₀ and not trapped;
* ``trapped``: from some epoch to the end the gradient norm is below 1e-9 while the loss
  stays above ½ L₀, the no-learning zone of docs/theory.md (Eq. 23 gives the critical
  learning rate above which gradient descent lands there);
* ``plateau``: neither yet; ``diverged``: the loss became non-finite.

The fraction of the ``n`` networks at one learning rate (every seed and every other grid
axis) with an outcome, ``k / n``, carries the 95 % Wilson score interval (:func:`ghostmech.stats.wilson`)

    (k + z²/2) / (n + z²)  ±  z / (n + z²) · √(k (n − k) / n + z²/4),   z = 1.96,

the set of proportions p that the two-sided score test of ``k ~ Binomial(n, p)`` does not
reject at 5 % (Wilson 1927). Unlike p̂ ± z √(p̂(1 − p̂)/n) it stays inside [0, 1] and is not
empty at k = 0 or k = n, which is where lr sweeps sit most of the time.

>>> lo, hi = wilson_interval(0, 10)
>>> round(float(lo), 4), round(float(hi), 4)
(0.0, 0.2775)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ghostmech.stats import wilson as wilson_interval
from ghostmech.training.detect import detect

__all__ = ["OUTCOMES", "GridOutcomes", "grid_outcomes", "wilson_interval"]

OUTCOMES: tuple[str, ...] = ("learned", "trapped", "plateau", "diverged")


@dataclasses.dataclass(frozen=True)
class GridOutcomes:
    """Outcomes of the networks of one part of a run, as ``[lr, network]`` arrays.

    ``labels[j]`` names column j (``"seed=3"``, or ``"seed=3, beta=0.1"`` with more axes).
    """

    lrs: np.ndarray  # [L]
    labels: list[str]  # [S]
    final: np.ndarray  # [L, S] loss at the last epoch
    status: np.ndarray  # [L, S] one of OUTCOMES

    @property
    def n(self) -> int:
        """Networks per learning rate."""
        return self.status.shape[1]

    def count(self, outcome: str) -> np.ndarray:
        if outcome not in OUTCOMES:
            raise ValueError(f"`outcome` (={outcome!r}) must be one of {OUTCOMES}")
        return (self.status == outcome).sum(axis=1)

    def fraction(self, outcome: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(k/n, lo, hi)`` per lr, with the 95 % Wilson interval."""
        k = self.count(outcome)
        lo, hi = wilson_interval(k, self.n)
        return k / self.n, lo, hi


def _label(names: list[str], values: tuple) -> str:
    return ", ".join(f"{d}={v:g}" if isinstance(v, float) else f"{d}={v}" for d, v in zip(names, values, strict=True))  # fmt: skip


def grid_outcomes(metrics, detect_kw: dict | None = None) -> GridOutcomes:
    """Outcomes of every network of ``metrics`` (an ``xarray.Dataset`` with ``loss`` and
    ``grad_norm`` over ``lr``, ``seed``, other grid axes and ``epoch``; no ``rank`` dim)."""
    from ghostmech.runs.analysis import default_detect_kw

    if "rank" in metrics.dims:
        raise ValueError("`metrics` must be one part of a run: select a rank first")
    others = [d for d in metrics.loss.dims if d not in ("lr", "epoch")]
    loss = metrics.loss.transpose("lr", *others, "epoch")
    grad = metrics.grad_norm.transpose("lr", *others, "epoch")
    n_epochs = metrics.sizes["epoch"]
    kw = detect_kw or default_detect_kw(n_epochs)
    combos = list(np.ndindex(*[metrics.sizes[d] for d in others]))
    labels = [_label(others, tuple(metrics[d].values[i].item() for d, i in zip(others, c, strict=True))) for c in combos]  # fmt: skip
    n_lr = metrics.sizes["lr"]
    final = np.empty((n_lr, len(combos)))
    status = np.empty((n_lr, len(combos)), dtype=object)
    for i in range(n_lr):  # one lr at a time: a full-size run does not fit in memory at once
        li = np.asarray(loss.isel(lr=i).values, float).reshape(len(combos), n_epochs)
        gi = np.asarray(grad.isel(lr=i).values, float).reshape(len(combos), n_epochs)
        for j in range(len(combos)):
            final[i, j] = li[j, -1]
            status[i, j] = detect(li[j], gi[j], **kw).status
    return GridOutcomes(np.asarray(metrics.lr.values, float), labels, final, status.astype(str))
