"""Config validation: every bad input names its field and what is allowed."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from ghostmech.runs import ConfigError, apply_overrides, config_from_dict, load_config
from ghostmech.runs.grid import resolve_grid

BASE = {
    "name": "t",
    "task": {"name": "da", "timings": {"delay": 5, "response": 5}},
    "network": {"n": 8, "rank": 1, "readout": "threshold"},
    "training": {"epochs": 10},
}

BAD = [
    # (overrides, substrings the message must contain)
    (["network.foo=1"], ["network.foo", "unknown key", "rank", "readout"]),
    (["training.lr='fast'"], ["training.lr", "valid number", "'fast'"]),
    (["training.epochs=1.5"], ["training.epochs", "integer"]),
    (["training.lr=-0.1"], ["training.lr", "greater than 0"]),
    (["training.lr=0"], ["training.lr", "greater than 0"]),
    (["network.rank=0"], ["network.rank", "greater than or equal to 1", "'full'"]),
    (["network.rank=9"], ["network.rank", "[1, n=8]"]),
    (["training.optimizer=rmsprop"], ["training.optimizer", "'sgd'", "'adam'", "rmsprop"]),
    (["network.readout=softmax"], ["network.readout", "threshold", "linear", "softmax"]),
    (["network.init={m='glorot'}"], ["network.init", "glorot", "xavier_uniform"]),
    (["network.init={q='zeros'}"], ["network.init['q']", "unknown field", "w_in"]),
    (["network.preset=fig99"], ["network.preset", "fig99", "fig3a"]),
    (["task.name=dnms"], ["task.name", "'da'", "'dmts'"]),
    (["task.timings={delay=5}"], ["task.timings", "delay, response"]),
    (["task.units=ms", "task.timings={delay=12, response=10}"], ["task.timings", "delay", "whole"]),
    (["task.batch='some'"], ["task.batch", "'all'"]),
    (["task.batch={repeat=0}"], ["task.batch.repeat", "greater than or equal to 1"]),
    (["grid.lr={start=-3, stop=0}"], ["grid.lr.num", "required"]),
    (["grid.lr=[0.1, -1.0]"], ["grid.lr", "greater than 0"]),
    (["grid.seed=[1, 1]"], ["grid.seed", "repeat"]),
    (["grid.rank=[1, 20]"], ["grid.rank", "20", "n=8"]),
    (["grid.speed=[1]"], ["grid.speed", "unknown key", "noise_std"]),
    (["scalar=1"], ["scalar: unknown key"]),  # a key named like a pydantic union tag (fuzz)
    (["grid.list=[1]"], ["grid.list: unknown key"]),
    (["checkpoints.every=2", "checkpoints.log=3"], ["checkpoints", "at most one"]),
    (["checkpoints.epochs=[0, 11]"], ["checkpoints.epochs", "training.epochs=10"]),
    (["interventions=[{epoch=3, kind='set_value', path='readout.beta', value='b2'}]"],
     ["interventions[0].value", "b2", "grid axis"]),
    (["interventions=[{epoch=3, kind='freeze'}]"], ["interventions.0", "paths"]),
    (["output.memory_limit_gb=-1"], ["output.memory_limit_gb", "greater than 0"]),
    (["training.clip_norm=0"], ["training.clip_norm", "greater than 0"]),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "expected"), BAD, ids=[b[0][-1] for b in BAD])
def test_bad_config_names_the_field(overrides, expected):
    with pytest.raises(ConfigError) as err:
        config_from_dict(apply_overrides(BASE, overrides))
    msg = str(err.value)
    assert "\n" not in msg
    for part in expected:
        assert part in msg, (part, msg)


def test_truncated_toml_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.toml"
    path.write_text('name = "t"\n[task]\nname = "da"\ntimings = { delay = 5, resp')
    with pytest.raises(ConfigError, match=r"malformed TOML in .*cut.toml: .*end of document"):
        load_config(path)


def test_missing_required_table_is_named():
    with pytest.raises(ConfigError, match=r"training: Field required"):
        config_from_dict({k: v for k, v in BASE.items() if k != "training"})


def test_set_overrides_parse_toml_values_and_dotted_keys():
    data = apply_overrides(
        BASE,
        ["training.lr=0.5", "network.readout=linear", "grid.seed=[3, 4]", 'network.rank="full"',
         "grid.lr={start=-2, stop=0, num=3}", "output.save_checkpoints=false"],
    )  # fmt: skip
    cfg = config_from_dict(data)
    assert cfg.training.lr == 0.5
    assert cfg.network.readout == "linear"  # a bare word is a string
    assert cfg.network.rank == "full"
    assert cfg.output.save_checkpoints is False
    grid = resolve_grid(cfg)
    np.testing.assert_allclose(grid.coords["lr"], [0.01, 0.1, 1.0], rtol=1e-12)
    assert list(grid.coords["seed"]) == [3, 4]
    assert BASE["training"] == {"epochs": 10}  # the input is not mutated


@pytest.mark.parametrize("item", ["training.lr", "=3", "training.epochs.x=1"])
def test_malformed_set_is_refused(item):
    with pytest.raises(ConfigError, match="--set|not a table"):
        apply_overrides(BASE, [item])


def test_preset_fills_unset_keys_and_given_keys_win():
    cfg = config_from_dict(apply_overrides(BASE, ["network.preset=fig3a", "network.n=8"]))
    assert cfg.network.readout == "threshold" and cfg.network.rank == 1
    assert cfg.network.init["r0"] == {"name": "constant", "value": -0.3}
    assert cfg.network.n == 8


def test_resolved_config_round_trips_through_toml():
    cfg = config_from_dict(
        apply_overrides(BASE, ["network.preset=fig3a", "grid.lr={start=-3, stop=-1, num=3}",
                               "checkpoints.epochs=[0, 10]", "task.batch={repeat=2}"])
    )  # fmt: skip
    assert config_from_dict(tomllib.loads(cfg.to_toml())) == cfg


def test_grid_points_are_c_order():
    cfg = config_from_dict(apply_overrides(BASE, ["grid.lr=[0.1, 0.2]", "grid.seed=3"]))
    grid = resolve_grid(cfg)
    pts = grid.points()
    assert list(pts["lr"]) == [0.1, 0.1, 0.1, 0.2, 0.2, 0.2]
    assert list(pts["seed"]) == [0, 1, 2, 0, 1, 2]
    assert grid.index(lr=0.2, seed=1) == 4
    with pytest.raises(ValueError, match="not on the grid"):
        grid.index(lr=0.3, seed=1)
