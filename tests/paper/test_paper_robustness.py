"""Robustness matrix: seed ranges, ISA environments, the per-claim tally, and one real run
under SSE4_2 rounding for the figures whose claims are statistical (Figs. 3B, 8B)."""

import subprocess
import sys
from pathlib import Path

import pytest

from ghostmech.paper import robustness

STATISTICAL_CHEAP = ("fig3b", "fig8b")  # fraction claims decided by exact tests, rank-one kernel


def test_parse_seeds():
    assert robustness.parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert robustness.parse_seeds("0,2,7") == [0, 2, 7]
    assert robustness.parse_seeds("3") == [3]
    assert robustness.parse_seeds("1-2,2-3") == [1, 2, 3]
    for bad in ("4-1", "a", "-1", ""):
        with pytest.raises(ValueError, match="`seeds`"):
            robustness.parse_seeds(bad)


def test_isa_env_sets_exactly_one_max_isa_flag():
    base = {"XLA_FLAGS": "--xla_cpu_max_isa=AVX512 --xla_foo=1", "OTHER": "x"}
    env = robustness.isa_env("SSE4_2", base)
    assert env["XLA_FLAGS"] == "--xla_foo=1 --xla_cpu_max_isa=SSE4_2" and env["OTHER"] == "x"
    assert robustness.isa_env("default", base)["XLA_FLAGS"] == "--xla_foo=1"
    assert "XLA_FLAGS" not in robustness.isa_env("default", {"XLA_FLAGS": "--xla_cpu_max_isa=AVX2"})
    with pytest.raises(ValueError, match="`isa`"):
        robustness.isa_env("AVX2 --evil", {})


def _run(isa, seed, verdicts, rc=0):
    figs = {}
    for fig, claims in verdicts.items():
        figs[fig] = {"claims": [{"id": c, "verdict": v} for c, v in claims.items()]}
    return {"isa": isa, "seed": seed, "rc": rc, "summary": {"figures": figs}, "wall_s": 1.0}


def test_tally_counts_passes_and_names_the_failing_runs():
    runs = [
        _run("default", 0, {"fig8c": {"rescue": "pass"}, "fig9": {"exp": "pass"}}),
        _run("SSE4_2", 0, {"fig8c": {"rescue": "fail"}, "fig9": {"exp": "pass"}}),
        _run("AVX2", 1, {"fig9": {"exp": "pass"}}, rc=1),  # fig8c did not finish
    ]
    t = robustness.tally(runs, ["fig8c", "fig9"])
    assert t["fig8c:rescue"] == {
        "passes": 1,
        "not_run": 0,
        "runs": 3,
        "failed": ["SSE4_2/seed0", "AVX2/seed1"],
    }
    assert t["fig9:exp"] == {"passes": 3, "not_run": 0, "runs": 3, "failed": []}
    assert not robustness.robust(t["fig8c:rescue"]) and robustness.robust(t["fig9:exp"])
    md = robustness.matrix_markdown(runs, ["fig8c", "fig9"])
    assert "| fig8c:rescue | 1 / 3 ✗ | SSE4_2/seed0, AVX2/seed1 |" in md
    assert "| fig9:exp | 3 / 3 | – |" in md


def test_not_run_is_not_a_failure():
    runs = [_run("default", s, {"fig6b": {"trapped": "not-run", "fast": "pass"}}) for s in (0, 1)]
    t = robustness.tally(runs)
    assert t["fig6b:trapped"] == {"passes": 0, "not_run": 2, "runs": 2, "failed": []}
    assert robustness.robust(t["fig6b:trapped"])
    assert "0 / 2 (not decided at this size: 2) |" in robustness.matrix_markdown(runs)


def _fingerprint(isa: str) -> str:
    code = "from ghostmech.paper.robustness import fingerprint; print(fingerprint())"
    out = subprocess.run(
        [sys.executable, "-c", code], env=robustness.isa_env(isa), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not _has_avx2(), reason="SSE4_2 emulates another rounding only on AVX2+ CPUs")
def test_sse42_rounds_differently():
    """Control for the emulation itself: the flag must reach XLA and change the last bits."""
    assert _fingerprint("SSE4_2") != _fingerprint("default")


def test_statistical_figures_pass_under_sse42_rounding(tmp_path):
    r = robustness.run_one(STATISTICAL_CHEAP, 0, "SSE4_2", tmp_path / "run")
    log = (tmp_path / "run" / "log.txt").read_text()
    assert r["rc"] == 0, log[-3000:]
    assert "--xla_cpu_max_isa=SSE4_2" in r["run"]["xla_flags"]
    t = robustness.tally([r], STATISTICAL_CHEAP)
    assert set(t) >= {"fig3b:trapped_above_critical_lr", "fig8b:lower_beta_rescues_non_monotone"}
    assert all(robustness.robust(row) and row["runs"] == 1 for row in t.values()), t
    assert t["fig3b:trapped_above_critical_lr"]["passes"] == 1


def test_command_line_rejects_bad_arguments(capsys):
    assert robustness.main(["fig1", "--seeds", "5-1", "--out", "x"]) == 2
    assert "`seeds`" in capsys.readouterr().err
    assert robustness.main(["fig99", "--out", "x"]) == 2
    assert robustness.main(["fig1", "--isas", "default,SSE 4", "--out", "x"]) == 2


def test_resume_reads_back_finished_cells_and_reruns_the_rest(tmp_path, monkeypatch):
    """A finished cell (summary covering the figures, run.json under the same ISA) is read
    back; a cell cut off before run.json, or run under another ISA, is run again."""
    import json

    summary = {"figures": {"fig2": {"claims": [{"id": "c", "verdict": "pass"}]}}}
    one = "--xla_cpu_multi_thread_eigen=false"  # what import ghostmech adds in the cell
    cells = (
        ("default", 0, one),
        ("SSE4_2", 0, f"{one} --xla_cpu_max_isa=AVX2"),
        ("default", 2, ""),
    )  # fmt: skip  (other ISA; threaded matmuls: both rerun)
    for isa, seed, flags in cells:
        cell = tmp_path / isa / f"seed{seed}"
        cell.mkdir(parents=True)
        (cell / "summary.json").write_text(json.dumps(summary))
        (cell / "run.json").write_text(json.dumps({"xla_flags": flags, "wall_s": 7.0}))
    (tmp_path / "default" / "seed1").mkdir()
    (tmp_path / "default" / "seed1" / "summary.json").write_text(json.dumps(summary))
    ran = []

    def fake(figures, seed, isa, out, timeout=None):
        ran.append((isa, seed))
        return {"seed": seed, "isa": isa, "rc": 0, "summary": summary, "run": {}, "wall_s": 1.0}

    monkeypatch.setattr(robustness, "run_one", fake)
    runs = robustness.run_matrix(["fig2"], [0, 1, 2], ["default", "SSE4_2"], tmp_path,
                                 resume=True)  # fmt: skip
    assert ran == [("SSE4_2", 0), ("default", 1), ("SSE4_2", 1), ("default", 2), ("SSE4_2", 2)]
    assert runs[0]["wall_s"] == 7.0 and len(runs) == 6
    assert robustness.tally(runs)["fig2:c"]["passes"] == 6
    ran.clear()
    robustness.run_matrix(["fig2"], [0], ["default"], tmp_path, resume=False)
    assert ran == [("default", 0)]  # without resume every cell runs
