"""Robustness matrix: the quick reproduction over seeds × CPU instruction sets, per claim.

Training near a critical learning rate is chaotic: the last bits of rounding,
which differ between CPUs, decide individual networks' outcomes. A verdict
that depends on them is not a result. XLA can emulate another CPU's rounding
on this one: ``XLA_FLAGS=--xla_cpu_max_isa=SSE4_2`` (or ``AVX2``, ``AVX512``
where present) changes the vector width of its kernels and with it the order
of floating-point sums. Each (seed, ISA) run is a fresh process (XLA reads the
flag once, at start-up) running :func:`ghostmech.paper.reproduce`; the matrix
counts, per claim, the runs that passed.

Run::

    python -m ghostmech.paper.robustness --seeds 0-4 --isas default,AVX2,SSE4_2 \\
        --out matrix-out all

It writes ``OUT/<isa>/seed<S>/`` (each run's panels, ``summary.json``,
``REPRODUCTION.md``) and, after every run, ``OUT/matrix.md`` and
``OUT/matrix.json``. Every run also records a rounding fingerprint (a hash of
tanh over a fixed 257×513 matmul and matvec, `fingerprint`), so the table
shows whether the ISAs really round differently on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ghostmech._threads import with_one_thread

__all__ = [
    "ISAS",
    "parse_seeds",
    "isa_env",
    "run_one",
    "tally",
    "matrix_markdown",
    "robust",
    "run_matrix",
    "finished_run",
    "fingerprint",
    "main",
]

ISAS: tuple[str, ...] = ("default", "AVX2", "SSE4_2")
_FLAG = "--xla_cpu_max_isa="


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` → [0, 1, 2, 3, 4]; ``"0,2,7"`` → [0, 2, 7]; ``"3"`` → [3] (non-negative)."""
    seeds: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        try:
            a, b = (int(lo), int(hi)) if sep else (int(part), int(part))
        except ValueError:
            raise ValueError(f"`seeds` (={text!r}) must look like '0-4' or '0,2,7'") from None
        if a < 0 or b < a:
            raise ValueError(f"`seeds` (={text!r}) must be non-negative ranges lo-hi with lo ≤ hi")
        seeds.extend(s for s in range(a, b + 1) if s not in seeds)
    return seeds


