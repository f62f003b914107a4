"""One source of experiment settings: a paper figure's quick/full sizes are its shipped config's.

Each figure below trains from the config that ``ghostmech sweep CONFIG --quick/--full``
trains (`ghostmech.runs.resolve_config`): ``module.sizes(quick)`` must equal the
numbers read here straight from that TOML file (tomllib, not the library's config
reader), for both variants; and changing the config must change the sizes (the
negative control: no constant left in the module).
"""

from __future__ import annotations

import tomllib

import jax
import numpy as np
import pytest

from ghostmech.paper import fig5a, fig5c, fig6b, fig7a, fig7c, fig8b, fig8c, registry, settings
from ghostmech.runs import load_config, resolve_config

FIGURES = {"fig5a": fig5a, "fig5c": fig5c, "fig6b": fig6b, "fig7a": fig7a, "fig7c": fig7c,
           "fig8b": fig8b, "fig8c": fig8c}  # fmt: skip
CONFIGS = {"fig5a": "fig5_dcd", "fig5c": "fig5_dmts", "fig6b": "fig6b", "fig7a": "fig7_dmts",
           "fig7c": "fig7_dcd", "fig8b": "fig8b", "fig8c": "fig8c"}  # fmt: skip


def _toml(config: str, quick: bool) -> dict:
    return tomllib.loads(resolve_config(config, quick=quick).read_text())


def _seeds(t: dict) -> int:
    s = t["grid"]["seed"]
    return s if isinstance(s, int) else len(s)


def _lr(t: dict) -> tuple:
    lr = t["grid"]["lr"]
    return (lr["start"], lr["stop"], lr["num"])


def _expected(name: str, t: dict, quick: bool):
    """The figure's sizes, by hand from the TOML."""
    if name in ("fig5a", "fig5c"):
        snaps = FIGURES[name].SNAPSHOTS[quick]  # analysed epochs: the figure's, not training
        return fig5a.Sizes(t["network"].get("n", 100), t["training"]["lr"],
                           t["training"]["epochs"], snaps)  # fmt: skip
    if name == "fig6b":
        delay = t["task"]["timings"]["delay"] / t["task"]["dt_ms"]
        return fig6b.Sizes(tuple(t["grid"]["rank"]), _lr(t), _seeds(t), t["training"]["epochs"],
                           int(delay))  # fmt: skip
    if name in ("fig7a", "fig7c"):
        lo, hi, num = _lr(t)
        return fig7a.Sizes(t["network"].get("n", 100), lo, hi, num, _seeds(t),
                           t["training"]["epochs"])  # fmt: skip
    (iv,) = t["interventions"]
    if name == "fig8b":
        assert t["training"]["epochs"] == iv["epoch"] + fig8b.RESCUE_EPOCHS
        return fig8b.Sizes(_seeds(t), t["grid"]["axes"]["beta_after"]["num"], t["training"]["lr"],
                           iv["epoch"])  # fmt: skip
    assert t["training"]["epochs"] == 2 * iv["epoch"]
    return fig8c.Sizes(t["network"].get("n", 100), _seeds(t), iv["epoch"],
                       t["task"]["batch"]["repeat"])  # fmt: skip


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
@pytest.mark.parametrize("name", list(FIGURES))
def test_figure_sizes_are_the_shipped_config(name, quick):
    module = FIGURES[name]
    assert registry.load(name) is module  # what `ghostmech reproduce NAME` runs
    assert module.CONFIG == CONFIGS[name]  # what `ghostmech sweep CONFIG` trains
    assert module.sizes(quick) == _expected(name, _toml(module.CONFIG, quick), quick)


def test_quick_and_full_differ_and_full_is_the_papers():
    assert fig7a.sizes(False) == fig7a.Sizes(100, -3, 1, 20, 20, 20_000)  # docs/model.md §4, 7A
    np.testing.assert_allclose(fig7a.sizes(False).lrs, np.logspace(-3, 1, 20))
    assert fig8b.sizes(False) == fig8b.Sizes(100, 30, 0.02, 6000)  # 8B
    assert fig8c.sizes(False) == fig8c.Sizes(100, 100, 10_000, 10)  # 8C
    for module in FIGURES.values():
        assert module.sizes(True) != module.sizes(False)


