"""neurogym adapter: shapes, padding mask, trial boundaries, targets, a short `fit` on it.

Needs ``neurogym`` (optional: ``pip install 'ghostmech[neurogym]'``); skipped without it, except
the test that its absence gives an ImportError naming the install command.
The trials are checked against a second, independent pass over the same env
(same seed: ``env.new_trial()`` one trial at a time, read ``ob`` / ``gt`` directly).
"""

from __future__ import annotations

import importlib.util
import sys
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.tasks.neurogym_adapter import from_neurogym

HAVE_NGYM = importlib.util.find_spec("neurogym") is not None
needs_ngym = pytest.mark.skipif(
    not HAVE_NGYM,
    reason="neurogym is not installed (optional: `pip install 'ghostmech[neurogym]'`)",
)


def make_env(name, **kwargs):
    import neurogym

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*render_modes.*")
        return neurogym.make(name, **kwargs)


def reference_trials(name, key, n, **kwargs):
    """Second pass: the same seed, trials read one by one from the env."""
    env = make_env(name, **kwargs).unwrapped
    env.seed(int(jax.random.randint(key, (), 0, 2**31 - 1)))
    out = []
    for _ in range(n):
        env.new_trial()
        out.append((np.array(env.ob, dtype=float), np.array(env.gt)))
    return out, env


def test_missing_neurogym_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "neurogym", None)  # import neurogym -> ImportError
    with pytest.raises(
        ImportError, match=r"neurogym is not installed: `pip install 'ghostmech\[neurogym\]'"
    ):
        from_neurogym("DelayMatchSample-v0", n_trials=2, key=jax.random.key(0))


def test_bad_env_raises_valueerror():
    with pytest.raises(ValueError, match="`env`"):
        from_neurogym(object(), n_trials=2, key=jax.random.key(0))


@needs_ngym
@pytest.mark.parametrize("name", ["DelayMatchSample-v0", "ReadySetGo-v0"])
def test_trials_match_env_trial_by_trial(name):
    key = jax.random.key(3)
    task = from_neurogym(name, n_trials=6, key=key)
    ref, env = reference_trials(name, key, 6)
    b = task.all_trials()
    T = max(len(o) for o, _ in ref)
    n_act = env.action_space.n
    assert b.inputs.shape == (T, 6, env.observation_space.shape[0])
    assert b.targets.shape == b.mask.shape == (T, 6, n_act)
    assert (task.n_in, task.n_out, task.n_steps, task.kind) == (
        b.inputs.shape[2],
        n_act,
        T,
        "one_hot",
    )
    for i, (ob, gt) in enumerate(ref):
        L = len(ob)
        assert int(task.lengths[i]) == L
        np.testing.assert_allclose(b.inputs[:L, i], ob, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(np.argmax(b.targets[:L, i], -1), gt)
        np.testing.assert_array_equal(b.targets[:L, i].sum(-1), 1.0)
        np.testing.assert_array_equal(b.mask[:L, i], 1.0)
        # padding: no input, no target, no loss
        for arr in (b.inputs, b.targets, b.mask):
            np.testing.assert_array_equal(arr[L:, i], 0.0)


@needs_ngym
def test_delay_match_sample_lengths_and_labels_from_timing():
    # sigma = 0: the test stimulus equals the sample iff the label is "match" (1)
    key = jax.random.key(1)
    task = from_neurogym("DelayMatchSample-v0", n_trials=8, key=key, env_kwargs={"sigma": 0.0})
    env = make_env("DelayMatchSample-v0").unwrapped
    t = {k: int(v) // env.dt for k, v in env.timing.items()}
    assert task.n_steps == sum(t.values())
    b = task.all_trials()
    s0, t0 = t["fixation"], t["fixation"] + t["sample"] + t["delay"]
    dec = t0 + t["test"]
    for i in range(8):
        same = np.allclose(b.inputs[s0, i, 1:], b.inputs[t0, i, 1:])
        label = int(np.argmax(b.targets[dec, i]))
        assert label == (1 if same else 2)
        assert np.all(np.argmax(b.targets[:dec, i], -1) == 0)  # fixate until the decision


@needs_ngym
def test_crop_and_scalar_targets():
    key = jax.random.key(2)
    ref, _ = reference_trials("ReadySetGo-v0", key, 5)
    task = from_neurogym("ReadySetGo-v0", n_trials=5, key=key, n_steps=20, targets="scalar")
    b = task.all_trials()
    assert b.targets.shape == (20, 5, 1) and task.kind == "scalar"
    for i, (ob, gt) in enumerate(ref):
        L = min(len(ob), 20)
        assert int(task.lengths[i]) == L
        np.testing.assert_array_equal(b.targets[:L, i, 0], gt[:L])
        assert float(b.mask[:, i].sum()) == L
    with pytest.raises(ValueError, match="`targets`"):
        from_neurogym("ReadySetGo-v0", n_trials=2, key=key, targets="softmax")


@needs_ngym
def test_accuracy_and_loss_by_hand():
    task = from_neurogym("ReadySetGo-v0", n_trials=3, key=jax.random.key(4))
    b = task.all_trials()
    m = np.asarray(b.mask)
    z = np.asarray(b.targets).copy()
    z[::2] = z[::2, :, ::-1]  # flip the decision on every other step
    counted = m[..., 0]
    flipped = np.zeros_like(counted)
    flipped[::2] = 1
    want = 1 - (flipped * counted).sum() / counted.sum()
    np.testing.assert_allclose(task.accuracy(jnp.asarray(z), b), want, rtol=1e-6)
    np.testing.assert_allclose(
        task.loss(jnp.asarray(z), b), ((z - b.targets) ** 2 * m).sum() / m.sum(), rtol=1e-6
    )


@needs_ngym
def test_fit_runs_and_padding_does_not_change_the_loss():
    from ghostmech.networks import make_network
    from ghostmech.training import fit
    from ghostmech.training.losses import forward

    task = from_neurogym("DelayMatchSample-v0", n_trials=16, key=jax.random.key(0))
    net = make_network(
        n=16, rank="full", n_in=task.n_in, n_out=task.n_out, alpha=0.5, key=jax.random.key(1)
    )
    # epoch-0 loss equals the per-trial squared error over each trial's own steps
    padded = from_neurogym("DelayMatchSample-v0", n_trials=16, key=jax.random.key(0), n_steps=40)
    ref = task.loss(forward(net, task.trials.inputs, key=None)[1], task.trials)
    pad = padded.loss(forward(net, padded.trials.inputs, key=None)[1], padded.trials)
    np.testing.assert_allclose(pad, ref, rtol=1e-5)
    res = fit(net, task, optimizer="adam", lr=1e-2, epochs=40, key=jax.random.key(2), batch=8)
    loss = res.metrics["loss"]
    assert res.status == 0 and loss.shape == (40,) and np.all(np.isfinite(loss))
    assert loss[-5:].mean() < 0.5 * loss[:5].mean()


@pytest.mark.parametrize("missing", ["neurogym", "torch"])
def test_import_error_names_the_missing_package(missing, monkeypatch):
    import builtins

    from ghostmech.tasks import neurogym_adapter

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "neurogym":  # as neurogym fails when torch (imported inside it) is absent
            raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError) as info:
        neurogym_adapter._import_neurogym()
    msg = str(info.value)
    assert f"'{missing}'" in msg or msg.startswith(f"{missing} is not installed")
    assert "pip install 'ghostmech[neurogym]'" in msg
    if missing == "torch":
        assert "neurogym is not installed" not in msg
