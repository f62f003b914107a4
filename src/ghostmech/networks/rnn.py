"""The rate RNN of the paper (docs/model.md §2, Eqs. 24, 47, 49), one trial per call.

Update (explicit Euler, Eq. 47), α = Δt/τ::

    r_{t+1} = (1 − α) r_t + α tanh(W r_t + W_in u_t + b + ξ_t)

with W = M Nᵀ (rank K, Eq. 49; stored as ``m`` and ``nT``, both ``[n, k]``, no
1/N factor) or a free ``w`` (full rank). The noise ξ_t is Gaussian, i.i.d.
across neurons and steps, drawn once per step inside the tanh:

* ``noise_scaling="paper"``: ξ_t ~ N(0, σ²) (no √Δt factor, the paper's choice);
* ``noise_scaling="sde"``: ξ_t ~ N(0, σ²/α). The noise the step then adds to r,
  α·tanh'(·)·ξ_t, has s.d. σ·√α·tanh'(·): the Euler–Maruyama increment of
  τ dr = (−r + tanh(·)) dt + σ tanh'(·) √τ dW, whose statistics over a fixed
  time do not depend on Δt.

σ = ``noise_std`` is a 0-d array (data), so a sweep can vmap over it.
``read`` fixes which state the output at step t sees:

* ``"after"``:  rates[t] = r_{t+1} (state after the t-th update; DA runs);
* ``"before"``: rates[t] = r_t (state before it, rates[0] = r0; full-rank DCD/DMTS).

So ``before.rates[t + 1] == after.rates[t]``. Always z[t] = readout(rates[t]).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from ghostmech._checks import check_one_of
from ghostmech.networks.readouts import Readout

__all__ = ["RateRNN", "run_batch", "trainable_filter", "leaf_paths", "NOISE_SCALINGS", "READS"]

NOISE_SCALINGS = ("paper", "sde")
READS = ("after", "before")
NEVER_TRAINED = ("noise_std",)


def _path_str(path) -> str:
    return jax.tree_util.keystr(path, simple=True, separator=".")


def leaf_paths(tree: PyTree) -> list[str]:
    """Dotted paths of the array leaves, e.g. ``["m", "nT", ..., "readout.beta"]``."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return [_path_str(p) for p, _ in leaves]


def _allowed_frozen(tree: PyTree) -> list[str]:
    out: list[str] = []
    for p in leaf_paths(tree):
        parts = p.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix not in out:
                out.append(prefix)
    return out


