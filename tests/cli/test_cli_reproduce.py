"""`ghostmech reproduce`: panels, summary.json verdicts, an append-only REPRODUCTION.md."""

import json
import textwrap

import pytest

from ghostmech.cli import main
from ghostmech.paper import registry

FIGS = ("fig1", "fig2", "fig8a")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("repro")
    rc = main(["reproduce", *FIGS, "--quick", "--out", str(out), "--seed", "3"])
    return rc, out


def test_quick_run_writes_panels_and_passing_verdicts(quick_run):
    rc, out = quick_run
    assert rc == 0
    for fig in FIGS:
        assert (out / fig / f"{fig}.png").stat().st_size > 0
        assert (out / fig / f"{fig}.pdf").stat().st_size > 0
    figures = json.loads((out / "summary.json").read_text())["figures"]
    assert set(figures) == set(FIGS)
    for fig in FIGS:
        assert figures[fig]["mode"] == "quick" and figures[fig]["seed"] == 3
        assert figures[fig]["claims"], fig
        for claim in figures[fig]["claims"]:
            assert claim["verdict"] == "pass", (fig, claim)
            assert claim["measured"] and claim["tolerance"]


def test_second_run_appends_and_keeps_other_figures(quick_run, capsys):
    _, out = quick_run
    before = (out / "REPRODUCTION.md").read_text()
    n_rows = before.count("| quick |")
    assert main(["reproduce", "fig1", "--out", str(out)]) == 0
    after = (out / "REPRODUCTION.md").read_text()
    assert after.startswith(before)
    assert after.count("| quick |") > n_rows
    figures = json.loads((out / "summary.json").read_text())["figures"]
    assert set(figures) == set(FIGS)
    assert figures["fig1"]["seed"] == 0 and figures["fig2"]["seed"] == 3
    assert "all 4 claims pass" in capsys.readouterr().out


def test_unknown_figure_is_one_line_listing_allowed(tmp_path, capsys):
    assert main(["reproduce", "fig99", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "fig1" in err and "fig8a" in err and "all" in err
    assert not (tmp_path / "summary.json").exists()


@pytest.fixture
def failing_figure(tmp_path, monkeypatch):
    (tmp_path / "fake_fig97.py").write_text(
        textwrap.dedent("""
        from ghostmech.paper.claims import Claim, FigureResult

        def run(quick, out, *, key):
            return FigureResult("fig97", [Claim("c", "always fails", {"x": 1.0}, "fail")])
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_EXTRA", {})
    registry.register("fig97", "fake_fig97")


@pytest.fixture
def undecided_figure(tmp_path, monkeypatch):
    (tmp_path / "fake_fig96.py").write_text(
        textwrap.dedent("""
        from ghostmech.paper.claims import Claim, FigureResult

        def run(quick, out, *, key):
            return FigureResult("fig96", [Claim("a", "holds", {"x": 1.0}, "pass"),
                                          Claim("b", "full size only", {"x": 2.0}, "not-run")])
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_EXTRA", {})
    registry.register("fig96", "fake_fig96")


def test_undecided_claims_are_not_counted_as_passing(undecided_figure, tmp_path, capsys):
    assert main(["reproduce", "fig96", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "all 1 decided claims pass; 1 not decided at this size" in out
    assert "all 2 claims pass" not in out


@pytest.mark.parametrize(("strict", "code"), [(False, 0), (True, 1)])
def test_failed_claim_is_reported_and_strict_exits_1(
    failing_figure, tmp_path, capsys, strict, code
):
    out = tmp_path / "o"
    argv = ["reproduce", "fig97", "--out", str(out)] + (["--strict"] if strict else [])
    assert main(argv) == code
    assert "FAILED" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["figures"]["fig97"]["status"] == "fail"


def test_seeds_run_a_matrix_table(tmp_path, capsys):
    """`--seeds` runs each seed in a fresh process and tallies passes / runs per claim."""
    out = tmp_path / "m"
    assert main(["reproduce", "fig1", "--out", str(out), "--seeds", "2", "--strict"]) == 0
    md = (out / "matrix.md").read_text()
    assert "| fig1:" in md and "1 / 1 |" in md and "✗" not in md
    assert (out / "default" / "seed2" / "summary.json").exists()
    assert "robustness matrix" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "word"), [(["--seeds", "4-1"], "`seeds`"), (["--isa-matrix", "--full"], "--full")]
)
def test_matrix_arguments_fail_in_one_line(tmp_path, capsys, extra, word):
    assert main(["reproduce", "fig1", "--out", str(tmp_path / "x"), *extra]) == 2
    err = capsys.readouterr().err
    assert word in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