@pytest.mark.parametrize("name", ["fig6b", "fig7a", "fig7c", "fig8b", "fig8c"])
def test_negative_control_a_changed_config_changes_the_sizes(name, monkeypatch):
    module = FIGURES[name]
    real = settings.shipped

    def edited(config, *, quick=False):
        path = resolve_config(config, quick=quick)
        return load_config(path, ["grid.seed=3"]) if config == module.CONFIG else real(config, quick=quick)

    before = module.sizes(True)
    monkeypatch.setattr(settings, "shipped", edited)
    after = module.sizes(True)
    assert after != before and after.n_seeds == 3


@pytest.mark.parametrize("name", ["fig5a", "fig5c"])
def test_negative_control_single_network_figures_follow_the_config(name, monkeypatch):
    module = FIGURES[name]

    def edited(config, *, quick=False):
        over = ["network.n=7", "training.epochs=5000"] if config == module.CONFIG else []
        return load_config(resolve_config(config, quick=quick), over)

    monkeypatch.setattr(settings, "shipped", edited)
    got = module.sizes(True)
    assert (got.n, got.epochs) == (7, 5000)


def test_a_config_that_breaks_the_figures_protocol_is_refused(monkeypatch):
    def edited(config, *, quick=False):
        return load_config(resolve_config(config, quick=quick), ["training.epochs=5000"])

    monkeypatch.setattr(settings, "shipped", edited)
    with pytest.raises(ValueError, match="fig8b"):
        fig8b.sizes(True)  # phase 2 must be RESCUE_EPOCHS long
    with pytest.raises(ValueError, match="fig8c"):
        fig8c.sizes(True)  # the two phases must be equally long


class _Trained(Exception):
    """Raised by a spy in place of training: carries the sizes the figure trains with."""


def _spy(*args, **kwargs):
    size = next(a for a in (*args, *kwargs.values()) if type(a).__name__ == "Sizes")
    raise _Trained(size)


# the function each figure's `run` hands its sizes to before training anything
TRAINS = {"fig5a": (fig5a, "train_snapshots"), "fig5c": (fig5a, "train_snapshots"),
          "fig6b": (fig6b, "_train"), "fig7a": (fig7a, "lr_sweep"), "fig7c": (fig7a, "lr_sweep"),
          "fig8c": (fig8c, "two_phases")}  # fmt: skip


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
@pytest.mark.parametrize("name", list(TRAINS))
def test_reproduce_trains_the_sizes_of_the_config_sweep_trains(name, quick, monkeypatch, tmp_path):
    """What `ghostmech reproduce NAME` would train (its runner, stopped before training)
    is what the TOML of ``ghostmech sweep CONFIG`` holds."""
    module, attr = TRAINS[name]
    monkeypatch.setattr(module, attr, _spy)
    with pytest.raises(_Trained) as got:
        registry.runner(name)(quick, tmp_path, key=jax.random.PRNGKey(0))
    (size,) = got.value.args
    assert size == _expected(name, _toml(CONFIGS[name], quick), quick)


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_reproduce_fig8b_trains_the_config_of_sweep_fig8b(quick, monkeypatch, tmp_path):
    def spy(m, n, b, lr, *, beta, epochs, **kw):
        raise _Trained(m.shape[0], lr, epochs)

    monkeypatch.setattr(fig8b, "train_rank1_da_rescue", spy)
    with pytest.raises(_Trained) as got:
        registry.runner("fig8b")(quick, tmp_path, key=jax.random.PRNGKey(0))
    t = _toml("fig8b", quick)
    (iv,) = t["interventions"]
    # phase 1: every seed twice (plain and with the automatic rule), at the config's lr
    assert got.value.args == (2 * _seeds(t), t["training"]["lr"], iv["epoch"])


@pytest.mark.parametrize("name", ["fig6b", "fig7a", "fig7c", "fig8c"])
def test_negative_control_reproduce_follows_an_edited_config(name, monkeypatch, tmp_path):
    module, attr = TRAINS[name]
    real = settings.shipped
    monkeypatch.setattr(module, attr, _spy)
    monkeypatch.setattr(settings, "shipped", lambda config, *, quick=False: load_config(
        resolve_config(config, quick=quick), ["grid.seed=3"]) if config == CONFIGS[name]
        else real(config, quick=quick))  # fmt: skip
    with pytest.raises(_Trained) as got:
        registry.runner(name)(True, tmp_path, key=jax.random.PRNGKey(0))
    assert got.value.args[0].n_seeds == 3
