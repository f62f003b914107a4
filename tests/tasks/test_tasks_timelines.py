"""Task arrays against hand-written timelines (docs/model.md §3)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float, jaxtyped

from ghostmech.tasks import (
    TASKS,
    DelayedActivation,
    DelayedCueDiscrimination,
    DelayedMatchToSample,
    TaskBatch,
    make_task,
)


def test_da_three_plus_two():
    b = DelayedActivation(delay=3, response=2).all_trials()
    np.testing.assert_array_equal(b.inputs[:, :, 0], [[0], [0], [0], [0], [0]])
    np.testing.assert_array_equal(b.targets[:, :, 0], [[0], [0], [0], [1], [1]])
    np.testing.assert_array_equal(b.mask, np.ones((5, 1, 1)))


def test_dcd_one_two_two():
    b = DelayedCueDiscrimination(input=1, delay=2, response=2).all_trials()
    # trial types in order s = -1, +1 (columns)
    np.testing.assert_array_equal(b.inputs[:, :, 0].T, [[-1, 0, 0, 0, 0], [1, 0, 0, 0, 0]])
    np.testing.assert_array_equal(b.targets[:, :, 0].T, [[0, 0, 0, -1, -1], [0, 0, 0, 1, 1]])


def test_dmts_all_four_pairs():
    b = DelayedMatchToSample(input=2, delay=1, response=2).all_trials()
    # timeline: s1 s1 | 0 | s2 s2 | 0 0 ; pairs (-1,-1), (-1,1), (1,-1), (1,1)
    expected_inputs = [
        [-1, -1, 0, -1, -1, 0, 0],
        [-1, -1, 0, 1, 1, 0, 0],
        [1, 1, 0, -1, -1, 0, 0],
        [1, 1, 0, 1, 1, 0, 0],
    ]
    expected_targets = [
        [0, 0, 0, 0, 0, 1, 1],
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 1, 1],
    ]
    np.testing.assert_array_equal(b.inputs[:, :, 0].T, expected_inputs)
    np.testing.assert_array_equal(b.targets[:, :, 0].T, expected_targets)


@pytest.mark.parametrize(
    ("cls", "ms", "steps"),
    [
        (DelayedActivation, {"delay": 100, "response": 100}, 40),
        (DelayedCueDiscrimination, {"input": 10, "delay": 50, "response": 50}, 22),
        (DelayedMatchToSample, {"input": 30, "delay": 80, "response": 50}, 6 + 16 + 6 + 10),
    ],
)
def test_from_ms_matches_steps(cls, ms, steps):
    task = cls.from_ms(dt_ms=5.0, **ms)
    assert task == cls(**{k: round(v / 5.0) for k, v in ms.items()})
    assert task.n_steps == steps == task.all_trials().inputs.shape[0]


@pytest.mark.parametrize("name", sorted(TASKS))
def test_repeat_trials_is_type_major_tiling(name):
    task = TASKS[name]()
    one, three = task.all_trials(), task.repeat_trials(3)
    np.testing.assert_array_equal(three.inputs, jnp.repeat(one.inputs, 3, axis=1))
    np.testing.assert_array_equal(three.targets, jnp.repeat(one.targets, 3, axis=1))


@pytest.mark.parametrize("name", sorted(TASKS))
def test_sample_draws_known_trial_types(name):
    task = TASKS[name]()
    types = np.asarray(task.all_trials().inputs)  # [time, n_types, 1]
    b = task.sample(key=jax.random.key(3), batch=64)
    again = task.sample(key=jax.random.key(3), batch=64)
    np.testing.assert_array_equal(b.inputs, again.inputs)
    seen = set()
    for j in range(64):
        match = [i for i in range(types.shape[1]) if np.array_equal(types[:, i], b.inputs[:, j])]
        assert len(match) == 1
        seen.add(match[0])
    assert seen == set(range(types.shape[1]))  # 64 draws hit every type (p fail < 4*(3/4)^64)


def test_sample_is_vmappable_and_jittable():
    task = DelayedMatchToSample(input=1, delay=1, response=1)
    keys = jax.random.split(jax.random.key(0), 5)
    out = jax.jit(jax.vmap(lambda k: task.sample(key=k, batch=3).inputs))(keys)
    assert out.shape == (5, task.n_steps, 3, 1)


@jaxtyped(typechecker=None)
def _check_shapes(b: TaskBatch) -> None:
    assert isinstance(b.inputs, Float[Array, "time batch n_in"])
    assert isinstance(b.targets, Float[Array, "time batch n_out"])
    assert isinstance(b.mask, Float[Array, "time batch n_out"])


@pytest.mark.parametrize("name", sorted(TASKS))
def test_jaxtyping_shapes(name):
    task = TASKS[name]()
    b = task.repeat_trials(2)
    _check_shapes(b)
    assert b.inputs.shape == (task.n_steps, 2 * task.n_types, task.n_in)
    assert b.targets.shape == (task.n_steps, 2 * task.n_types, task.n_out)
    assert task.name == name


def test_make_task_by_name_steps_or_ms():
    assert make_task("dmts", input=1, delay=2, response=3) == DelayedMatchToSample(1, 2, 3)
    assert make_task("da", dt_ms=5.0, delay=100, response=100) == DelayedActivation(20, 20)
    with pytest.raises(ValueError, match="`task`.*'da', 'dcd', 'dmts'"):
        make_task("go_nogo")
    with pytest.raises(ValueError, match="`delay`"):
        make_task("dcd", delay=0)
