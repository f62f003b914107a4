"""``analyze`` / ``report`` on an interrupted sweep, and ``--point`` as printed.

A sweep killed between blocks (here: the files a kill leaves, made from a finished
run by removing the last block's marker and state and the merged checkpoints) is
reported as "run incomplete (k/n blocks done)" with the command that finishes it;
running that command finishes the run with the same numbers as the uninterrupted one.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import shutil

import numpy as np
import pytest

from ghostmech.cli import main
from ghostmech.cli.analyze import POINT_RTOL
from ghostmech.runs import open_run
from ghostmech.runs.progress import network_epochs_by_part

# 2 lr (0.01, 0.0316) × 3 seeds, one network per block (6 blocks), 20 epochs
GRID = ["--set", "training.epochs=20", "--set", "checkpoints.epochs=[0,10,20]",
        "--set", "training.chunk=20", "--set", "grid.seed=3", "--set", "grid.lr.start=-2",
        "--set", "grid.lr.stop=-1.5", "--set", "grid.lr.num=2", "--networks-per-task", "1"]  # fmt: skip


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "run"
    rc, _, err = _run(["sweep", "fig3a", "--out", str(out), *GRID])
    assert rc == 0, err
    return out


def _kill_after(run, done_blocks: int):
    """The files a kill -9 leaves after ``done_blocks`` finished blocks."""
    blocks = sorted((run / "blocks").glob("block_*.done"))
    for marker in blocks[done_blocks:]:
        marker.unlink()
        shutil.rmtree(marker.with_suffix(""))
    shutil.rmtree(run / "checkpoints")
    progress = json.loads((run / "progress.json").read_text())
    (run / "progress.json").write_text(json.dumps(progress | {"finished": False}))
    return len(blocks)


def test_killed_sweep_is_reported_incomplete_with_the_command_that_finishes_it(finished, tmp_path):
    run = tmp_path / "killed"
    shutil.copytree(finished, run)
    total = _kill_after(run, 4)
    for command in (["analyze", str(run)], ["report", str(run), "--out", str(tmp_path / "r.html")]):
        rc, out, err = _run(command)
        assert rc == 2 and out == "" and "Traceback" not in err
        assert err.startswith(f"error: run incomplete (4/{total} blocks done): rerun `ghostmech ")
        assert "no checkpoints" not in err
    resume = shlex.split(re.search(r"`ghostmech (.*)`", err).group(1))
    rc, _, err = _run(resume)
    assert rc == 0, err
    a, b = open_run(run).metrics, open_run(finished).metrics
    assert np.array_equal(a.loss.values, b.loss.values, equal_nan=True)  # the same run
    rc, out, _ = _run(["analyze", str(run), "--no-video"])
    assert rc == 0 and "the first of 6 grid points" in out


def test_network_epochs_count_finished_and_running_blocks(finished, tmp_path):
    run = tmp_path / "killed"
    shutil.copytree(finished, run)
    assert network_epochs_by_part(open_run(run)) == {"None": (6 * 20, 6 * 20)}
    total = _kill_after(run, 4)  # 4 finished blocks; the other 2 never started:
    for epoch_file in sorted((run / "blocks").glob("block_*.epoch"))[4:]:
        epoch_file.unlink()
    assert network_epochs_by_part(open_run(run)) == {"None": (4 * 20, total * 20)}
    # a running block counts the epochs its .epoch file says are on disk
    (run / "blocks" / "block_0004.epoch").write_text("10")
    assert network_epochs_by_part(open_run(run)) == {"None": (4 * 20 + 10, total * 20)}


def test_negative_control_a_finished_run_is_not_incomplete(finished, tmp_path):
    rc, out, err = _run(["analyze", str(finished), "--no-video", "--out", str(tmp_path / "a"),
                         "--point", "lr=0.01,seed=2"])  # fmt: skip
    assert rc == 0 and "incomplete" not in err + out
    assert (tmp_path / "a" / "lr=0.01_seed=2" / "timeline.json").is_file()


def test_point_accepts_values_as_printed(finished, tmp_path):
    lrs = open_run(finished).grid.coords["lr"]
    assert lrs[1] == pytest.approx(0.0316228, rel=1e-6)
    rc, out, err = _run(["analyze", str(finished), "--no-video", "--out", str(tmp_path),
                         "--point", "lr=0.0316,seed=1"])  # 0.07 % from the grid value  # fmt: skip
    assert rc == 0, err
    assert (tmp_path / f"lr={lrs[1]:g}_seed=1" / "timeline.json").is_file()
    # just outside the tolerance: refused, with the grid's values
    off = lrs[1] * (1 + 2 * POINT_RTOL)
    rc, _, err = _run(["analyze", str(finished), "--point", f"lr={off:.6g},seed=1"])
    assert rc == 2 and "not on the grid" in err and "0.0316228" in err
    rc, _, err = _run(["analyze", str(finished), "--point", "lr=0.01,seed=7"])
    assert rc == 2 and "seed=7" in err and "0, 1, 2" in err
    rc, _, err = _run(["analyze", str(finished), "--point", "lr=0.01"])
    assert rc == 2 and "must also give seed" in err


def test_report_with_out_elsewhere_leaves_the_run_untouched(finished, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    rc, out, err = _run(["report", str(run), "--out", str(tmp_path / "r.html"), "--no-video"])
    assert rc == 0, err
    assert (tmp_path / "r.html").stat().st_size > 0
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before


def test_run_trained_in_one_piece_counts_epochs(tmp_path):
    """A run of the library's in-process path (no blocks) interrupted after one chunk."""
    from ghostmech.runs import load_config, resolve_config, run_experiment

    cfg = load_config(resolve_config("fig3a", quick=True),
                      ["training.epochs=20", "training.chunk=10", "checkpoints.epochs=[0,20]"])  # fmt: skip

    class Stop(Exception):
        pass

    def stop(part, epoch):
        raise Stop

    with pytest.raises(Stop):
        run_experiment(cfg, tmp_path / "run", on_chunk=stop)
    rc, _, err = _run(["analyze", str(tmp_path / "run")])
    assert rc == 2 and "run incomplete (10/20 network-epochs done)" in err
    resume = shlex.split(re.search(r"`ghostmech (.*)`", err).group(1))
    assert _run(resume)[0] == 0
    assert open_run(tmp_path / "run").status == "finished"


def test_sweep_first_names_a_rank_or_fails_in_one_line(tmp_path):
    """``--first`` with a rank the grid lacks, or on a grid without ranks: one line naming
    ``--first``, exit 2 (a usage error), nothing written."""
    for argv, msg in (
        (
            ["sweep", "fig6b", "--first", "7"],
            "--first (=7): not a rank of this grid; its ranks are 1, 100",
        ),
        (["sweep", "fig3a", *GRID, "--first", "1"], "--first: this grid has no rank parts"),
    ):
        out = tmp_path / argv[1]
        rc, stdout, err = _run([*argv, "--out", str(out)])
        text = stdout + err
        assert rc == 2 and msg in text and "Traceback" not in text, text
        assert len([line for line in text.splitlines() if line.strip()]) == 1, text
        assert not (out / "progress.json").exists()
