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

from ghostmech.paper import (
    critical_delay,
    fig3a,
    fig3b,
    fig4a,
    fig4e,
    fig5a,
    fig5c,
    fig6a,
    fig6b,
    fig7a,
    fig7c,
    fig8b,
    fig8c,
    registry,
    settings,
)
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
        return (
            load_config(path, ["grid.seed=3"])
            if config == module.CONFIG
            else real(config, quick=quick)
        )

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
          "fig6b": (fig6b, "train_rank"), "fig7a": (fig7a, "lr_sweep"), "fig7c": (fig7a, "lr_sweep"),
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


# --- Figs. 3A, 3B, 4A, 4E, 6A and 9: every training setting from the shipped configs -------


def _steps(t: dict, window: str) -> int:
    return int(round(t["task"]["timings"][window] / t["task"]["dt_ms"]))


def _logspace(t: dict) -> tuple:
    lr = t["grid"]["lr"]
    return (lr["start"], lr["stop"], lr["num"])


def _every(t: dict) -> list[int]:
    """The checkpoint epochs of a TOML (``epochs`` list or ``every``), by hand."""
    c, e = t["checkpoints"], t["training"]["epochs"]
    return sorted({*c["epochs"], e}) if "epochs" in c else sorted({*range(0, e + 1, c["every"]), e})


def _fig3a_expected(quick: bool):
    t = _toml("fig3a", quick)
    panels = None if quick else fig3a.PANELS
    return fig3a.Sizes(t["network"]["preset"], _steps(t, "delay"), t["training"]["lr"],
                       t["training"]["epochs"], t["training"]["chunk"], tuple(_every(t)),
                       fig3a.FRAMES[quick], panels)  # fmt: skip


def _fig3b_expected(quick: bool):
    t = _toml("fig3b", quick)
    hi, lo = t["grid"]["lr"]
    return fig3b.Sizes(t["network"]["preset"], _steps(t, "delay"), hi, lo, _seeds(t),
                       t["training"]["epochs"], t["training"]["chunk"],
                       t["checkpoints"]["every"])  # fmt: skip


def _rank2_expected(config: str, quick: bool, frames: int, window):
    t = _toml(config, quick)
    timings = {k: _steps(t, k) for k in t["task"]["timings"]}
    return fig4a.Sizes(t["network"]["preset"], t["training"]["optimizer"], t["training"]["lr"],
                       t["training"]["epochs"], t["checkpoints"]["every"],
                       {"name": t["task"]["name"], **timings}, t["network"].get("n", 100),
                       _seeds(t), t["task"].get("batch", "all"), t["training"]["chunk"],
                       t["training"].get("clip_norm"), frames, window)  # fmt: skip


def _fig6a_expected(quick: bool):
    r1, fr = _toml("fig6a_rank1", quick), _toml("fig6a_full", quick)
    return fig6a.Sizes(_steps(r1, "delay"), _seeds(r1), _logspace(r1), _logspace(fr),
                       r1["training"]["epochs"], fr["training"]["epochs"],
                       r1["training"]["chunk"], fr["training"]["chunk"])  # fmt: skip


FIG9 = {True: ("fig9_T4", "fig9_T6", "fig9_T10"),
        False: ("fig9_T10", "fig9_T20", "fig9_T40", "fig9_T80")}  # fmt: skip


def _fig9_expected(quick: bool):
    ts = [_toml(c, quick) for c in FIG9[quick]]
    return critical_delay.Sizes(tuple(_steps(t, "delay") for t in ts), _seeds(ts[0]),
                                _logspace(ts[0]), tuple(t["training"]["epochs"] for t in ts),
                                tuple(t["training"]["chunk"] for t in ts))  # fmt: skip


MORE = {
    "fig3a": (fig3a, _fig3a_expected),
    "fig3b": (fig3b, _fig3b_expected),
    "fig4a": (fig4a, lambda q: _rank2_expected("fig4_dcd_strong_input", q, 6 if q else 40, None)),
    "fig4e": (fig4e, lambda q: _rank2_expected("fig4_dmts", q, 6 if q else 40, None if q else 30)),
    "fig6a": (fig6a, _fig6a_expected),
    "fig9": (critical_delay, _fig9_expected),
}


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
@pytest.mark.parametrize("name", list(MORE))
def test_more_figure_sizes_are_the_shipped_configs(name, quick):
    module, expected = MORE[name]
    assert registry.load(name) is module  # what `ghostmech reproduce NAME` runs
    assert module.sizes(quick) == expected(quick)
    assert module.sizes(True) != module.sizes(False)
    assert not hasattr(module, "QUICK") and not hasattr(module, "FULL")  # no second source


