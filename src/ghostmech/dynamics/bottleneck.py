"""Is a speed minimum a ghost of the task? Measured passages through it (docs/theory.md §4).

A structural ghost candidate x_g (slow point, transversally stable, ε = a·b > 0,
Eqs. 1–11 of arXiv 2501.02378) is a **ghost** of a task only when the task's trajectories pass
through it as a bottleneck that dominates their passage to the readout
threshold. Near x_g the flow is ṡ ≈ a + b s² (s: coordinate along the slow
direction v, oriented along the travel), window w = √(a/b), u = s/w, and the
time from u₁ to u₂ is (Eq. 4.1 of docs/theory.md)::

    t(u₁ → u₂) = [arctan u₂ − arctan u₁] / √ε,      passage_full = π/√ε.

Along each trajectory x_t (one Euler step / map iteration per time unit) from
``start`` to its threshold crossing ``exit``:

* bottleneck region B = {‖f(x_t)‖ ≤ 2 ‖f(x_g)‖} (|u| ≤ 1 in the quadratic model);
* ``contrast`` C = max ‖f‖ on the span / ‖f(x_g)‖, ``share`` S = steps in B / steps;
* kind ``ghost`` when the trajectory reaches |u| ≤ 1 with a step in B, C ≥ ``CONTRAST_MIN`` = 2 and
  S ≥ ``SHARE_MIN`` = 1/2 (the share the canonical full passage spends in B),
  ``shallow`` when it reaches |u| ≤ 1 but fails either (a ramp makes the delay),
  ``off_path`` otherwise. Both thresholds are derived in docs/theory.md §4.

>>> import numpy as np
>>> f = lambda x: 1e-4 + x**2                      # ż = ε + z², ε = 1e-4, unit steps
>>> xs = [np.array([-0.1])]
>>> while xs[-1][0] < 0.1:
...     xs.append(xs[-1] + f(xs[-1]))
>>> b = bottleneck(f, np.stack(xs)[None], np.zeros(1))
>>> b.kind, b.measured_delay, round(b.predicted_delay), round(b.passage_full)
('ghost', 295.0, 295, 314)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech._checks import check_positive
from ghostmech.dynamics.ghost import ghost_epsilon

__all__ = [
    "PASSAGE_KINDS",
    "CONTRAST_MIN",
    "SHARE_MIN",
    "REGION_FACTOR",
    "Bottleneck",
    "bottleneck",
    "passage_kind",
    "step_trajectories",
]

PASSAGE_KINDS = ("ghost", "shallow", "off_path")
REGION_FACTOR = 2.0  # B: speed ≤ 2 × the minimum speed (|z| ≤ √ε in ż = ε + z²; theory §4)
CONTRAST_MIN = 2.0  # the span must reach beyond B (theory §4, criterion 2)
SHARE_MIN = 0.5  # the canonical full passage spends exactly 1/2 of π/√ε in B (theory §4)


@dataclass(frozen=True)
class Bottleneck:
    """Measured and predicted passage through one speed minimum (times in steps of the
    field's time unit; ``*_tau`` = steps · ``dt``, i.e. in τ when dt = α).

    The numbers are those of ``trial`` (the trial with the largest share among the
    trials that reach the window, else the trial that comes closest); ``kinds`` [trials]
    is each trial's kind and ``kind`` the minimum's: ``ghost`` when any trial passes it
    as a bottleneck. ``status``: "ok" | "no_exit" (that trial never crossed the
    threshold: the span runs to the end of the trial)."""

    kind: str
    eps: float
    v_min: float
    curvature: float
    window: float
    passage_full: float
    measured_delay: float
    predicted_delay: float
    measured_in_bottleneck: float
    predicted_in_bottleneck: float
    measured_to_threshold: float
    predicted_to_threshold: float
    share: float
    contrast: float
    u_start: float
    u_exit: float
    trial: int
    kinds: tuple[str, ...]
    dt: float
    status: str

    def to_dict(self) -> dict:
        """Plain floats; every time also in τ (``<name>_tau``)."""
        d = asdict(self)
        d["kinds"] = list(self.kinds)
        for k in _TIMES:
            d[f"{k}_tau"] = d[k] * self.dt
        return d


_TIMES = (
    "passage_full",
    "measured_delay",
    "predicted_delay",
    "measured_in_bottleneck",
    "predicted_in_bottleneck",
    "measured_to_threshold",
    "predicted_to_threshold",
)


def step_trajectories(f: Callable, x0, steps: int):
    """The network's own iteration x ← x + f(x) (f per step: the Euler step of a rate
    network, or G − I of a map) from ``x0`` [trials, n]: ``[trials, steps + 1, n]``."""
    with jax.enable_x64(True):
        x0 = jnp.atleast_2d(jnp.asarray(x0, jnp.float64))
        xs = _iterate(f, x0, int(steps))
    return np.asarray(xs)


@eqx.filter_jit
def _iterate(f, x0, steps: int):
    def body(x, _):
        x = x + jax.vmap(f)(x)
        return x, x

    _, xs = jax.lax.scan(body, x0, None, length=steps)
    return jnp.concatenate([x0[None], xs]).transpose(1, 0, 2)


def passage_kind(reached: bool, contrast: float, share: float) -> str:
    """Kind of one passage (theory §4): ghost | shallow | off_path."""
    if not reached:
        return "off_path"
    ok = contrast >= CONTRAST_MIN and share >= SHARE_MIN
    return "ghost" if ok else "shallow"


@eqx.filter_jit
def _speeds(f, xs):
    return jnp.linalg.norm(jax.vmap(f)(xs.reshape(-1, xs.shape[-1])), axis=-1).reshape(
        xs.shape[:-1]
    )


def _t(u1, u2, root_eps):
    return float((np.arctan(u2) - np.arctan(u1)) / root_eps)


def _one(speed, u, start, exit_, v_min, root_eps) -> dict:
    """Numbers of one trial over steps start … exit (the exit state included in the span)."""
    sp, uu = speed[start : exit_ + 1], u[start : exit_ + 1]
    steps = len(sp) - 1  # time from the start state to the exit state
    in_b = sp[:-1] <= REGION_FACTOR * v_min
    reached = bool(np.any(np.abs(uu) <= 1.0) and np.any(in_b))  # near x_g, and slow there
    contrast = float(np.max(sp) / v_min)
    share = float(np.mean(in_b)) if steps else 0.0
    entry = int(np.argmax(in_b)) if in_b.any() else steps
    u_a, u_e = float(uu[0]), float(uu[-1])
    lo, hi = max(u_a, -1.0), min(u_e, 1.0)
    return {
        "kind": passage_kind(reached, contrast, share),
        "measured_delay": float(steps),
        "predicted_delay": _t(u_a, u_e, root_eps),
        "measured_in_bottleneck": float(in_b.sum()),
        "predicted_in_bottleneck": _t(lo, hi, root_eps) if hi > lo else 0.0,
        "measured_to_threshold": float(steps - entry),
        "predicted_to_threshold": _t(float(uu[entry]), u_e, root_eps),
        "share": share,
        "contrast": contrast,
        "u_start": u_a,
        "u_exit": u_e,
        "closest": float(np.min(np.abs(uu))),
    }


def bottleneck(
    f: Callable,
    trajectories,
    x_g,
    *,
    starts=None,
    exits=None,
    dt: float = 1.0,
) -> Bottleneck:
    """Passage of the trajectories ``[trials, time, n]`` (one time unit of ``f`` per step)
    through the speed minimum ``x_g`` of ẋ = f(x) (see the module docstring).

    ``starts`` / ``exits`` [trials]: first step of the input-free stretch and the
    threshold-crossing step (−1: none, the trial's last step is used; status
    ``no_exit``). ``dt``: length of one step in τ (α for a rate network).
    """
    dt = check_positive("dt", dt)
    xs = np.asarray(trajectories, dtype=float)
    if xs.ndim == 2:
        xs = xs[..., None]
    if xs.ndim != 3 or xs.shape[1] < 2:
        raise ValueError(f"`trajectories` (shape {xs.shape}) must be [trials, time ≥ 2, n]")
    n_tr, n_t = xs.shape[:2]
    starts = np.zeros(n_tr, int) if starts is None else np.asarray(starts, int).reshape(n_tr)
    exits = np.full(n_tr, -1) if exits is None else np.asarray(exits, int).reshape(n_tr)
    with jax.enable_x64(True):
        xg = jnp.asarray(x_g, jnp.float64).reshape(xs.shape[-1])
        g = eqx.filter_jit(ghost_epsilon)(f, xg)
        eps, a, b = float(g.eps), float(g.a), float(g.b)
        if not eps > 0:
            raise ValueError(f"`x_g` is not a ghost candidate: its ε (={eps!r}) must be > 0")
        uvec, vvec = np.asarray(g.u), np.asarray(g.v)
        speed = np.asarray(_speeds(f, jnp.asarray(xs)))
        v_min = float(np.linalg.norm(np.asarray(f(xg))))
    w = np.sqrt(a / b)
    s = np.sign(a) * ((xs - np.asarray(xg)) @ uvec) / float(uvec @ vvec)
    rows, status = [], []
    for i in range(n_tr):
        e = exits[i] if 0 <= exits[i] < n_t else n_t - 1
        st = int(np.clip(starts[i], 0, max(e - 1, 0)))
        rows.append(_one(speed[i], s[i] / w, st, e, v_min, np.sqrt(eps)))
        status.append("ok" if 0 <= exits[i] < n_t else "no_exit")
    kinds = tuple(r["kind"] for r in rows)
    reached = [i for i in range(n_tr) if kinds[i] != "off_path"]
    pick = (
        max(reached, key=lambda i: (kinds[i] == "ghost", rows[i]["share"]))
        if reached
        else int(np.argmin([r["closest"] for r in rows]))
    )
    r = rows[pick]
    kind = "ghost" if "ghost" in kinds else ("shallow" if reached else "off_path")
    return Bottleneck(
        kind=kind,
        eps=eps,
        v_min=v_min,
        curvature=abs(b),
        window=float(w),
        passage_full=float(np.pi / np.sqrt(eps)),
        **{k: r[k] for k in r if k not in ("kind", "closest")},
        trial=int(pick),
        kinds=kinds,
        dt=dt,
        status=status[pick],
    )
