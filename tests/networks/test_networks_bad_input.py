"""Bad input raises ValueError naming the field (and listing allowed names)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from ghostmech.networks import from_arrays, make_network, make_preset

KEY = jax.random.key(0)
N = 4


def _good(**over):
    a = {
        "m": np.ones((N, 1)),
        "nT": np.ones((N, 1)) / N,
        "w_in": np.ones((N, 1)),
        "b": np.zeros(N),
        "r0": np.zeros(N),
        "w_out": np.ones((1, N)),
        "b_out": np.zeros(1),
    }
    a.update(over)
    return {k: v for k, v in a.items() if v is not None}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rank": 0}, "rank"),
        ({"rank": 5}, "rank"),
        ({"rank": -1}, "rank"),
        ({"rank": "low"}, "rank"),
        ({"rank": 1, "readout": "softmax"}, "readout"),
        ({"rank": 1, "init": {"m": "he_normal"}}, "init\\['m'\\]"),
        ({"rank": 1, "init": {"w": "zeros"}}, "init field"),
        ({"rank": 1, "init": {"b": {"name": "normal", "sd": 1}}}, "init\\['b'\\] parameter"),
        ({"rank": 1, "init": "fig99"}, "init"),
        ({"rank": 1, "read": "during"}, "read"),
        ({"rank": 1, "noise_scaling": "ito"}, "noise_scaling"),
        ({"rank": 1, "noise_std": -0.1}, "noise_std"),
        ({"rank": 1, "alpha": 1.5}, "alpha"),
        ({"rank": 1, "alpha": 0.0}, "alpha"),
        ({"rank": 1, "frozen": ("W",)}, "frozen"),
        ({"rank": "full", "readout": "threshold"}, "readout"),
        ({"rank": 1, "readout": "linear", "readout_kwargs": {"beta": 2.0}}, "readout_kwargs"),
        ({"rank": 1, "n_in": 0}, "n_in"),
    ],
)
def test_make_network_bad_input(kwargs, field):
    with pytest.raises(ValueError, match=f"`{field}"):
        make_network(n=N, key=KEY, **kwargs)


def test_unknown_names_list_the_allowed():
    with pytest.raises(ValueError, match="'threshold', 'linear', 'latent', 'fixed_confidence'"):
        make_network(n=N, rank=1, readout="softmax", key=KEY)
    with pytest.raises(ValueError, match="'xavier_uniform'"):
        make_network(n=N, rank=1, init={"m": "he_normal"}, key=KEY)
    with pytest.raises(ValueError, match="'fig3a'"):
        make_preset("fig99", key=KEY)


@pytest.mark.parametrize(
    ("arrays", "field"),
    [
        (_good(m=np.ones((N, 2))), "nT"),
        (_good(nT=np.ones((N + 1, 1))), "nT"),
        (_good(b=np.zeros(N + 1)), "b"),
        (_good(r0=np.zeros((N, 1))), "r0"),
        (_good(w_in=np.ones(N)), "w_in"),
        (_good(w_out=np.ones((1, N + 2))), "w_out"),
        (_good(b_out=np.zeros(2)), "b_out"),
        (_good(m=np.full((N, 1), np.nan)), "m"),
        (_good(b=np.array([0, np.inf, 0, 0])), "b"),
        (_good(w=np.eye(N)), "w"),
        (_good(m=None, nT=None), "w"),
        (_good(m=np.ones((N, 0)), nT=np.ones((N, 0))), "rank"),
        (_good(c=1.0), "c"),
    ],
)
def test_from_arrays_bad_input(arrays, field):
    with pytest.raises(ValueError, match=f"`{field}`"):
        from_arrays(**arrays)


def test_from_arrays_good_case_builds():
    assert from_arrays(**_good()).rank == 1


def test_rank_k_preset_with_full_rank_names_rank_not_an_init_field():
    """A rank-one preset's ``m`` init with ``rank="full"`` names `rank` (found by the config fuzz)."""
    import jax

    from ghostmech.networks import make_preset

    with pytest.raises(ValueError, match=r"`rank` \(='full'\)"):
        make_preset("fig6a_rank1", rank="full", key=jax.random.key(0))
