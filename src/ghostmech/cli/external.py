"""``ghostmech import FILE``: the fixed points, slow points and ghosts of a network trained
elsewhere (:mod:`ghostmech.networks.external`).

The file's kind (numpy ``.npz`` or ``torch.save``) is read from its content; every
array of the file that is not used and every expected array that is missing is
printed as a ``warning:`` line, so nothing is dropped silently.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from ghostmech.cli._app import app, console, print_warning

__all__ = ["import_network"]


def _names(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        field, sep, key = item.partition("=")
        if not sep or not field.strip() or not key.strip():
            raise ValueError(f"--key (={item!r}) must look like FIELD=KEY, e.g. w_out=head.weight")
        out[field.strip()] = key.strip()
    return out


@app.command(
    "import",
    epilog="Examples: ghostmech import weights.npz --alpha 0.1 --out points  |  "
    "ghostmech import model.pt --key w_out=head.weight",
)
def import_network(
    file: Path = typer.Argument(
        ..., help=".npz (W, b, W_in, w_out, alpha) or a torch.save state dict (nn.RNN or custom)."
    ),
    fmt: str = typer.Option(
        "auto", "--format",
        help="auto (from the file's content) | npz | torch-rnn (nn.RNN keys, any prefix) | "
        "torch-state-dict (nn.RNN or named arrays).",
    ),
    alpha: float | None = typer.Option(None, "--alpha", help="α = Δt/τ if the file has none."),
    key: list[str] = typer.Option(
        [], "--key", help="FIELD=KEY: read a field (w, w_in, b, w_out, b_out, r0, m, nT) from "
        "that array; repeatable.",
    ),
    out: Path | None = typer.Option(None, "--out", help="Folder for points.json and figures."),
    n_starts: int = typer.Option(32, "--n-starts", help="Finder starts (from trajectories)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random starts."),
    save: Path | None = typer.Option(None, "--save", help="Also save as a ghostmech .npz."),
) -> None:  # fmt: skip
    """Find and classify the fixed points, slow points and ghosts of an external network."""
    from ghostmech import _checks
    from ghostmech.cli._outputs import output_dir, output_file
    from ghostmech.networks.external import FORMATS, read_network

    _checks.check_one_of("--format", fmt, FORMATS)
    n_starts = _checks.check_positive_int("--n-starts", n_starts)
    seed = _checks.check_nonnegative_int("--seed", seed)
    if alpha is not None:
        _checks.check_positive("--alpha", alpha)
    names = _names(key)
    if out is not None:
        output_dir("--out", out)
    if save is not None:
        output_file("--save", save)
    got = read_network(file, fmt=fmt, alpha=alpha, names=names)
    for line in got.warnings(repr(str(file))):
        print_warning(line)
    _analyse(got, file, out=out, n_starts=n_starts, seed=seed, save=save)


TRANSIENT_E_FOLDS = 5.0  # the fast transverse part has decayed to e⁻⁵ ≈ 0.7 % of its start


def _transient(eigvals, n_steps: int = 200) -> int:
    """Steps a free run from a random start needs before it lies on the slow manifold.

    Without a task there is no input-free stretch to judge, and the first steps of a run
    from a random start are the fast transverse relaxation, whose speed would inflate the
    contrast C (docs/theory.md §4). The transverse part decays as e^{λ₂ t}, λ₂ the
    slowest of the other Jacobian eigenvalues at the minimum (real part < 0), so the first
    ``TRANSIENT_E_FOLDS / |Re λ₂|`` steps are left out (at most half the run).
    """
    re = np.sort(np.abs(np.real(np.asarray(eigvals))))  # the near-zero one is first
    lam2 = re[1] if re.size > 1 else 1.0
    return int(min(np.ceil(TRANSIENT_E_FOLDS / max(lam2, 1e-12)), n_steps // 2))


def _analyse(got, file: Path, *, out: Path | None, n_starts: int, seed: int,
             save: Path | None) -> None:  # fmt: skip
    import jax

    from ghostmech.dynamics import (
        as_map,
        bottleneck,
        find_points,
        from_network,
        sample_starts,
        step_trajectories,
    )
    from ghostmech.networks import to_npz
    from ghostmech.plotting.dynamics import plot_pca
    from ghostmech.plotting.style import save_figure

    net = got.net
    f = from_network(net)
    k1, k2 = jax.random.split(jax.random.key(seed))
    with jax.enable_x64(True):
        x0 = 0.5 * jax.random.normal(k1, (max(n_starts // 8, 1), net.n))
        starts = np.asarray(sample_starts(f, x0, n_steps=80, every=10, noise=0.02, key=k2))
    pts = find_points(f, starts)
    system = "map" if float(net.alpha) == 1.0 else "flow"
    if system == "map":  # α = 1: r_{t+1} = tanh(W r + b), multipliers μ = 1 + λ
        pts = as_map(pts)
    with jax.enable_x64(True):
        trajs = step_trajectories(f, x0, 200)
    passages = {int(i): bottleneck(f, trajs, pts.xstar[i], dt=float(net.alpha),
                                   starts=np.full(len(trajs), _transient(pts.eigval_J_xstar[i])))
                for i in pts.where("ghost")}  # fmt: skip
    spec = "max |μ|" if system == "map" else "max Re λ"
    t = Table("kind", "|x|", "q", spec, "ghost ε", "π/√ε", "passage", "steps in B / run")
    for i in np.flatnonzero(pts.status == "converged"):
        s = (
            np.abs(pts.multipliers[i]).max()
            if system == "map"
            else pts.eigval_J_xstar[i].real.max()
        )
        bn = passages.get(int(i))
        t.add_row(str(pts.kind[i]), f"{np.linalg.norm(pts.xstar[i]):.3g}", f"{pts.qstar[i]:.2e}",
                  f"{s:.3g}", f"{pts.eps[i]:.3g}", f"{pts.dwell[i]:.3g}",
                  "" if bn is None else bn.kind,
                  "" if bn is None else f"{bn.measured_in_bottleneck:.0f} / {bn.measured_delay:.0f}")  # fmt: skip
    kind_text = ("discrete-time map (kinds from multipliers μ)" if system == "map"
                 else "Euler flow (kinds from eigenvalues λ)")  # fmt: skip
    console.print(escape(f"{file}: n = {net.n}, α = {net.alpha}, rank {net.rank or 'full'}, "
                         f"{kind_text}"), highlight=False)  # fmt: skip
    console.print(t)
    console.print("passage: a ghost candidate is a ghost only when the network's own runs pass "
                  "it as a bottleneck (docs/theory.md §4); shallow = a ramp, off_path = not visited",
                  markup=False, highlight=False)  # fmt: skip
    if out is not None:
        doc = {**pts.to_dict(), "passages": {str(i): b.to_dict() for i, b in passages.items()}}
        (out / "points.json").write_text(json.dumps(doc, default=str, indent=1))
        save_figure(plot_pca(pts), out / "points_pca", formats=("png",), dpi=100)
        console.print(f"wrote {escape(str(out))}", highlight=False)
    if save is not None:
        to_npz(net, save)
        console.print(f"saved {escape(str(save))}", highlight=False)
