"""The experiment config: TOML in, a validated, frozen :class:`ExperimentConfig` out.

A config has the tables ``[task]``, ``[network]``, ``[training]``, ``[grid]``,
``[checkpoints]``, ``[output]`` and an array ``[[interventions]]``. Every
table forbids unknown keys; every error names the field (``network.rank``)
and what is allowed. Example (Fig. 6A, rank one)::

    name = "fig6a_rank1"
    [task]
    name = "da"
    timings = { delay = 20, response = 20 }
    [network]
    preset = "fig6a_rank1"       # fills rank, init, readout, ... (networks.PRESETS)
    n = 100
    [training]
    optimizer = "sgd"
    epochs = 200001
    [grid]
    lr = { start = -4, stop = -1, num = 30 }   # numpy.logspace exponents
    seed = 10                                  # seeds 0 .. 9

``load_config(path, overrides=["training.epochs=10"])`` applies ``--set``
overrides (dotted keys, TOML-parsed values) before validation.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, ValidationInfo, field_validator

from ghostmech.runs._toml import dumps
from ghostmech.runs._types import LogSpace, Strict
from ghostmech.runs.sections import (
    CheckpointsConfig,
    GridConfig,
    InterventionConfig,
    NetworkConfig,
    OutputConfig,
    TaskConfig,
    TrainingConfig,
)

__all__ = [
    "ConfigError",
    "ExperimentConfig",
    "GridConfig",
    "LogSpace",
    "config_from_dict",
    "load_config",
    "apply_overrides",
]


class ConfigError(ValueError):
    """A config that cannot be read or does not validate; the message names the field."""


class ExperimentConfig(Strict):
    name: str
    description: str = ""
    task: TaskConfig
    network: NetworkConfig = NetworkConfig()
    training: TrainingConfig
    grid: GridConfig = GridConfig()
    checkpoints: CheckpointsConfig = CheckpointsConfig()
    interventions: list[InterventionConfig] = []
    output: OutputConfig = OutputConfig()

    @field_validator("grid")
    @classmethod
    def _grid_ranks(cls, grid: GridConfig, info: ValidationInfo) -> GridConfig:
        n = info.data["network"].n if "network" in info.data else 10**9
        for r in grid.rank or []:
            if r != "full" and r > n:
                raise ValueError(f".rank entry (={r}) must be 'full' or in [1, n={n}]")
        return grid

    @field_validator("checkpoints")
    @classmethod
    def _ckpt_epochs(cls, ckpts: CheckpointsConfig, info: ValidationInfo) -> CheckpointsConfig:
        epochs = info.data["training"].epochs if "training" in info.data else 10**12
        late = [e for e in ckpts.epochs or [] if e > epochs]
        if late:
            raise ValueError(f".epochs (={late}) must be <= training.epochs={epochs}")
        return ckpts

    @field_validator("interventions")
    @classmethod
    def _iv_epochs(cls, ivs: list[InterventionConfig], info: ValidationInfo) -> list:
        epochs = info.data["training"].epochs if "training" in info.data else 10**12
        axes = {"lr", "beta", "noise_std"} | set(getattr(info.data.get("grid"), "axes", {}))
        for i, iv in enumerate(ivs):
            if iv.epoch > epochs:
                raise ValueError(f"[{i}].epoch (={iv.epoch}) must be <= training.epochs={epochs}")
            if isinstance(iv.value, str) and iv.value not in axes:
                raise ValueError(
                    f"[{i}].value (={iv.value!r}) names no grid axis; axes: {sorted(axes)}"
                )
        return ivs

    def to_toml(self) -> str:
        """The resolved config as TOML (``config_from_dict(tomllib.loads(.)) == self``)."""
        return dumps(self.model_dump(mode="json", exclude_none=True))


def _format(err: ValidationError, source: str) -> str:
    by_loc: dict[str, list[str]] = {}
    for e in err.errors():
        parts = list(e["loc"])
        keep_last = e["type"] == "extra_forbidden"  # the unknown key itself, whatever its name
        loc = ".".join(
            str(p)
            for i, p in enumerate(parts)
            if not _is_union_tag(p) or (keep_last and i == len(parts) - 1)
        )
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "value_error" and msg.startswith(("(", "[", ".")):
            loc, msg = f"{loc}{' ' if msg[0] == '(' else ''}{msg}", ""
        elif e["type"] == "extra_forbidden":
            msg = f"unknown key; allowed: {_allowed_keys(e['loc'])}"
        elif "input" in e and e["type"] != "missing" and not isinstance(e["input"], dict):
            msg = f"{msg} (got {e['input']!r})"
        by_loc.setdefault(loc or "<top>", []).append(msg)
    parts = [
        f"{loc}: {' or '.join(dict.fromkeys(m))}".removesuffix(": ") for loc, m in by_loc.items()
    ]
    return f"invalid config {source}: " + "; ".join(parts)


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (
        part.startswith(("list[", "literal[", "function-", "constrained-", "dict["))
        or part in {"list", "table", "scalar", "RepeatBatch", "SampleBatch", "LogSpace"}
        or part in {"int", "float", "str", "bool"}
    )


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in getattr(annotation, "__args__", ()) + getattr(annotation, "__metadata__", ()):
        found += _models_in(arg)
    return found


def _allowed_keys(loc: tuple) -> str:
    model: Any = ExperimentConfig
    for part in loc[:-1]:
        if isinstance(part, int) or _is_union_tag(part):
            named = [m for m in (model if isinstance(model, list) else []) if m.__name__ == part]
            model = named[0] if named else model
            continue
        field = getattr(model, "model_fields", {}).get(part)
        candidates = _models_in(field.annotation) if field else []
        model = candidates if len(candidates) > 1 else candidates[0] if candidates else None
    models = model if isinstance(model, list) else [model]
    return ", ".join(k for m in models if m for k in m.model_fields)


def config_from_dict(data: dict[str, Any], *, source: str = "<dict>") -> ExperimentConfig:
    """Validate a plain dict; raise :class:`ConfigError` naming each bad field."""
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format(err, source)) from None


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word is a string: --set network.readout=linear


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with ``key.sub=value`` overrides (values parsed as TOML)."""
    out = copy.deepcopy(data)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set (={item!r}) must look like key.sub=value")
        *parents, leaf = [p.strip() for p in key.split(".")]
        node = out
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: {p!r} is not a table")
        node[leaf] = _parse_value(text.strip())
    return out


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    """Read a TOML config file, apply ``--set`` overrides, validate."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"malformed TOML in {path}: {err}") from None
    return config_from_dict(apply_overrides(data, list(overrides)), source=str(path))