def test_fig9_and_fig6a_list_their_configs():
    assert critical_delay.CONFIGS == FIG9
    assert fig6a.CONFIGS == ("fig6a_rank1", "fig6a_full")
    assert fig3a.CONFIG == "fig3a" and fig3b.CONFIG == "fig3b"
    assert fig4a.CONFIG == "fig4_dcd_strong_input" and fig4e.CONFIG == "fig4_dmts"


def _edited(monkeypatch, which: dict[str, list[str]]):
    """`settings.shipped` with ``--set`` overrides applied to the configs named in ``which``."""
    real = settings.shipped

    def shipped(config, *, quick=False):
        if config in which:
            return load_config(resolve_config(config, quick=quick), which[config])
        return real(config, quick=quick)

    monkeypatch.setattr(settings, "shipped", shipped)


@pytest.mark.parametrize(
    ("name", "edits", "field", "value"),
    [
        ("fig3a", {"fig3a": ["training.lr=0.05"]}, "lr", 0.05),
        ("fig3b", {"fig3b": ["grid.seed=3"]}, "n_seeds", 3),
        ("fig4a", {"fig4_dcd_strong_input": ["training.clip_norm=2.0"]}, "clip_norm", 2.0),
        ("fig4e", {"fig4_dmts": ["grid.seed=3"]}, "seeds", 3),
        ("fig6a", {"fig6a_rank1": ["grid.seed=3"], "fig6a_full": ["grid.seed=3"]}, "n_seeds", 3),
        ("fig9", {c: ["training.chunk=7"] for c in FIG9[True]}, "chunks", (7, 7, 7)),
    ],
)
def test_negative_control_more_figures_follow_an_edited_config(
    name, edits, field, value, monkeypatch
):
    module, _ = MORE[name]
    before = module.sizes(True)
    _edited(monkeypatch, edits)
    after = module.sizes(True)
    assert after != before and getattr(after, field) == value


@pytest.mark.parametrize(
    ("name", "edits", "match"),
    [
        ("fig6a", {"fig6a_rank1": ["grid.seed=3"]}, "same delay and seeds"),
        ("fig9", {"fig9_T6": ["grid.lr.num=5"]}, "share the seeds and lr grid"),
        ("fig3b", {"fig3b": ["grid.lr=[0.003, 0.02]"]}, "trapping lr"),
        ("fig3a", {"fig3a": ["training.optimizer='adam'"]}, "must train SGD on DA"),
        ("fig9", {"fig9_T4": ["task.timings={delay=20, response=30}"]}, "delay = response"),
        ("fig4e", {"fig4_dmts": ["checkpoints={log = 5}"]}, "checkpoints.every"),
    ],
)
def test_a_config_the_figure_cannot_train_is_refused(name, edits, match, monkeypatch):
    module, _ = MORE[name]
    _edited(monkeypatch, edits)
    with pytest.raises(ValueError, match=match):
        module.sizes(True)


def _calls(raise_after: int, calls: list | None = None):
    """A spy recording its calls' arguments (in ``calls``); it raises `_Trained` (carrying
    them) at call ``raise_after``, and returns dummy fractions (``frac``, ``final``) before."""
    calls = [] if calls is None else calls

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        if len(calls) == raise_after:
            raise _Trained(calls)
        lrs = np.asarray(args[0])
        return np.zeros(lrs.size), np.ones((lrs.size, kwargs["n_seeds"]))

    return spy


