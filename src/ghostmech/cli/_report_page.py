"""The parts of ``ghostmech report`` that read a run's metrics: what was run, the outcome
against the learning rate, the final-loss heatmap and the learning curves.

The page leads with the sweep's answer: the fraction of networks learned and trapped at
each learning rate (95 % Wilson intervals, `ghostmech.runs.outcomes`), the critical learning
rate where the fraction learned falls below ½ above its peak
(`ghostmech.training.detect.critical_lr`, rule ``"falls_after_peak"`` at ½), and every network's final loss.
Figures are drawn at `REPORT_DPI` and shown at their natural size (1000 px wide, tick
labels 12.5 px); learning curves share one log y-axis per figure.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["describe", "overrides", "run_sections"]

CURVE_PANELS = 12  # learning-rate panels per curves figure (more lrs: every k-th)


def describe(config) -> str:
    """One line saying what was run, from the resolved config (so ``--set`` shows)."""
    from ghostmech.runs import resolve_grid

    grid = resolve_grid(config)
    t, n, tr = config.task, config.network, config.training
    timing = ", ".join(f"{k} {v:g}" for k, v in t.steps().items())
    lrs = grid.coords["lr"]
    lr = f"lr {lrs[0]:.3g}" if lrs.size == 1 else f"{lrs.size} lrs {lrs.min():.3g}…{lrs.max():.3g}"
    seeds = grid.coords["seed"]
    seed = f"seed {seeds[0]}" if seeds.size == 1 else f"{seeds.size} seeds"
    extra = [f"{d} ×{len(v)}" for d, v in grid.coords.items() if d not in ("lr", "seed")]
    ranks = f", ranks {', '.join(map(str, grid.ranks))}" if grid.ranks else f", rank {n.rank}"
    return (f"{t.name.upper()} task (steps: {timing}); RNN n = {n.n}{ranks}; "
            f"{tr.optimizer}, {lr}, {seed}{''.join(', ' + e for e in extra)}; "
            f"{tr.epochs} epochs")  # fmt: skip


def _diff(a, b, prefix: str = "") -> list[str]:
    """``["key = a (shipped: b)"]`` for the leaves (or whole tables, when only one side is a
    table) where ``a`` and ``b`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted({*a, *b}) for d in _diff(a.get(k), b.get(k), f"{prefix}{k}.")]
    return [] if a == b else [f"{prefix.rstrip('.')} = {a!r} (shipped: {b!r})"]


def overrides(config) -> tuple[str, list[str]]:
    """``(variant, ["key = run value (shipped: value)", ...])``: how ``config`` differs from the
    closest shipped config of the same name (the ``--set`` overrides); ``("", [])`` if none."""
    from ghostmech.runs import load_config, shipped_configs

    variants = shipped_configs().get(config.name, {})
    best: tuple[str, list[str]] = ("", [])
    mine = config.model_dump(mode="json")
    for variant, path in variants.items():
        diff = _diff(mine, load_config(path).model_dump(mode="json"))
        if not best[0] or len(diff) < len(best[1]):
            best = (variant, diff)
    return best


def description_blocks(config) -> list[str]:
    from ghostmech.runs.report import paragraph

    blocks = [paragraph(f"What ran: {describe(config)}.")]
    variant, diff = overrides(config)
    if variant and diff:
        blocks.append(paragraph(f"Differs from the shipped {config.name} ({variant}) in: "
                                + "; ".join(diff) + "."))  # fmt: skip
        if config.description:
            blocks.append(paragraph(f"Shipped description (before these changes): "
                                    f"{config.description}"))  # fmt: skip
    elif config.description:
        blocks.append(paragraph(f"Description: {config.description}"))
    return blocks


def _eta_c(outcomes) -> float:
    from ghostmech.training.detect import critical_lr

    if outcomes.lrs.size < 2:
        return math.nan
    frac = outcomes.fraction("learned")[0]
    return critical_lr(outcomes.lrs, frac, level=0.5, rule="falls_after_peak").value


def _outcome_table(outcomes, eta_c: float) -> list[str]:
    from ghostmech.runs.report import paragraph, table

    def frac(name: str, i: int) -> str:
        f, lo, hi = (a[i] for a in outcomes.fraction(name))
        return f"{outcomes.count(name)[i]}/{outcomes.n} = {f:.2f} [{lo:.2f}, {hi:.2f}]"

    rows = [(f"{lr:.4g}", frac("learned", i), frac("trapped", i), int(outcomes.count("plateau")[i]),
             int(outcomes.count("diverged")[i]), float(np.nanmedian(outcomes.final[i])))
            for i, lr in enumerate(outcomes.lrs)]  # fmt: skip
    head = ["lr", "learned (95 % Wilson)", "trapped (95 % Wilson)", "plateau", "diverged",
            "median final loss"]  # fmt: skip
    note = ("η_c (fraction learned falls below ½ above its peak): "
            + (f"{eta_c:.3g}" if np.isfinite(eta_c) else "not bracketed by this grid"))  # fmt: skip
    return [paragraph(note), table(head, rows)]


def _save(fig, tmp: Path, name: str) -> Path:
    from ghostmech.plotting.style import REPORT_DPI, save_figure

    return save_figure(fig, tmp / name, formats=("png",), dpi=REPORT_DPI)[0]


def _image(path: Path, caption: str) -> str:
    from ghostmech.plotting.style import REPORT_TICK_PX
    from ghostmech.runs.report import image

    return image(path, caption, font_px=REPORT_TICK_PX)


def run_sections(run, tmp: Path) -> list:
    """The sections before the analysis: outcome vs lr, final loss heatmap, learning curves."""
    from ghostmech.plotting.outcomes import plot_final_loss, plot_outcomes
    from ghostmech.plotting.training import plot_curve_panels
    from ghostmech.runs.outcomes import grid_outcomes
    from ghostmech.runs.report import Section

    parts = [None] if run.grid.ranks is None else list(range(len(run.grid.ranks)))
    outcome, heat, curves = [], [], []
    for p in parts:
        ds = run.metrics if p is None else run.metrics.isel(rank=p)
        label = "" if p is None else f"rank {run.grid.ranks[p]}: "
        o = grid_outcomes(ds)
        eta = _eta_c(o)
        if o.lrs.size > 1:  # one lr: the table says it all
            outcome.append(_image(_save(plot_outcomes(o, eta), tmp, f"outcome_{p}"),
                                  f"{label}fraction learned / trapped against lr, "
                                  "and each network's final loss"))  # fmt: skip
        outcome += _outcome_table(o, eta)
        if o.final.size > 1:
            heat.append(_image(_save(plot_final_loss(o), tmp, f"final_{p}"),
                               f"{label}final loss over lr × network"))  # fmt: skip
        others = [d for d in ds.loss.dims if d not in ("lr", "epoch")]
        lrs = ds.lr.values[:: max(1, -(-ds.sizes["lr"] // CURVE_PANELS))]
        panels = {f"lr = {lr:.3g}": ds.loss.sel(lr=lr).transpose(*others, "epoch").values
                  .reshape(-1, ds.sizes["epoch"]) for lr in lrs}  # fmt: skip
        curves.append(_image(_save(plot_curve_panels(ds.epoch.values, panels), tmp, f"curves_{p}"),
                             f"{label}loss per lr (one line per network; shared y-axis)"))  # fmt: skip
    sections = [
        Section("Outcome against learning rate", outcome),
        Section("What ran", description_blocks(run.config)),
        Section("Final loss (lr × network)", heat),
        Section("Learning curves", curves),
    ]
    return [s for s in sections if s.blocks]
