"""Networks from elsewhere: plain npz, custom state dicts and torch nn.RNN → RateRNN.

Round trips must give identical trajectories; the nn.RNN mapping (α = 1,
b = b_ih + b_hh) is checked against PyTorch itself (a second implementation),
and the finder on an imported network against fixed points known in closed form.
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from ghostmech.dynamics import find_points, from_network
from ghostmech.networks import make_network, to_npz
from ghostmech.networks.external import (
    IncompleteImportWarning,
    file_kind,
    from_plain_npz,
    from_state_dict,
    from_torch_rnn,
    load_network,
    load_torch,
    read_network,
    to_plain_npz,
    to_torch_rnn_state_dict,
)


def _net(rank, alpha=0.5, n=12, n_in=2):
    return make_network(n=n, rank=rank, n_in=n_in, n_out=1, init={}, readout="linear",
                        alpha=alpha, noise_std=0.0, key=jax.random.key(1))  # fmt: skip


def _inputs(n_in=2, steps=15):
    return jax.random.normal(jax.random.key(2), (steps, n_in))


def test_plain_npz_round_trip_gives_the_same_trajectories(tmp_path):
    net = _net("full")
    back = from_plain_npz(to_plain_npz(net, tmp_path / "w.npz"))
    (r1, z1), (r2, z2) = net(_inputs()), back(_inputs())
    assert np.array_equal(r1, r2) and np.array_equal(z1, z2)  # the same float32 arrays
    assert back.alpha == net.alpha and back.read == net.read


def test_low_rank_exports_w_equals_m_nT(tmp_path):
    net = _net(2)
    back = from_plain_npz(to_plain_npz(net, tmp_path / "w.npz"))
    w = np.asarray(net.m, np.float64) @ np.asarray(net.nT, np.float64).T
    np.testing.assert_allclose(back.recurrent(), w, rtol=0, atol=1e-6)  # float32 product


def test_ghostmech_npz_is_read_as_is(tmp_path):
    net = _net(1)
    back = load_network(to_npz(net, tmp_path / "g.npz"))
    assert back.rank == 1
    for a, b in zip(jax.tree.leaves(net), jax.tree.leaves(back), strict=True):
        assert np.array_equal(a, b)


def test_npz_without_alpha_needs_it(tmp_path):
    np.savez(tmp_path / "x.npz", W=np.eye(3), b=np.zeros(3))
    with pytest.raises(ValueError, match="`alpha`"):
        from_plain_npz(tmp_path / "x.npz")
    with pytest.warns(IncompleteImportWarning) as rec:
        net = from_plain_npz(tmp_path / "x.npz", alpha=0.2)
    assert [str(w.message).split(": ")[1].split(" (")[0] for w in rec] == [
        "no input weights found", "no readout weights found"]  # fmt: skip
    assert net.alpha == 0.2 and net.n_in == 1 and net.n_out == 1  # zero input and readout


def test_npz_without_weights_is_refused(tmp_path):
    np.savez(tmp_path / "x.npz", b=np.zeros(3), alpha=0.5)
    with pytest.raises(ValueError, match="recurrent weights"):
        from_plain_npz(tmp_path / "x.npz")


def test_custom_state_dict_by_names_and_aliases():
    rng = np.random.default_rng(0)
    w, w_in, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 2)), rng.normal(size=5)
    sd = {"rnn.J": w, "inp.W": w_in, "bias": b}
    with pytest.warns(IncompleteImportWarning, match="no readout weights"):  # the only one
        net = from_state_dict(sd, alpha=0.3, names={"w": "rnn.J", "w_in": "inp.W"})
    np.testing.assert_allclose(net.recurrent(), w, rtol=1e-6)
    np.testing.assert_allclose(net.b, b, rtol=1e-6)
    with pytest.raises(ValueError, match="not a key"):
        from_state_dict(sd, alpha=0.3, names={"w": "missing"})
    with pytest.raises(ValueError, match="`names` key"):
        from_state_dict(sd, alpha=0.3, names={"weights": "rnn.J"})


def test_finder_on_imported_network_finds_the_closed_form_fixed_points(tmp_path):
    # W = 2 I, b = 0, per neuron r = tanh(2 r): 0 (unstable) and ±x*, x* = tanh(2 x*)
    np.savez(tmp_path / "w.npz", W=2.0 * np.eye(2), b=np.zeros(2), alpha=1.0,
             W_in=np.zeros((2, 1)), w_out=np.zeros((1, 2)), b_out=np.zeros(1))  # fmt: skip
    f = from_network(load_network(tmp_path / "w.npz"))
    xs = brentq(lambda x: x - np.tanh(2 * x), 0.5, 1.5)
    starts = np.array([[1.2, 0.8], [-0.7, -1.1], [0.9, -1.0], [0.05, -0.02]])
    pts = find_points(f, starts)
    got = sorted(tuple(np.round(x, 8)) for x in pts.xstar[pts.status == "converged"])
    want = sorted({(round(xs, 8), round(xs, 8)), (-round(xs, 8), -round(xs, 8)),
                   (round(xs, 8), -round(xs, 8)), (0.0, 0.0)})  # fmt: skip
    assert got == want
    kinds = {tuple(np.round(x, 6)): k for x, k in zip(pts.xstar, pts.kind, strict=True)}
    assert kinds[(0.0, 0.0)] == "unstable" and kinds[(round(xs, 6), round(xs, 6))] == "stable_node"


def test_missing_torch_gives_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="pip install torch"):
        load_torch(tmp_path / "x.pt")


torch = pytest.importorskip("torch", reason="torch not installed (pip install torch==2.13.0)")


def _torch_rnn(n_in=3, n=8, **kw):
    torch.manual_seed(0)
    return torch.nn.RNN(n_in, n, **kw), torch.nn.Linear(n, 1)


def test_torch_rnn_is_the_alpha_one_rate_network():
    rnn, lin = _torch_rnn()
    u = torch.randn(20, 1, 3)
    h0 = 0.3 * torch.randn(1, 1, 8)
    with torch.no_grad():
        out, _ = rnn(u, h0)
        z = torch.sigmoid(lin(out))
    net = from_torch_rnn(rnn, lin, h0=h0[0, 0])
    assert net.alpha == 1.0 and net.read == "after"
    rates, zz = net(jnp.asarray(u[:, 0].numpy()))
    np.testing.assert_allclose(rates, out[:, 0].numpy(), atol=2e-6)  # float32 rounding
    np.testing.assert_allclose(zz, z[:, 0].numpy(), atol=2e-6)


def test_torch_rnn_round_trip_through_a_pt_file(tmp_path):
    net = _net("full", alpha=1.0, n=6, n_in=2)
    rnn, _ = _torch_rnn(n_in=2, n=6)
    rnn.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_rnn_state_dict(net).items()})
    torch.save(rnn.state_dict(), tmp_path / "rnn.pt")
    with pytest.warns(IncompleteImportWarning, match="no readout weights"):  # none saved
        back = load_network(tmp_path / "rnn.pt")
    u = _inputs(2)
    with torch.no_grad():
        out, _ = rnn(torch.from_numpy(np.array(u))[:, None], torch.zeros(1, 1, 6))
    np.testing.assert_allclose(net(u)[0], out[:, 0].numpy(), atol=2e-6)
    assert np.array_equal(net(u)[0], back(u)[0])


@pytest.mark.parametrize("kw", [{"nonlinearity": "relu"}, {"num_layers": 2}])
def test_unsupported_torch_rnn_is_refused(kw):
    rnn, _ = _torch_rnn(**kw)
    with pytest.raises(ValueError, match="one-layer"):
        from_torch_rnn(rnn)


def test_alpha_other_than_one_cannot_be_exported_to_nn_rnn():
    with pytest.raises(ValueError, match="alpha"):
        to_torch_rnn_state_dict(_net("full", alpha=0.5))


# --- nothing dropped silently: shapes, unused and missing arrays, the file's kind ---


def test_shape_errors_name_the_array(tmp_path):
    np.savez(tmp_path / "b.npz", W=0.5 * np.eye(10), b=np.zeros(3), alpha=0.5)
    with pytest.raises(ValueError, match=r"'b'.*\(3,\).*\[10\]"):
        load_network(tmp_path / "b.npz")
    np.savez(tmp_path / "i.npz", W=0.5 * np.eye(10), W_in=np.zeros(3), alpha=0.5)
    with pytest.raises(ValueError, match="'W_in'"):
        load_network(tmp_path / "i.npz")
    np.savez(tmp_path / "o.npz", W=0.5 * np.eye(4), w_out=np.zeros((2, 3)), alpha=0.5)
    with pytest.raises(ValueError, match="'w_out'"):
        load_network(tmp_path / "o.npz")
    np.savez(tmp_path / "w.npz", W=np.zeros((4, 3)), alpha=0.5)
    with pytest.raises(ValueError, match="square"):
        load_network(tmp_path / "w.npz")


def test_unused_array_is_named(tmp_path):
    net = _net("full")
    path = to_plain_npz(net, tmp_path / "w.npz")
    with np.load(path) as d:
        arrays = dict(d)
    np.savez(tmp_path / "extra.npz", **arrays, decoder2=np.ones(3))
    with pytest.warns(IncompleteImportWarning, match="decoder2"):
        load_network(tmp_path / "extra.npz")
    got = read_network(path)  # the plain file itself: every array used, none missing
    assert got.unused == () and got.defaulted == ()


def test_the_files_kind_comes_from_its_content(tmp_path):
    (tmp_path / "text.npz").write_text("not an archive")
    (tmp_path / "c.toml").write_text('name = "x"')
    for name in ("text.npz", "c.toml"):
        with pytest.raises(ValueError, match="neither a numpy .npz archive nor a torch.save"):
            load_network(tmp_path / name)
    path = to_plain_npz(_net("full"), tmp_path / "weights.bin")  # any name
    assert file_kind(path) == "npz" and load_network(path).n == 12


def test_npz_with_a_torch_format_is_refused_by_name(tmp_path):
    path = to_plain_npz(_net("full"), tmp_path / "w.npz")
    for fmt in ("torch-rnn", "torch-state-dict"):
        with pytest.raises(ValueError, match=f"--format {fmt}.*not a torch.save"):
            load_network(path, fmt=fmt)
    assert np.array_equal(load_network(path, fmt="npz").b, load_network(path).b)


def test_missing_torch_names_torch_for_a_pt_file(monkeypatch, tmp_path):
    (tmp_path / "x.pt").write_bytes(b"PK\x03\x04")  # any zip header: read as torch
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises((ImportError, ValueError), match="torch"):
        load_network(tmp_path / "x.pt")


class _Whole(torch.nn.Module):
    """A whole model as users save it: an nn.RNN and a readout Linear under prefixes."""

    def __init__(self, n_in=3, n=8, n_out=2, **kw):
        super().__init__()
        torch.manual_seed(3)
        self.rnn = torch.nn.RNN(n_in, n, batch_first=True, **kw)
        self.readout = torch.nn.Linear(n, n_out)


def _torch_trajectory(model, u):
    with torch.no_grad():
        out, _ = model.rnn(torch.from_numpy(np.array(u))[None])
        return out[0].numpy(), torch.sigmoid(model.readout(out))[0].numpy()


def test_whole_model_state_dict_round_trip(tmp_path):
    """Keys rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, readout.*: the biases are
    summed and the readout found, for auto and both torch formats alike; the rates
    and outputs equal PyTorch's own forward pass (a second implementation)."""
    model = _Whole()
    sd = model.state_dict()
    assert float(sd["rnn.bias_ih_l0"].abs().max()) > 0.05  # biases that matter
    torch.save(sd, tmp_path / "model.pt")
    u = _inputs(3, 25)
    rates, z = _torch_trajectory(model, u)
    nets = {}
    for fmt in ("auto", "torch-rnn", "torch-state-dict"):
        got = read_network(tmp_path / "model.pt", fmt=fmt)
        assert got.unused == () and got.defaulted == (), fmt
        nets[fmt] = got.net
        r, zz = got.net(u)
        np.testing.assert_allclose(r, rates, atol=3e-6)
        np.testing.assert_allclose(zz, z, atol=3e-6)
    for fmt in ("torch-rnn", "torch-state-dict"):  # auto and explicit: the same network
        for a, b in zip(jax.tree.leaves(nets["auto"]), jax.tree.leaves(nets[fmt]), strict=True):
            assert np.array_equal(a, b)
    b = sd["rnn.bias_ih_l0"].numpy() + sd["rnn.bias_hh_l0"].numpy()
    np.testing.assert_allclose(nets["auto"].b, b, atol=1e-7)
    # negative control: without its biases (the old silent b = 0) the network differs
    with pytest.warns(IncompleteImportWarning, match="no bias"):
        dropped = from_state_dict({k: v for k, v in sd.items() if not k.startswith("rnn.bias")})
    assert np.abs(np.asarray(dropped(u)[0]) - rates).max() > 1e-2


