"""``ghostmech analyze`` / ``report`` end to end on tiny shipped quick configs.

Done-when of the analysis command (issues 4 and 11): a rank-1 network trained on DA
shows a speed minimum forming, with its ε, and the passage its own trajectory makes
through it measured against the quadratic model (docs/theory.md §4); this network's
delay is a ramp (a shallow minimum), and it must not be called a ghost. A full-rank
DCD network has fixed points and ghost candidates, each judged. Both runs are made
with ``ghostmech sweep`` in a tmp dir (seconds). ε is re-derived here with numpy
finite differences of F(κ) = α(−κ + nᵀ tanh(mκ + b)), and the measured steps are
recounted on a numpy iteration of the latent map (second implementations).
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import numpy as np
import pytest

from ghostmech.cli import main
from ghostmech.dynamics import PASSAGE_KINDS, from_network, passage_time
from ghostmech.runs import open_run

# lr 0.016, seed 2: the loss drops near epoch 7,000 (one fixed point throughout) and
# a speed minimum is born by 13,000 (ε ≈ 1.6e-3, π/√ε ≈ 4 delays) that the trajectory
# crosses as a ramp (contrast ≈ 1.35 < 2): a shallow minimum, not a ghost.
RANK1 = ["--set", "training.lr=0.016", "--set", "grid.seed=[2]", "--set", "training.epochs=13000",
         "--set", "checkpoints.epochs=[0,8000,10000,13000]", "--set", "training.chunk=13000"]  # fmt: skip
# full-rank DCD at N = 30 (quick config otherwise): fixed point, then a ghost at 200,
# which turns into a saddle-node pair by 300.
DCD = ["--set", "network.n=30"]


@pytest.fixture(scope="module")
def rank1_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("r1") / "run"
    assert main(["sweep", "fig3a", "--quick", "--out", str(out), *RANK1]) == 0
    assert main(["analyze", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def dcd_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dcd") / "run"
    assert main(["sweep", "fig5_dcd", "--quick", "--out", str(out), *DCD]) == 0
    assert main(["analyze", str(out), "--point", "lr=0.01,seed=0", "--no-video"]) == 0
    return out


def _timeline(run_dir, label):
    return json.loads((run_dir / "analysis" / label / "timeline.json").read_text())


def _flow_numpy(net, kappa):
    m, n, b = (np.asarray(a, np.float64).ravel() for a in (net.m, net.nT, net.b))
    return net.alpha * (-kappa + np.tanh(np.multiply.outer(kappa, m) + b) @ n)


def test_rank1_da_minimum_forms_and_is_judged_on_the_trajectory(rank1_run):
    tl = _timeline(rank1_run, "lr=0.016_seed=2")
    assert tl["mode"] == "rank1" and tl["delay_steps"] == 20 and tl["system"] == "flow"
    rows = {r["epoch"]: r for r in tl["checkpoints"]}
    assert rows[0]["n_candidates"] == 0 and rows[0]["n_fixed"] == 1
    last = rows[13000]
    assert last["n_candidates"] == 1 and last["n_fixed"] == 1  # one fixed point: no bifurcation
    births = [e for e in tl["dynamics_events"] if e["kind"] == "ghost_birth"]
    jumps = [e["epoch"] for e in tl["learning_events"] if e["kind"] == "loss_jump"]
    assert births and jumps and births[0]["epoch"] > jumps[0]  # the minimum forms after the drop
    g = last["candidates"][0]
    assert g["passage_full"] == pytest.approx(np.pi / np.sqrt(g["eps"]), rel=1e-12)
    # second implementation of ε = F F''/2 at the minimum: numpy, central differences
    net = open_run(rank1_run).checkpoint(13000, lr=0.016, seed=2)
    k, h = g["x"][0], 1e-3
    F = _flow_numpy(net, np.array([k - h, k, k + h]))
    d1, d2 = (F[2] - F[0]) / (2 * h), (F[2] - 2 * F[1] + F[0]) / h**2
    assert abs(d1) < 1e-5 * abs(d2)  # F′ = 0 (O(h²) error)
    assert g["eps"] == pytest.approx(F[1] * d2 / 2, rel=1e-4)
    # ε predicts the simulated passage through the bottleneck window |s| ≤ 0.5 ...
    p = passage_time(from_network(net, latent=True), np.array([k]), window=0.5)
    assert p.status == "ok" and p.measured == pytest.approx(p.predicted_window, rel=0.02)
    # ... but the DA trajectory itself never spends π/√ε anywhere: recount its steps on a
    # numpy iteration κ ← κ + F(κ) from κ₀ = nᵀr₀ (rates read after each update)
    kap = [float(np.asarray(net.nT, float).ravel() @ np.asarray(net.r0, float))]
    for _ in range(40):
        kap.append(kap[-1] + float(_flow_numpy(net, np.array([kap[-1]]))[0]))
    kap = np.asarray(kap[1:])
    exit_ = int(np.argmax(kap > 1.0))  # readout Eq. 36: z > 1/2 ⇔ κ > κ_θ = 1
    in_b = np.abs(_flow_numpy(net, kap[:exit_])) <= 2 * abs(F[1])
    q = g["passage"]
    assert q["measured_delay"] == exit_ and q["measured_in_bottleneck"] == in_b.sum()
    assert abs(q["measured_delay"] - q["predicted_delay"]) <= 2  # quadratic model agrees
    assert g["kind"] == "shallow" and last["n_ghost"] == 0  # a ramp: contrast < 2
    assert q["contrast"] < 2 and g["passage_full"] > 3 * q["measured_delay"]
    assert not [e for e in tl["dynamics_events"] if e["kind"] == "bottleneck_forms"]


def test_rank1_outputs_and_table(rank1_run, capsys):
    folder = rank1_run / "analysis" / "lr=0.016_seed=2"
    for name in ("timeline.json", "flows.png", "timeline.png", "training.gif"):
        assert (folder / name).stat().st_size > 0, name
    from PIL import Image

    with Image.open(folder / "training.gif") as im:
        assert im.n_frames == 4  # one frame per checkpoint


def test_full_rank_dcd_finds_fixed_points_and_a_ghost(dcd_run):
    tl = _timeline(dcd_run, "lr=0.01_seed=0")
    assert tl["mode"] == "full"
    assert any(r["n_fixed"] >= 1 for r in tl["checkpoints"])
    cands = [g for r in tl["checkpoints"] for g in r["candidates"]]
    assert cands and all(g["eps"] > 0 and np.isfinite(g["passage_full"]) for g in cands)
    assert all(g["kind"] in PASSAGE_KINDS for g in cands)
    for g in (g for g in cands if g["kind"] == "ghost"):  # a ghost dominates its passage
        assert g["passage"]["contrast"] >= 2 and g["passage"]["share"] >= 0.5
    kinds = {e["kind"] for e in tl["dynamics_events"]}
    assert "ghost_birth" in kinds
    assert not (dcd_run / "analysis" / "lr=0.01_seed=0" / "training.gif").exists()


def test_bad_point_is_one_line_error(dcd_run, capsys):
    assert main(["analyze", str(dcd_run), "--point", "lr"]) == 2
    assert "--point" in capsys.readouterr().err
    assert main(["analyze", str(dcd_run), "--point", "lr=0.01,seed=0,beta=1"]) == 2


class _Imgs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("img", "video"):
            self.srcs.append(a.get("src", ""))
        for k in ("href", "src"):
            if k in a and not a[k].startswith("data:"):
                self.links.append(a[k])


def test_report_is_self_contained(rank1_run, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", str(rank1_run), "--out", str(out)]) == 0
    text = out.read_text()
    p = _Imgs()
    p.feed(text)
    assert p.links == []  # nothing fetched from outside the file
    assert any(s.startswith("data:image/gif;base64,") for s in p.srcs)  # the video
    assert sum(s.startswith("data:image/png;base64,") for s in p.srcs) == 3
    assert "ghost_birth" in text and "[training]" in text and "ghostmech 0" in text
    assert "shallow" in text  # the minimum's kind is in the report


def test_import_external_network_finds_its_fixed_points(tmp_path, capsys):
    # per neuron r = tanh(2r): fixed points 0 (unstable), ±x* (stable); products of them in 2-D
    np.savez(tmp_path / "w.npz", W=2.0 * np.eye(2), b=np.zeros(2))
    assert main(["import", str(tmp_path / "w.npz")]) == 2  # no alpha in the file
    assert "`alpha`" in capsys.readouterr().err
    out = tmp_path / "out"
    args = ["import", str(tmp_path / "w.npz"), "--alpha", "1", "--out", str(out), "--n-starts", "8"]
    assert main([*args, "--save", str(tmp_path / "g.npz")]) == 0
    pts = json.loads((out / "points.json").read_text())
    kinds = [k for k, s in zip(pts["kind"], pts["status"], strict=True) if s == "converged"]
    assert "stable_node" in kinds and (out / "points_pca.png").is_file()
    assert (tmp_path / "g.npz").is_file()


def test_import_map_is_labelled_by_multipliers(tmp_path, capsys):
    """α = 1 is a map r ↦ tanh(W r + b): h ↦ tanh(−1.5 h) oscillates away from 0
    (multiplier −1.5) although the flow eigenvalue is −2.5."""
    np.savez(tmp_path / "m.npz", W=-1.5 * np.eye(1), b=np.zeros(1), alpha=1.0)
    out = tmp_path / "out"
    assert main(["import", str(tmp_path / "m.npz"), "--out", str(out), "--n-starts", "8"]) == 0
    assert "discrete-time map" in capsys.readouterr().out
    pts = json.loads((out / "points.json").read_text())
    assert pts["system"] == "map"
    rows = [i for i, s in enumerate(pts["status"]) if s == "converged"]
    assert [pts["kind"][i] for i in rows] == ["unstable"]
    assert pts["max_abs_multiplier"][rows[0]] == pytest.approx(1.5, rel=1e-8)
