"""`ghostmech._threads`: every process computes matrix products on XLA's one-thread path.

The end-to-end check is tests/training/test_training_sweep.py::
test_two_processes_give_the_loop_result_bitwise (a grid trained in two worker processes
equals the same grid trained here, bit for bit); these tests pin the flag handling.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import warnings

import jax
import pytest

from ghostmech import _threads


@pytest.mark.parametrize(
    "flags, out, threads",
    [
        ("", "--xla_cpu_multi_thread_eigen=false", "one"),
        (
            "--xla_cpu_max_isa=AVX2",
            "--xla_cpu_max_isa=AVX2 --xla_cpu_multi_thread_eigen=false",
            "one",
        ),  # fmt: skip
        ("--xla_cpu_multi_thread_eigen=true", "--xla_cpu_multi_thread_eigen=true", "many"),
        ("--xla_cpu_multi_thread_eigen=false", "--xla_cpu_multi_thread_eigen=false", "one"),
    ],
)
def test_the_flag_is_added_unless_the_user_chose(flags, out, threads):
    assert _threads.with_one_thread(flags) == out
    assert _threads.matmul_threads(out) == threads
    jax.numpy.ones(2).block_until_ready()  # JAX runs in this process: the flag comes too late
    environ = {"XLA_FLAGS": flags} if flags else {}
    with pytest.warns(RuntimeWarning) if "eigen" not in flags else _no_warning():
        _threads.use_one_thread(environ)
    assert environ["XLA_FLAGS"] == out


def test_no_flag_means_many_threads():
    assert _threads.matmul_threads("") == "many"  # XLA's default
    assert _threads.matmul_threads("--xla_cpu_max_isa=AVX2") == "many"


def test_this_test_process_runs_one_thread():
    assert _threads.matmul_threads(os.environ["XLA_FLAGS"]) == "one"


_SCRIPT = """
import warnings; warnings.simplefilter("error")
{first}
import ghostmech, jax.numpy as jnp
jnp.ones(3).sum().block_until_ready()
"""


@pytest.mark.parametrize("computed_first", [False, True])
def test_computing_before_import_warns(computed_first):
    first = "import jax.numpy as j; j.ones(2).sum().block_until_ready()" if computed_first else ""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    run = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(first=first)], env=env, capture_output=True, text=True
    )
    if computed_first:  # the backend started threaded: said, not silent
        assert run.returncode != 0 and "before ghostmech was imported" in run.stderr
    else:
        assert run.returncode == 0, run.stderr


@contextlib.contextmanager
def _no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