def test_whole_model_extra_layers_are_named(tmp_path):
    model = _Whole()
    sd = dict(model.state_dict()) | {"encoder.weight": torch.ones(5, 3)}
    with pytest.warns(IncompleteImportWarning, match="encoder.weight"):
        from_state_dict(sd)
    sd["proj.weight"] = torch.ones(2, 8)  # a second [n_out, n] layer: `readout` wins by name
    with pytest.warns(IncompleteImportWarning, match="encoder.weight, proj.weight"):
        from_state_dict(sd)
    with pytest.warns(
        IncompleteImportWarning, match="encoder.weight, readout.bias, readout.weight"
    ):
        net = from_state_dict(sd, names={"w_out": "proj.weight"})
    assert np.array_equal(net.readout.w_out, np.ones((2, 8)))
    two = {k: v for k, v in sd.items() if not k.startswith("readout")} | {
        "proj2.weight": sd["proj.weight"]
    }
    with pytest.raises(ValueError, match="could be the readout"):  # no name decides
        from_state_dict(two)


def test_rnn_without_bias_warns_and_uses_zero(tmp_path):
    model = _Whole(bias=False)
    with pytest.warns(IncompleteImportWarning, match="no bias"):
        net = from_state_dict(model.state_dict())
    assert not np.any(np.asarray(net.b))
    sd = {k: v for k, v in _Whole().state_dict().items() if k != "rnn.bias_hh_l0"}
    with pytest.warns(IncompleteImportWarning, match="no rnn.bias_hh_l0 found"):
        net = from_state_dict(sd)
    np.testing.assert_allclose(net.b, sd["rnn.bias_ih_l0"].numpy(), atol=1e-7)


@pytest.mark.parametrize(
    ("module", "match"),
    [(lambda: torch.nn.LSTM(3, 8), "nn.LSTM"), (lambda: torch.nn.GRU(3, 8), "nn.GRU"),
     (lambda: torch.nn.RNN(3, 8, num_layers=2), "several layers"),
     (lambda: torch.nn.RNN(3, 8, bidirectional=True), "several layers")],
)  # fmt: skip
def test_gated_and_stacked_rnns_say_what_is_supported(tmp_path, module, match):
    torch.save(module().state_dict(), tmp_path / "m.pt")
    with pytest.raises(ValueError, match=f"{match}.*supported: one-layer"):
        load_network(tmp_path / "m.pt")


def test_whole_module_pickle_asks_for_the_state_dict(tmp_path):
    torch.save(torch.nn.RNN(3, 8), tmp_path / "m.pt")
    with pytest.raises(ValueError, match=r"state_dict"):
        load_network(tmp_path / "m.pt")
