"""A minimal TOML writer for resolved configs (the standard library only reads TOML).

Handles what :class:`~ghostmech.runs.config.ExperimentConfig` dumps: nested
tables, arrays of tables, strings, booleans, integers, floats and arrays of
those. ``tomllib.loads(dumps(d)) == d`` for every such ``d``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps"]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_scalar(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} ({value!r}) to TOML")


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _table(lines: list[str], prefix: str, table: Mapping[str, Any]) -> None:
    subtables = []
    for k, v in table.items():
        if v is None:
            continue
        if isinstance(v, Mapping) or _is_table_array(v):
            subtables.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_scalar(v)}")
    for k, v in subtables:
        name = f"{prefix}.{_key(k)}" if prefix else _key(k)
        if isinstance(v, Mapping):
            only_tables = v and all(
                isinstance(x, Mapping) or _is_table_array(x) for x in v.values()
            )
            if not only_tables:  # a header for a table of only sub-tables is implied
                lines.extend(["", f"[{name}]"])
            _table(lines, name, v)
        else:
            for item in v:
                lines.extend(["", f"[[{name}]]"])
                _table(lines, name, item)


def dumps(data: Mapping[str, Any]) -> str:
    """Return ``data`` (nested mappings of TOML values; ``None`` values skipped) as TOML text."""
    lines: list[str] = []
    _table(lines, "", data)
    return "\n".join(lines).lstrip("\n") + "\n"
