"""Verdict helpers and the reproduction record (summary.json merge, REPRODUCTION.md append)."""

import json
import math

import pytest

from ghostmech.paper.claims import (
    Claim,
    FigureResult,
    record,
    verdict_all,
    verdict_close,
    verdict_log_close,
)


@pytest.mark.parametrize(
    ("measured", "expected", "rtol", "verdict"),
    [
        (1.04, 1.0, 0.05, "pass"),
        (1.06, 1.0, 0.05, "fail"),
        (math.nan, 1.0, 0.5, "fail"),
        (-1.0, -1.02, 0.05, "pass"),
    ],
)
def test_verdict_close(measured, expected, rtol, verdict):
    assert verdict_close(measured, expected, rtol=rtol) == verdict


def test_verdict_log_close_and_all():
    assert verdict_log_close(2e-10, 1e-10, decades=0.5) == "pass"
    assert verdict_log_close(1e-9, 1e-10, decades=0.5) == "fail"
    assert verdict_log_close(-1e-10, 1e-10, decades=5) == "fail"
    assert verdict_all(["pass", "pass"]) == "pass"
    assert verdict_all(["pass", "fail"]) == "fail"
    assert verdict_all([]) == "fail"


def test_claim_rejects_unknown_verdict():
    with pytest.raises(ValueError, match="verdict"):
        Claim("x", "s", {}, "maybe")


def _result(fig, verdict, value):
    return FigureResult(fig, [Claim("c", "s", {"v": value}, verdict, "tol")], [], quick=True)


def test_record_merges_summary_and_appends_markdown(tmp_path):
    record(tmp_path, [_result("fig1", "pass", 1.0), _result("fig2", "fail", 2.0)])
    first_md = (tmp_path / "REPRODUCTION.md").read_text()
    record(tmp_path, [_result("fig1", "fail", 3.0)])
    md = (tmp_path / "REPRODUCTION.md").read_text()
    assert md.startswith(first_md)  # earlier rows kept verbatim
    assert md.count("| fig1 |") == 2 and md.count("# Reproduction record") == 1
    figs = json.loads((tmp_path / "summary.json").read_text())["figures"]
    assert figs["fig1"]["claims"][0]["measured"] == {"v": 3.0}  # replaced
    assert figs["fig1"]["status"] == "fail"
    assert figs["fig2"]["claims"][0]["verdict"] == "fail"  # kept