def isa_env(isa: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a run under ``isa``: ``XLA_FLAGS`` without any max-ISA flag, plus
    ``--xla_cpu_max_isa=<isa>`` unless ``isa == "default"``."""
    if not isa or not isa.replace("_", "").isalnum():
        raise ValueError(f"`isa` (={isa!r}) must be 'default' or an XLA ISA name like SSE4_2")
    env = dict(os.environ if base is None else base)
    flags = [f for f in env.get("XLA_FLAGS", "").split() if not f.startswith(_FLAG)]
    if isa != "default":
        flags.append(_FLAG + isa)
    if flags:
        env["XLA_FLAGS"] = " ".join(flags)
    else:
        env.pop("XLA_FLAGS", None)
    return env


def fingerprint() -> str:
    """First 10 hex digits of the SHA-1 of ``tanh(A @ B)`` and ``tanh(A @ b)`` (float32,
    fixed 257×513, 513×257 and 513 inputs): equal between two ISAs exactly when their
    rounding of these agrees (on an AVX-512 CPU, SSE4_2 changes both; AVX2 may not)."""
    import hashlib

    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(12)
    a = jnp.asarray(rng.normal(size=(257, 513)), jnp.float32)
    b = jnp.asarray(rng.normal(size=(513, 257)) / 20, jnp.float32)
    f = jax.jit(lambda x, y: (jnp.tanh(x @ y), jnp.tanh(x @ y[:, 0])))
    digest = hashlib.sha1()
    for z in f(a, b):
        digest.update(np.asarray(z).tobytes())
    return digest.hexdigest()[:10]


def _one(figures: Sequence[str], seed: int, out: Path) -> None:
    """Inside the subprocess: reproduce ``figures`` quick and write ``out/run.json``."""
    from ghostmech.paper import reproduce

    t0 = time.perf_counter()
    meta = {"xla_flags": os.environ.get("XLA_FLAGS", ""), "fingerprint": fingerprint()}
    reproduce(figures, quick=True, out=out, seed=seed)
    meta["wall_s"] = time.perf_counter() - t0
    (Path(out) / "run.json").write_text(json.dumps(meta, indent=2) + "\n")


def run_one(
    figures: Sequence[str], seed: int, isa: str, out: Path, *, timeout: float | None = None
) -> dict[str, Any]:
    """One quick reproduction in a fresh process under ``isa``; returns ``{"seed", "isa",
    "rc", "summary" (the summary.json dict or None), "run" (run.json or None), "wall_s"}``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "ghostmech.paper.robustness", "--one", "--seeds", str(seed)]
    cmd += ["--out", str(out), *figures]
    t0 = time.perf_counter()
    with (out / "log.txt").open("w") as log:
        try:
            rc = subprocess.run(
                cmd, env=isa_env(isa), stdout=log, stderr=subprocess.STDOUT, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            rc = -1
    read = {}
    for name in ("summary", "run"):
        p = out / f"{name}.json"
        read[name] = json.loads(p.read_text()) if p.exists() else None
    return {"seed": seed, "isa": isa, "rc": rc, **read, "wall_s": time.perf_counter() - t0}


def tally(runs: Iterable[Mapping[str, Any]], figures: Sequence[str] = ()) -> dict[str, Any]:
    """Per claim ``"figure:claim"``: ``passes``, ``not_run`` (runs whose verdict was
    ``"not-run"``: not decided at that size), ``runs`` and ``failed`` (the ``"isa/seed"`` of
    each run where it failed or its figure did not finish). A figure of ``figures`` missing
    from a run's summary counts as a failed run of each of its known claims."""
    rows: dict[str, dict[str, Any]] = {}
    claims_of: dict[str, list[str]] = {}
    runs = list(runs)
    for r in runs:
        figs = (r.get("summary") or {}).get("figures", {})
        for fig, entry in figs.items():
            for c in entry.get("claims", []):
                claims_of.setdefault(fig, [])
                if c["id"] not in claims_of[fig]:
                    claims_of[fig].append(c["id"])
    for r in runs:
        where = f"{r['isa']}/seed{r['seed']}"
        figs = (r.get("summary") or {}).get("figures", {})
        for fig in sorted(set(figures) | set(claims_of), key=lambda f: (len(f), f)):
            verdicts = {c["id"]: c["verdict"] for c in figs.get(fig, {}).get("claims", [])}
            for cid in claims_of.get(fig, []):
                row = rows.setdefault(
                    f"{fig}:{cid}", {"passes": 0, "not_run": 0, "runs": 0, "failed": []}
                )
                row["runs"] += 1
                verdict = verdicts.get(cid)
                if verdict == "pass":
                    row["passes"] += 1
                elif verdict == "not-run":
                    row["not_run"] += 1
                else:
                    row["failed"].append(where)
    return dict(sorted(rows.items()))


def robust(row: Mapping[str, Any]) -> bool:
    """A tally row with no failed run (passes, or not decided at this size, in every run)."""
    return not row["failed"]


def _count(row: Mapping[str, Any]) -> str:
    text = f"{row['passes']} / {row['runs']}"
    if row["not_run"]:
        text += f" (not decided at this size: {row['not_run']})"
    return text + ("" if robust(row) else " ✗")


def matrix_markdown(runs: Sequence[Mapping[str, Any]], figures: Sequence[str] = ()) -> str:
    """The matrix as markdown: one row per claim (passes / runs, where it failed), then one
    row per run (ISA, seed, exit code, wall time, rounding fingerprint)."""
    lines = ["| claim | passes / runs | failed in |", "|---|---|---|"]
    for cid, row in tally(runs, figures).items():
        failed = ", ".join(row["failed"]) or "–"
        lines.append(f"| {cid} | {_count(row)} | {failed} |")
    lines += ["", "| ISA | seed | exit | wall (s) | fingerprint |", "|---|---|---|---|---|"]
    for r in runs:
        fp = (r.get("run") or {}).get("fingerprint", "–")
        lines.append(f"| {r['isa']} | {r['seed']} | {r['rc']} | {r['wall_s']:.0f} | {fp} |")
    return "\n".join(lines) + "\n"


def finished_run(cell: Path, seed: int, isa: str, figures: Sequence[str]) -> dict[str, Any] | None:
    """The record of a cell that finished before (its ``summary.json`` covers ``figures`` and
    its ``run.json`` was written last, under the same ISA cap and one-thread matmuls), else
    None."""
    try:
        summary = json.loads((Path(cell) / "summary.json").read_text())
        run = json.loads((Path(cell) / "run.json").read_text())
    except (OSError, ValueError):
        return None
    if not set(figures) <= set(summary.get("figures", {})):
        return None
    want = with_one_thread(isa_env(isa, {}).get("XLA_FLAGS", ""))  # as import ghostmech sets
    if set(run.get("xla_flags", "").split()) != set(want.split()):
        return None
    return {"seed": seed, "isa": isa, "rc": 0, "summary": summary, "run": run,
            "wall_s": float(run.get("wall_s", 0.0))}  # fmt: skip


def run_matrix(
    figures: Sequence[str],
    seeds: Sequence[int],
    isas: Sequence[str],
    out: Path,
    *,
    on_run: Callable[[dict[str, Any]], None] | None = None,
    timeout: float | None = None,
    resume: bool = False,
) -> list[dict[str, Any]]:
    """Every (seed, ISA) run in turn, seed-major (so a cut-off matrix still covers every ISA
    for its first seeds); ``OUT/matrix.md`` and ``OUT/matrix.json`` rewritten after each.
    ``resume``: a cell whose run finished before (`finished_run`) is read back, not rerun."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    for seed in seeds:
        for isa in isas:
            cell = out / isa / f"seed{seed}"
            done = finished_run(cell, seed, isa, figures) if resume else None
            r = done or run_one(figures, seed, isa, cell, timeout=timeout)
            runs.append(r)
            (out / "matrix.md").write_text(matrix_markdown(runs, figures))
            slim = [{k: v for k, v in x.items() if k != "summary"} for x in runs]
            table = tally(runs, figures)
            (out / "matrix.json").write_text(json.dumps({"runs": slim, "claims": table}, indent=2))
            if on_run is not None:
                on_run(r)
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring); ``--one`` is the per-run subprocess."""
    ap = argparse.ArgumentParser(prog="python -m ghostmech.paper.robustness")
    ap.add_argument("figures", nargs="+", help="figures as for `ghostmech reproduce` ('all')")
    ap.add_argument("--seeds", default="0-4", help="seed range, e.g. 0-4 or 0,2")
    ap.add_argument("--isas", default=",".join(ISAS), help="comma-separated: default,AVX2,...")
    ap.add_argument("--out", required=True, type=Path, help="output directory")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per run")
    ap.add_argument("--resume", action="store_true", help="read back cells that finished before")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
        isas = [s.strip() for s in args.isas.split(",") if s.strip()]
        for isa in isas:
            isa_env(isa, {})
        from ghostmech.paper import resolve

        names = resolve(args.figures)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.one:
        _one(names, seeds[0], args.out)
        return 0

    def show(r: dict[str, Any]) -> None:
        print(f"{r['isa']} seed {r['seed']}: exit {r['rc']}, {r['wall_s']:.0f} s", flush=True)

    runs = run_matrix(
        names, seeds, isas, args.out, on_run=show, timeout=args.timeout, resume=args.resume
    )
    print((args.out / "matrix.md").read_text())
    return 0 if all(robust(r) for r in tally(runs, names).values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
