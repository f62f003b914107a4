"""Claims, figure results, verdict helpers and the reproduction record.

A figure module measures numbers and turns each claim of the paper (docs/model.md §4)
into a :class:`Claim` whose verdict is computed from those measurements with
a tolerance written next to it. :func:`record` then writes what was found:

* ``DIR/summary.json`` - every figure's claims (merged: re-running a figure
  replaces that figure's entry and keeps every other one);
* ``DIR/REPRODUCTION.md`` - one table row per claim, appended, never rewritten.

Example::

    >>> c = Claim("eta_c", "threshold matches Eq. 23", {"ratio": 1.02},
    ...           verdict_close(1.02, 1.0, rtol=0.05))
    >>> c.verdict
    'pass'
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Verdict = Literal["pass", "fail", "not-run"]
VERDICTS: tuple[str, ...] = ("pass", "fail", "not-run")

__all__ = [
    "Claim",
    "FigureResult",
    "Verdict",
    "verdict_of",
    "verdict_close",
    "verdict_log_close",
    "verdict_all",
    "record",
    "write_summary",
    "append_reproduction",
]


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and what this run measured for it.

    ``measured`` holds plain numbers (or short strings); ``tolerance`` states the
    rule the verdict used, so a reader can judge it without reading the code.
    """

    id: str
    statement: str
    measured: dict[str, Any]
    verdict: Verdict
    tolerance: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"`verdict` (={self.verdict!r}) must be one of: {VERDICTS}")


@dataclass(frozen=True)
class FigureResult:
    """What one figure module produced: its claims and the files it wrote."""

    figure: str
    claims: list[Claim]
    files: list[Path] = field(default_factory=list)
    quick: bool = True
    seed: int = 0
    wall_s: float = float("nan")

    @property
    def status(self) -> Verdict:
        """``"pass"`` if every claim passed, ``"fail"`` if any failed, else ``"not-run"``."""
        verdicts = {c.verdict for c in self.claims}
        if "fail" in verdicts:
            return "fail"
        return "pass" if verdicts == {"pass"} else "not-run"


def _finite(*values: float) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def verdict_of(condition: bool) -> Verdict:
    """``"pass"`` if ``condition`` holds, else ``"fail"``."""
    return "pass" if bool(condition) else "fail"


def verdict_close(measured: float, expected: float, *, rtol: float) -> Verdict:
    """Pass iff ``|measured - expected| <= rtol * |expected|`` (both finite)."""
    m, e = float(measured), float(expected)
    return verdict_of(_finite(m, e) and abs(m - e) <= rtol * abs(e))


def verdict_log_close(measured: float, expected: float, *, decades: float) -> Verdict:
    """Pass iff both are positive and ``|log10(measured / expected)| <= decades``."""
    m, e = float(measured), float(expected)
    ok = _finite(m, e) and m > 0 and e > 0 and abs(math.log10(m / e)) <= decades
    return verdict_of(ok)


def verdict_all(verdicts: Sequence[Verdict]) -> Verdict:
    """Combine verdicts: fail if any fails, pass if all pass."""
    return verdict_of(len(verdicts) > 0 and all(v == "pass" for v in verdicts))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bool | int | str) or value is None:
        return value
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f if math.isfinite(f) else str(f)


def _figure_entry(result: FigureResult, out: Path) -> dict[str, Any]:
    files = []
    for f in result.files:
        p = Path(f)
        files.append(str(p.relative_to(out)) if p.is_relative_to(out) else str(p))
    return {
        "status": result.status,
        "mode": "quick" if result.quick else "full",
        "seed": result.seed,
        "wall_s": _jsonable(result.wall_s),
        "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "files": files,
        "claims": [_jsonable(asdict(c)) for c in result.claims],
    }


def write_summary(out: Path, results: Sequence[FigureResult]) -> Path:
    """Merge ``results`` into ``out/summary.json`` (atomic write) and return its path."""
    path = Path(out) / "summary.json"
    data: dict[str, Any] = {"figures": {}}
    if path.exists():
        data = json.loads(path.read_text())
        data.setdefault("figures", {})
    for r in results:
        data["figures"][r.figure] = _figure_entry(r, Path(out))
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path


_HEADER = (
    "# Reproduction record\n\n"
    "One row per claim and run, appended by `ghostmech reproduce`; rows are never removed.\n\n"
    "| finished (UTC) | figure | mode | seed | claim | verdict | measured | tolerance |\n"
    "|---|---|---|---|---|---|---|---|\n"
)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def append_reproduction(out: Path, results: Sequence[FigureResult]) -> Path:
    """Append one row per claim to ``out/REPRODUCTION.md`` (header written once)."""
    path = Path(out) / "REPRODUCTION.md"
    stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    rows = []
    for r in results:
        mode = "quick" if r.quick else "full"
        for c in r.claims:
            measured = ", ".join(f"{k}={_fmt(v)}" for k, v in c.measured.items())
            cells = [stamp, r.figure, mode, str(r.seed), c.id, c.verdict, measured, c.tolerance]
            rows.append("| " + " | ".join(_cell(x) for x in cells) + " |\n")
    with path.open("a") as fh:
        if fh.tell() == 0:
            fh.write(_HEADER)
        fh.writelines(rows)
    return path


def record(out: Path, results: Sequence[FigureResult]) -> tuple[Path, Path]:
    """Write ``summary.json`` (merged) and append ``REPRODUCTION.md``; return both paths."""
    Path(out).mkdir(parents=True, exist_ok=True)
    return write_summary(out, results), append_reproduction(out, results)
