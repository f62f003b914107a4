"""`ghostmech canonical ...`: printed numbers match the library; bad input is one line, exit 2."""

import re

import numpy as np
import pytest

from ghostmech import canonical as cm
from ghostmech.cli import main


def _run(capsys, *argv):
    rc = main(["canonical", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_critical_lr_prints_both_scales(capsys):
    rc, out, _ = _run(capsys, "critical-lr", "--T", "100")
    assert rc == 0
    for value in (
        cm.critical_lr(100.0, scale="raw"),
        cm.critical_lr(100.0, scale="per_T"),
        cm.optimum(100.0),
        cm.point_of_no_return(100.0),
    ):
        assert f"{value:.4e}" in out
    assert "9.1321e-10" in out and "9.1321e-08" in out  # Eq. 23 at T = 100


@pytest.mark.parametrize("value", ["-1", "abc", "0", "inf"])
def test_bad_T_is_one_line_exit_2(capsys, value):
    rc, out, err = _run(capsys, "critical-lr", "--T", value)
    assert rc == 2
    assert "Traceback" not in err + out
    assert err.startswith("error:") and "T" in err
    assert out == ""


def test_landscape_rows_match_library(capsys, tmp_path):
    plot = tmp_path / "land.png"
    rc, out, _ = _run(
        capsys, "landscape", "--points", "4", "--lo", "0.5", "--hi", "2", "--plot", str(plot)
    )
    assert rc == 0 and plot.stat().st_size > 0
    eps = np.linspace(0.5, 2.0, 4) * cm.optimum(100.0)
    for e, L in zip(eps, np.asarray(cm.loss(eps, 100.0, scale="per_T")), strict=True):
        assert f"{L:.4g}" in out, (e, L)


def test_descend_reports_plateau_and_trapping(capsys, tmp_path):
    rc, out, _ = _run(capsys, "descend", "--scale", "raw", "--lr", "1e-10", "--lr", "1e-9",
                      "--epochs", "2000", "--plot", str(tmp_path / "d.pdf"))  # fmt: skip
    assert rc == 0
    d = cm.descend(10 * cm.optimum(100.0), 1e-10, 2000, T=100.0)
    rows = [line for line in out.splitlines() if re.search(r"1e-(09|10)", line)]
    assert str(int(d.plateau_end)) in rows[0] and "False" in rows[0]
    assert "True" in rows[1] and "never" not in rows[0]


def test_descend_defaults_are_the_papers_fig2_runs_on_l_over_t(capsys):
    """Default --scale per_T with lrs 1e-8, 1e-7 is the raw-loss descent at 1e-10, 1e-9
    (T = 100: the gradient of L/T is ∂L/∂ε / T), row for row."""
    rc, out, _ = _run(capsys, "descend", "--epochs", "2000")
    assert rc == 0 and "per_T loss" in out
    rows = [line.split("│")[2:] for line in out.splitlines() if re.search(r"│ 1e-0[78]", line)]
    rc, raw, _ = _run(capsys, "descend", "--scale", "raw", "--lr", "1e-10", "--lr", "1e-9",
                      "--epochs", "2000")  # fmt: skip
    raw_rows = [
        line.split("│")[2:] for line in raw.splitlines() if re.search(r"│ 1e-(09|10)", line)
    ]
    assert len(rows) == 2 and [r[:2] + r[3:] for r in rows] == [r[:2] + r[3:] for r in raw_rows]
    for r, q in zip(rows, raw_rows, strict=True):  # the loss itself differs by the factor T
        assert float(q[2]) / float(r[2]) == pytest.approx(100.0, rel=1e-3)


def test_every_subcommand_has_the_same_scale_default(capsys):
    for command in ("critical-lr", "landscape", "descend", "scaling"):
        rc, out, _ = _run(capsys, command, "--help")
        assert rc == 0
        assert re.search(r"--scale.*?\[default: per_T\]", out, re.S), command


def test_scaling_prints_theory_and_exponent(capsys):
    rc, out, _ = _run(capsys, "scaling", "--T", "50", "--T", "100")
    assert rc == 0
    for T in (50.0, 100.0):
        assert f"{cm.critical_lr(T, scale='per_T'):.4e}" in out
    exponent = float(re.search(r"exponent (-?[\d.]+)", out).group(1))
    assert exponent == pytest.approx(-4.0, abs=0.05)


@pytest.mark.parametrize("command", ["landscape", "descend", "critical-lr", "scaling"])
def test_help(capsys, command):
    rc, out, _ = _run(capsys, command, "--help")
    assert rc == 0 and "Usage" in out
