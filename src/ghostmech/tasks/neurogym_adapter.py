"""neurogym environments as ghostmech tasks: fixed `TaskBatch` arrays ``[time, batch, channels]``.

`from_neurogym(env, n_trials=, key=)` draws ``n_trials`` trials from a neurogym
``TrialEnv`` (an instance, or an id such as ``"DelayMatchSample-v0"`` passed to
``neurogym.make``) and returns a `NeurogymTask` that holds them. neurogym is
optional (``pip install 'ghostmech[neurogym]'``, which brings torch, imported by neurogym) and imported only here, only when called.

Trial boundaries are explicit: each batch column is ONE trial, generated with
``env.unwrapped.new_trial()`` and starting at step 0 (the arrays are neurogym's
``ob`` / ``gt`` of that trial, one row per ``env.dt`` ms). Trials have different
lengths L_b (neurogym samples the period durations), so every trial is cropped
or zero-padded to a common ``n_steps`` (default: the longest trial drawn):

    inputs[t, b]  = ob_b[t]        for t < min(L_b, n_steps), else 0
    mask[t, b, :] = 1[t < min(L_b, n_steps)]

`NeurogymTask.lengths` keeps min(L_b, n_steps). No step of a trial leaks into
another one, and a network is run from its ``r0`` on every trial.

Targets. neurogym's ground truth ``gt[t]`` of a discrete action space is an
action index (0 = fixate, 1..: choices). ghostmech's readouts are element-wise
(sigmoid / tanh) and trained with the squared error, so the default
(``targets="one_hot"`` for a ``Discrete(k)`` space) is the one-hot code
``targets[t, b, a] = 1[gt_b[t] = a]`` (k channels; accuracy: argmax of z equals
gt, over the unmasked steps). ``targets="scalar"`` gives one channel holding
gt itself: for a two-action space (fixate / go, e.g. ReadySetGo) that is the
"go" signal, the delayed-activation target of the paper (accuracy 1[z > 0.5]).
A continuous (``Box``) action space is always scalar (one channel per action
dimension; accuracy: |z − y| < ``tol``).
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ghostmech._checks import check_one_of, check_positive, check_positive_int
from ghostmech.tasks.base import TaskBatch

__all__ = ["NeurogymTask", "from_neurogym", "trials_from_env", "TARGET_KINDS"]

TARGET_KINDS = ("auto", "one_hot", "scalar")
INSTALL_HINT = "`pip install 'ghostmech[neurogym]'` (neurogym 2.3.1, gymnasium, torch)"


def _import_neurogym():
    try:
        import neurogym
    except ImportError as err:  # ModuleNotFoundError, or a missing dependency of neurogym
        missing = getattr(err, "name", None) or "neurogym"
        what = (
            "neurogym is not installed"
            if missing == "neurogym"
            else f"neurogym needs {missing!r}, which is not installed"
        )
        raise ImportError(f"{what}: {INSTALL_HINT}") from err
    return neurogym


def _resolve_env(env: Any, env_kwargs: dict[str, Any] | None) -> Any:
    """A neurogym id -> ``neurogym.make(id, **env_kwargs)``; an env -> its unwrapped TrialEnv."""
    if isinstance(env, str):
        make = _import_neurogym().make
        with warnings.catch_warnings():  # gymnasium: neurogym's metadata lacks `render_modes`
            warnings.filterwarnings("ignore", message=".*render_modes.*")
            env = make(env, **(env_kwargs or {}))
    elif env_kwargs:
        raise ValueError(f"`env_kwargs` (={env_kwargs!r}) is only allowed with an env id string")
    base = getattr(env, "unwrapped", env)
    if not callable(getattr(base, "new_trial", None)):
        raise ValueError(
            f"`env` (={env!r}) must be a neurogym TrialEnv (with `new_trial`) or a neurogym id"
        )
    return base


def _target_kind(space: Any, targets: str) -> tuple[str, int]:
    """(kind, n_out) for the env's action space and the requested ``targets``."""
    check_one_of("targets", targets, TARGET_KINDS)
    n = getattr(space, "n", None)
    if n is None:  # continuous action space
        if targets == "one_hot":
            raise ValueError(
                f"`targets` (='one_hot') needs a Discrete action space, got {space!r}; use 'scalar'"
            )
        return "box", int(np.prod(space.shape or (1,)))
    if targets == "scalar":
        return "scalar", 1
    return "one_hot", int(n)


