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
    from_plain_npz,
    from_state_dict,
    from_torch_rnn,
    load_network,
    load_torch,
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
    net = from_plain_npz(tmp_path / "x.npz", alpha=0.2)
    assert net.alpha == 0.2 and net.n_in == 1 and net.n_out == 1  # zero input and readout


def test_npz_without_weights_is_refused(tmp_path):
    np.savez(tmp_path / "x.npz", b=np.zeros(3), alpha=0.5)
    with pytest.raises(ValueError, match="recurrent weights"):
        from_plain_npz(tmp_path / "x.npz")


def test_custom_state_dict_by_names_and_aliases():
    rng = np.random.default_rng(0)
    w, w_in, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 2)), rng.normal(size=5)
    sd = {"rnn.J": w, "inp.W": w_in, "bias": b}
    net = from_state_dict(sd, alpha=0.3, names={"w": "rnn.J", "w_in": "inp.W"})
    np.testing.assert_allclose(net.recurrent(), w, rtol=1e-6)
    np.testing.assert_allclose(net.b, b, rtol=1e-6)
    with pytest.raises(ValueError, match="not a key"):
        from_state_dict(sd, alpha=0.3, names={"w": "missing"})
    with pytest.raises(ValueError, match="`names` key"):
        from_state_dict(sd, alpha=0.3, names={"weights": "rnn.J"})


def test_finder_on_imported_network_finds_the_closed_form_fixed_points(tmp_path):
    # W = 2 I, b = 0, per neuron r = tanh(2 r): 0 (unstable) and ±x*, x* = tanh(2 x*)
    np.savez(tmp_path / "w.npz", W=2.0 * np.eye(2), b=np.zeros(2), alpha=1.0)
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