class RateRNN(eqx.Module):
    """Rank-K or full-rank rate RNN; ``net(inputs, key=...) -> (rates, z)`` for one trial.

    >>> import jax, jax.numpy as jnp
    >>> from ghostmech.networks import make_network
    >>> net = make_network(n=8, rank=1, n_in=1, n_out=1, readout="threshold",
    ...                    key=jax.random.key(0))
    >>> rates, z = net(jnp.zeros((5, 1)))
    >>> rates.shape, z.shape
    ((5, 8), (5, 1))
    """

    m: Float[Array, "n k"] | None
    nT: Float[Array, "n k"] | None
    w: Float[Array, "n n"] | None
    w_in: Float[Array, "n n_in"]
    b: Float[Array, " n"]
    r0: Float[Array, " n"]
    readout: Readout
    noise_std: Float[Array, ""]
    alpha: float = eqx.field(static=True, default=0.5)
    noise_scaling: str = eqx.field(static=True, default="paper")
    read: str = eqx.field(static=True, default="after")
    frozen: tuple[str, ...] = eqx.field(static=True, default=())

    def __check_init__(self):
        check_one_of("read", self.read, READS)
        check_one_of("noise_scaling", self.noise_scaling, NOISE_SCALINGS)
        if (self.w is None) == (self.m is None) or (self.m is None) != (self.nT is None):
            raise ValueError("give either `m` and `nT` (rank K) or `w` (full rank), not both")
        if self.readout.source == "latent" and self.m is None:
            raise ValueError(
                f"`readout` (={type(self.readout).__name__}) reads the latent κ = Nᵀ r "
                "and needs a low-rank network (m, nT)"
            )
        allowed = _allowed_frozen(self)
        for path in self.frozen:
            check_one_of("frozen", path, allowed)

    # ---- shapes --------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.b.shape[0]

    @property
    def rank(self) -> int | None:
        """K for a low-rank network, None for a full-rank one."""
        return None if self.m is None else self.m.shape[1]

    @property
    def n_in(self) -> int:
        return self.w_in.shape[1]

    @property
    def n_out(self) -> int:
        return self.readout.n_out

    # ---- dynamics ------------------------------------------------------------
    def recurrent(self) -> Float[Array, "n n"]:
        """The recurrent matrix W (= M Nᵀ for rank K). Formed explicitly: for analysis only."""
        return self.w if self.m is None else self.m @ self.nT.T

    def drive(self, r: Float[Array, " n"]) -> Float[Array, " n"]:
        """W r, as M (Nᵀ r) for rank K (O(nK), W never formed)."""
        return self.w @ r if self.m is None else self.m @ (self.nT.T @ r)

    def latent(self, r: Float[Array, "*batch n"]) -> Float[Array, "*batch k"] | None:
        """κ = Nᵀ r (None for full rank)."""
        return None if self.nT is None else r @ self.nT

    def step(
        self, r: Float[Array, " n"], u: Float[Array, " n_in"], xi: Float[Array, " n"] | float = 0.0
    ) -> Float[Array, " n"]:
        """Eq. 47: r_{t+1} = (1 − α) r_t + α tanh(W r_t + W_in u_t + b + ξ_t)."""
        pre = self.drive(r) + self.w_in @ u + self.b + xi
        return (1.0 - self.alpha) * r + self.alpha * jnp.tanh(pre)

    def noise(self, key: PRNGKeyArray | None, n_steps: int) -> Float[Array, "time n"] | None:
        """ξ for ``n_steps`` steps (None without a key): N(0, σ²) ("paper") or N(0, σ²/α) ("sde")."""
        if key is None:
            return None
        scale = 1.0 if self.noise_scaling == "paper" else 1.0 / jnp.sqrt(self.alpha)
        std = self.noise_std * scale
        return std * jax.random.normal(key, (n_steps, self.n), dtype=self.b.dtype)

    def states(
        self, inputs: Float[Array, "time n_in"], xi: Float[Array, "time n"] | None = None
    ) -> Float[Array, "time n"]:
        """Rates read at each step (per ``read``) for given inputs and noise."""

        def body(r, ux):
            u, x = ux
            r_next = self.step(r, u, 0.0 if x is None else x)
            return r_next, (r_next if self.read == "after" else r)

        _, rates = jax.lax.scan(body, self.r0, (inputs, xi))
        return rates

    def output(self, rates: Float[Array, "time n"]) -> Float[Array, "time n_out"]:
        """z[t] = readout(rates[t], κ[t])."""
        kappa = self.latent(rates)
        return jax.vmap(self.readout)(rates, kappa)

    @eqx.filter_jit
    def __call__(
        self, inputs: Float[Array, "time n_in"], *, key: PRNGKeyArray | None = None
    ) -> tuple[Float[Array, "time n"], Float[Array, "time n_out"]]:
        """Run one trial: ``(rates [time, n], z [time, n_out])``; noise only if ``key`` given."""
        rates = self.states(inputs, self.noise(key, inputs.shape[0]))
        return rates, self.output(rates)


def run_batch(
    net: RateRNN, inputs: Float[Array, "time batch n_in"], *, key: PRNGKeyArray | None = None
) -> tuple[Float[Array, "time batch n"], Float[Array, "time batch n_out"]]:
    """vmap of ``net`` over the batch axis (axis 1); one noise key per trial."""
    if key is None:
        return jax.vmap(lambda u: net(u), in_axes=1, out_axes=1)(inputs)
    keys = jax.random.split(key, inputs.shape[1])
    return jax.vmap(lambda u, k: net(u, key=k), in_axes=(1, 0), out_axes=1)(inputs, keys)


def trainable_filter(net: RateRNN) -> PyTree[bool]:
    """Pytree of bools matching ``net``: True for array leaves that train.

    A leaf is frozen if its dotted path (e.g. ``"readout.beta"``) or any prefix of
    it (e.g. ``"readout"``) is in ``net.frozen``; ``noise_std`` never trains.
    Use with ``eqx.partition(net, trainable_filter(net))``.
    """
    frozen = set(net.frozen) | set(NEVER_TRAINED)

    def keep(path, leaf) -> bool:
        parts = _path_str(path).split(".")
        hit = any(".".join(parts[:i]) in frozen for i in range(1, len(parts) + 1))
        return eqx.is_inexact_array(leaf) and not hit

    return jax.tree_util.tree_map_with_path(keep, net)
