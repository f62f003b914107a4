"""Fuzzed config files to ``ghostmech sweep`` / ``train``: one error line naming the field.

Hypothesis mutates a valid config (wrong types, out-of-range values, unknown
keys, missing keys), truncates its TOML, or writes random bytes; the command
runs in-process with a memory limit of one byte, so a config that happens to
be valid stops at the memory check and nothing ever trains. Every case must
exit 2 with exactly one line on stderr, no traceback, naming the field it broke
and saying what is allowed. The number of cases tried is reported in the
terminal summary.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ghostmech.cli import main
from ghostmech.runs._toml import dumps

BASE = {
    "name": "fuzz",
    "task": {"name": "da", "timings": {"delay": 5, "response": 5}, "batch": "all"},
    "network": {"preset": "fig6a_rank1", "n": 8, "alpha": 0.5, "noise_std": 0.0},
    "training": {"epochs": 20, "chunk": 10, "lr": 0.01, "optimizer": "sgd", "backend": "auto"},
    "grid": {"lr": [0.01, 0.1], "seed": 2},
    "checkpoints": {"every": 10},
    "output": {"save_checkpoints": True},
}
LEAVES = [
    "name", "task", "task.name", "task.units", "task.dt_ms", "task.timings", "task.timings.delay",
    "task.batch", "network.preset", "network.n", "network.rank", "network.init", "network.readout",
    "network.readout_kwargs", "network.alpha", "network.noise_std", "network.noise_scaling",
    "network.read", "network.frozen", "training", "training.epochs", "training.chunk",
    "training.lr", "training.optimizer", "training.seed", "training.backend", "grid.lr",
    "grid.seed", "grid.beta", "grid.noise_std", "grid.rank", "grid.axes", "checkpoints.every",
    "checkpoints.epochs", "checkpoints.log", "interventions", "output.memory_limit_gb",
    "output.save_checkpoints",
]  # fmt: skip
TABLES = ["", "task", "task.timings", "network", "training", "grid", "checkpoints", "output"]
ALLOWED = re.compile(
    r"must|should|allowed|one of|required|expected|valid|needs|at most|TOML|UTF-8|memory limit",
    re.IGNORECASE,
)
# `ghostmech.runs._toml` writes non-BMP characters as JSON surrogate pairs and U+007F raw,
# neither of which is valid TOML: keep to the characters it writes correctly.
TEXT = st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"], exclude_characters="\x7f")
# Values of every TOML type, mostly wrong or out of range for the field they land in; numbers
# stay small so that a value a field accepts (n = 3) never asks for a huge allocation.
JUNK = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, -0.5, 1e300, -1e-300, float("nan"), float("inf"), 2.0, 1e6]),
    st.text(TEXT, max_size=6),
    st.sampled_from(["full", "all", "sgd", "linear", "da", "ms", "fig6b", "zeros"]),
    st.booleans(),
    st.lists(
        st.one_of(st.integers(-2, 3), st.floats(-1, 1), st.text("abc", max_size=3)), max_size=3
    ),
    st.dictionaries(
        st.sampled_from(["start", "stop", "num", "repeat", "sample", "m", "x"]),
        st.one_of(st.integers(-2, 4), st.text("xyz", max_size=3)),
        max_size=3,
    ),  # fmt: skip
)
COUNT = {"cases": 0, "failed": 0}


def _set(data: dict, path: str, value) -> None:
    *parents, leaf = path.split(".")
    for p in parents:
        data = data.setdefault(p, {}) if isinstance(data.get(p, {}), dict) else {}
    if value is _DELETE:
        data.pop(leaf, None)
    else:
        data[leaf] = value


_DELETE = object()


@st.composite
def broken_config(draw) -> tuple[bytes, list[str]]:
    """(file content, the field names one of which the error must name)."""
    kind = draw(st.sampled_from(["value", "unknown", "missing", "truncated", "bytes"]))
    data = copy.deepcopy(BASE)
    if kind == "bytes":
        return draw(st.binary(min_size=1, max_size=64)), ["config", "TOML", "UTF-8"]
    if kind == "truncated":
        text = dumps(data)
        cut = draw(st.integers(1, len(text) - 2))
        return text[:cut].encode(), ["TOML", "required", "field", "must", "should", "allowed"]
    if kind == "unknown":
        table = draw(st.sampled_from(TABLES))
        key = draw(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8))
        path = f"{table}.{key}".lstrip(".")
        if path in LEAVES or key in ("name", "task", "training"):
            key = f"{key}_bogus"
            path = f"{table}.{key}".lstrip(".")
        _set(data, path, draw(JUNK))
        return dumps(data).encode(), [path if table else key] + ([table] if "." in table else [])
    path = draw(st.sampled_from(LEAVES))
    value = _DELETE if kind == "missing" else draw(JUNK)
    assume(not (path == "network.preset" and isinstance(value, list | dict)))  # known: below
    _set(data, path, value)
    return dumps(data).encode(), [path, path.rsplit(".", 1)[-1]]


def _names_field(message: str, fields: list[str]) -> bool:
    """The message names one of ``fields`` (single letters only as a dotted path)."""
    return any(f in message for f in fields if len(f) > 2 or "." in f) or any(
        re.search(rf"\b{re.escape(f)}\b", message) for f in fields if len(f) <= 2
    )


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    return rc, err.getvalue()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


class _Report:
    """Prints the number of fuzzed cases in pytest's terminal summary (with or without -s)."""

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(
            f"test_runs_fuzz: {COUNT['cases']} fuzzed config files tried, "
            f"{COUNT['failed']} without one clean error line"
        )


@pytest.fixture(scope="module", autouse=True)
def report_count(request):
    if not request.config.pluginmanager.has_plugin("ghostmech-runs-fuzz"):
        request.config.pluginmanager.register(_Report(), "ghostmech-runs-fuzz")
    return COUNT


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=broken_config(), command=st.sampled_from(["sweep", "train"]))
def test_fuzzed_config_files_give_one_line_naming_the_field(case, command, workdir):
    content, fields = case
    path = workdir / "config.toml"
    path.write_bytes(content)
    out = workdir / "never-written"
    rc, err = _run([command, str(path), "--out", str(out), "--memory-limit-gb", "1e-9"])
    COUNT["cases"] += 1
    COUNT["failed"] += 1  # until every check below passes
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("error:"), err
    message = lines[0]
    memory = "the grid needs about" in message  # the mutation left a valid config
    assert memory or _names_field(message, fields), (fields, message)
    assert ALLOWED.search(message), message
    assert not out.exists()
    COUNT["failed"] -= 1


def test_a_list_as_preset_names_the_field(workdir):
    data = copy.deepcopy(BASE)
    data["network"]["preset"] = []
    path = workdir / "preset.toml"
    path.write_text(dumps(data))
    rc, err = _run(["sweep", str(path), "--out", str(workdir / "x"), "--memory-limit-gb", "1e-9"])
    assert rc == 2 and "network.preset" in err, err
