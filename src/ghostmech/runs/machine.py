"""The machine a run trains on, as far as it sets the last bits of the numbers.

A resumed run is bit-identical to an uninterrupted one (docs/scaling-out.md) only
when every chunk ran with the same rounding: the same CPU (XLA picks its kernels by
instruction set and tiles them by cache size), the same ISA cap
(``XLA_FLAGS=--xla_cpu_max_isa=AVX2``), the same matmul threading
(``--xla_cpu_multi_thread_eigen``, :mod:`ghostmech._threads`) and the same jax/jaxlib. Near a critical learning rate the
last bits decide single outcomes (docs/reproduction.md), so a run that moved to
another machine halfway is a different run from epoch ``e`` on. Each block (or part)
keeps ``machines.json``: the machine it trained on, and every change of machine with
the epoch it took effect from.
"""

from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path
from typing import Any

from ghostmech._threads import matmul_threads
from ghostmech.runs.store import write_text

__all__ = ["fingerprint", "record", "read", "describe", "MACHINES_FILE"]

MACHINES_FILE = "machines.json"
_ISAS = ("avx512f", "avx2", "avx", "sse4_2")


def _cpu() -> tuple[str, str]:
    """CPU model name and the widest of `_ISAS` its flags list (Linux /proc/cpuinfo)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return model, "unknown"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            model = value.strip()
        elif key.strip() == "flags":
            flags = set(value.split())
    isa = next((i for i in _ISAS if i in flags), "unknown")
    return model, isa


def fingerprint() -> dict[str, str]:
    """What fixes this process's rounding: ``cpu`` (model name), ``isa`` (the widest
    vector instruction set the CPU has), ``isa_cap`` (``--xla_cpu_max_isa`` in
    ``$XLA_FLAGS``, empty if none), ``matmul_threads`` (``"one"`` unless
    ``--xla_cpu_multi_thread_eigen`` was turned on: on an AVX2 box the two paths gave
    different bits, :mod:`ghostmech._threads`), ``jax`` and ``jaxlib`` versions."""
    import jax
    import jaxlib

    model, isa = _cpu()
    flags = os.environ.get("XLA_FLAGS", "")
    cap = re.search(r"--xla_cpu_max_isa=(\S+)", flags)
    return {
        "cpu": model,
        "isa": isa,
        "isa_cap": cap.group(1) if cap else "",
        "matmul_threads": matmul_threads(flags),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
    }


def read(folder: Path) -> list[dict[str, Any]]:
    """The entries of ``folder/machines.json`` (empty when there is none)."""
    path = Path(folder) / MACHINES_FILE
    return json.loads(path.read_text()) if path.is_file() else []


def record(folder: Path, epoch: int) -> list[dict[str, Any]]:
    """Note that training continues at ``epoch`` on this machine; return all entries.

    An entry ``{"from_epoch": e, **fingerprint()}`` is appended only when the machine
    differs from the last entry's, so one entry means one machine throughout. Keys an
    older entry lacks (written before they were recorded) are not compared."""
    entries, here = read(folder), fingerprint()
    last = {k: v for k, v in entries[-1].items() if k != "from_epoch"} if entries else None
    if last is None or any(here.get(k) != v for k, v in last.items()):
        entries.append({"from_epoch": int(epoch), **here})
        write_text(Path(folder) / MACHINES_FILE, json.dumps(entries, indent=1) + "\n")
    return entries


def describe(entries: list[dict[str, Any]]) -> str:
    """One line: empty for one machine, else which machines took over at which epochs."""
    if len(entries) < 2:
        return ""
    changes = ", ".join(
        f"epoch {e['from_epoch']} on {e['cpu']} ({e['isa']}"
        + (f" capped at {e['isa_cap']}" if e["isa_cap"] else "")
        + (", threaded matmuls" if e.get("matmul_threads") == "many" else "")
        + f", jaxlib {e['jaxlib']})"
        for e in entries
    )
    return (
        f"trained on {len(entries)} machines ({changes}): rounding may differ from one to "
        "the next, so this block is not bit-identical to a run on one machine"
    )