def _reproduce(name: str, quick: bool, tmp_path):
    with pytest.raises(_Trained) as got:
        registry.runner(name)(quick, tmp_path, key=jax.random.PRNGKey(0))
    return got.value.args


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_reproduce_fig3a_and_fig3b_train_their_configs(quick, monkeypatch, tmp_path):
    def spy(params, lr, epochs, checkpoints, *, chunk, preset, delay):
        raise _Trained(params[0].shape[0], np.atleast_1d(np.asarray(lr)).tolist(), epochs,
                       list(checkpoints), chunk, preset, delay)  # fmt: skip

    monkeypatch.setattr(fig3a, "train_checkpointed", spy)
    monkeypatch.setattr(fig3b, "train_checkpointed", spy)
    t = _toml("fig3a", quick)
    panels = [] if quick else [e - 1 for e in fig3a.PANELS]
    ckpts = sorted({*_every(t), *panels})
    assert _reproduce("fig3a", quick, tmp_path) == (
        1, [t["training"]["lr"]], t["training"]["epochs"], ckpts, t["training"]["chunk"],
        t["network"]["preset"], _steps(t, "delay"))  # fmt: skip
    t = _toml("fig3b", quick)
    lrs = np.repeat(t["grid"]["lr"], _seeds(t)).tolist()  # the same networks at both lrs
    assert _reproduce("fig3b", quick, tmp_path) == (
        2 * _seeds(t), lrs, t["training"]["epochs"], _every(t), t["training"]["chunk"],
        t["network"]["preset"], _steps(t, "delay"))  # fmt: skip


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
@pytest.mark.parametrize(
    ("name", "config"), [("fig4a", "fig4_dcd_strong_input"), ("fig4e", "fig4_dmts")]
)
def test_reproduce_fig4_trains_the_config_of_sweep(name, config, quick, monkeypatch, tmp_path):
    def spy(build, task, **kw):
        raise _Trained(task, kw)

    monkeypatch.setattr(fig4a, "sweep", spy)
    task, kw = _reproduce(name, quick, tmp_path)
    t = _toml(config, quick)
    assert type(task).__name__ == {"dcd": "DelayedCueDiscrimination",
                                   "dmts": "DelayedMatchToSample"}[t["task"]["name"]]  # fmt: skip
    assert {k: getattr(task, k) for k in t["task"]["timings"]} == {
        k: _steps(t, k) for k in t["task"]["timings"]}  # fmt: skip
    assert kw.pop("lrs") == [t["training"]["lr"]] and len(kw.pop("seeds")) == _seeds(t)
    clip = {"clip_norm": t["training"]["clip_norm"]} if "clip_norm" in t["training"] else {}
    assert kw == {"epochs": t["training"]["epochs"], "optimizer": t["training"]["optimizer"],
                  "batch": t["task"]["batch"], "checkpoints": dict(t["checkpoints"]),
                  "chunk": t["training"]["chunk"], **clip}  # fmt: skip


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_reproduce_fig6a_trains_the_configs_of_sweep(quick, monkeypatch, tmp_path):
    rank1: list = []
    monkeypatch.setattr(fig6a, "fraction_learned", _calls(raise_after=99, calls=rank1))
    monkeypatch.setattr(fig6a, "full_rank_fraction", _calls(raise_after=1))
    (full,) = _reproduce("fig6a", quick, tmp_path)[0]
    for (args, kw), config in zip([*rank1, full], fig6a.CONFIGS, strict=True):
        t = _toml(config, quick)
        np.testing.assert_allclose(args[0], np.logspace(*_logspace(t)), rtol=1e-12)
        assert kw.pop("key") is not None
        assert kw == {"n_seeds": _seeds(t), "epochs": t["training"]["epochs"],
                      "delay": _steps(t, "delay"), "chunk": t["training"]["chunk"]}  # fmt: skip


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_reproduce_fig9_trains_one_config_per_delay(quick, monkeypatch, tmp_path):
    monkeypatch.setattr(critical_delay, "fraction_learned", _calls(raise_after=len(FIG9[quick])))
    (calls,) = _reproduce("fig9", quick, tmp_path)
    for (args, kw), config in zip(calls, FIG9[quick], strict=True):
        t = _toml(config, quick)
        np.testing.assert_allclose(args[0], np.logspace(*_logspace(t)), rtol=1e-12)
        want = (_seeds(t), t["training"]["epochs"], _steps(t, "delay"), t["training"]["chunk"])
        assert (kw["n_seeds"], kw["epochs"], kw["delay"], kw["chunk"]) == want
