"""Figure registry: discovery, 'all', figure-number groups, unknown names."""

import pytest

from ghostmech.paper import registry


def test_discovers_figure_modules_in_order():
    names = registry.available()
    assert {"fig1", "fig2", "fig8a"} <= set(names)
    assert names.index("fig1") < names.index("fig2") < names.index("fig8a")
    for name in names:
        assert callable(registry.runner(name))


def test_resolve_all_and_groups():
    assert registry.resolve(["all"]) == registry.available()
    assert registry.resolve(["fig2", "fig1", "fig2"]) == ["fig2", "fig1"]
    assert "fig8a" in registry.resolve(["fig8"])


@pytest.mark.parametrize("bad", ["fig99", "fig8z", "nonsense", ""])
def test_unknown_figure_lists_allowed(bad):
    with pytest.raises(ValueError, match="allowed: all, fig1"):
        registry.resolve([bad])


def test_register_extra_figure(monkeypatch):
    monkeypatch.setattr(registry, "_EXTRA", {})
    registry.register("fig42", "ghostmech.paper.fig1")
    assert registry.resolve(["fig42"]) == ["fig42"]
    assert registry.available()[-1] == "fig42"
    with pytest.raises(ValueError, match="name"):
        registry.register("figure-three", "x")