def trials_from_env(
    env: Any,
    n_trials: int,
    *,
    key: PRNGKeyArray,
    n_steps: int | None = None,
    targets: str = "auto",
    env_kwargs: dict[str, Any] | None = None,
) -> tuple[TaskBatch, np.ndarray, str]:
    """Draw ``n_trials`` trials; return (`TaskBatch`, lengths ``[batch]`` int, target kind).

    ``key`` seeds the env (``env.seed(s)``, s drawn from ``key``), so a key
    gives the same trials. See the module docstring for padding and targets.
    """
    n_trials = check_positive_int("n_trials", n_trials)
    base = _resolve_env(env, env_kwargs)
    kind, n_out = _target_kind(base.action_space, targets)
    base.seed(int(jax.random.randint(key, (), 0, 2**31 - 1)))
    obs, gts = [], []
    for _ in range(n_trials):
        base.new_trial()
        if not getattr(base, "_has_gt", True) or getattr(base, "gt", None) is None:
            raise ValueError(f"`env` (={base!r}) defines no ground truth (`gt`) for its trials")
        obs.append(np.asarray(base.ob, dtype=float).reshape(len(base.ob), -1))
        gts.append(np.asarray(base.gt).reshape(len(base.gt), -1))
    full = np.array([len(o) for o in obs])
    t_max = int(full.max()) if n_steps is None else check_positive_int("n_steps", n_steps)
    lengths = np.minimum(full, t_max)
    inputs = np.zeros((t_max, n_trials, obs[0].shape[1]))
    y = np.zeros((t_max, n_trials, n_out))
    mask = np.zeros((t_max, n_trials, n_out))
    for b, (o, g, n) in enumerate(zip(obs, gts, lengths, strict=True)):
        inputs[:n, b] = o[:n]
        if kind == "one_hot":
            y[np.arange(n), b, g[:n, 0].astype(int)] = 1.0
        else:
            y[:n, b] = g[:n]
        mask[:n, b] = 1.0
    dtype = jnp.result_type(float)
    batch = TaskBatch(*(jnp.asarray(a, dtype=dtype) for a in (inputs, y, mask)))
    return batch, lengths, kind


class NeurogymTask(eqx.Module):
    """A fixed set of neurogym trials with the `Task` interface that `ghostmech.training.fit` uses.

    ``all_trials()`` returns the stored trials, ``sample(key=, batch=)`` draws
    stored trials uniformly with replacement, ``loss`` is the masked mean squared
    error Σ mask·(z − y)² / Σ mask (``loss_kind = "mse"``).
    """

    trials: TaskBatch
    lengths: Int[Array, " batch"]
    kind: str = eqx.field(static=True)
    env_name: str = eqx.field(static=True, default="neurogym")
    tol: float = eqx.field(static=True, default=0.1)

    name: ClassVar[str] = "neurogym"
    loss_kind: ClassVar[str] = "mse"

    @property
    def n_in(self) -> int:
        return self.trials.inputs.shape[-1]

    @property
    def n_out(self) -> int:
        return self.trials.targets.shape[-1]

    @property
    def n_steps(self) -> int:
        return self.trials.inputs.shape[0]

    @property
    def n_types(self) -> int:
        return self.trials.inputs.shape[1]

    def all_trials(self) -> TaskBatch:
        """The stored trials (batch = ``n_trials``)."""
        return self.trials

    def repeat_trials(self, n_per_type: int) -> TaskBatch:
        """Every stored trial ``n_per_type`` times, trial-major."""
        n = check_positive_int("n_per_type", n_per_type)
        return jax.tree_util.tree_map(lambda x: jnp.repeat(x, n, axis=1), self.trials)

    def sample(self, *, key: PRNGKeyArray, batch: int) -> TaskBatch:
        """``batch`` stored trials drawn uniformly (with replacement) with ``key``."""
        b = check_positive_int("batch", batch)
        idx = jax.random.randint(key, (b,), 0, self.n_types)
        return jax.tree_util.tree_map(lambda x: jnp.take(x, idx, axis=1), self.trials)

    def loss(self, z: Float[Array, "time batch n_out"], batch: TaskBatch) -> Float[Array, ""]:
        """Masked mean squared error Σ mask·(z − y)² / Σ mask."""
        return jnp.sum(batch.mask * (z - batch.targets) ** 2) / jnp.sum(batch.mask)

    def accuracy(self, z: Float[Array, "time batch n_out"], batch: TaskBatch) -> Float[Array, ""]:
        """Fraction of unmasked steps decided right (one-hot: argmax; scalar: 0.5; box: ``tol``)."""
        if self.kind == "one_hot":
            hit = jnp.argmax(z, -1) == jnp.argmax(batch.targets, -1)
            w = batch.mask[..., 0]
            return jnp.sum(hit * w) / jnp.sum(w)
        if self.kind == "box":
            hit = jnp.abs(z - batch.targets) < self.tol
        else:
            hit = (z > 0.5) == (batch.targets > 0.5)
        return jnp.sum(hit * batch.mask) / jnp.sum(batch.mask)


def from_neurogym(
    env: Any,
    *,
    n_trials: int,
    key: PRNGKeyArray,
    n_steps: int | None = None,
    targets: str = "auto",
    env_kwargs: dict[str, Any] | None = None,
    tol: float = 0.1,
) -> NeurogymTask:
    """Draw ``n_trials`` trials of ``env`` (instance or neurogym id) into a `NeurogymTask`."""
    tol = check_positive("tol", tol)
    batch, lengths, kind = trials_from_env(
        env, n_trials, key=key, n_steps=n_steps, targets=targets, env_kwargs=env_kwargs
    )
    name = env if isinstance(env, str) else type(getattr(env, "unwrapped", env)).__name__
    return NeurogymTask(batch, jnp.asarray(lengths), kind, name, tol)
