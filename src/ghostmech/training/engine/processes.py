"""Parts of a grid in worker processes: one process per core, threads pinned to one.

`in_processes(fn, jobs, processes)` calls ``fn(*job)`` for every job in a pool
of ``processes`` spawned interpreters and yields ``(i, result)`` as each job
ends. Each worker runs XLA's matrix products on one thread
(``--xla_cpu_multi_thread_eigen=false``, OMP/MKL/OpenBLAS 1 thread), so P workers
use P cores without oversubscribing them. The driver process computes on the same
one-thread path (``import ghostmech`` sets it, :mod:`ghostmech._threads`): on some CPUs
the threaded path rounds differently, and a network's numbers must not depend on the
process it trained in. The workers inherit the parent's
environment (e.g. ``JAX_COMPILATION_CACHE_DIR``: they share its compilation cache)
and die with it (Linux: a killed driver leaves no worker still writing).

The executors run fixed-width programs (`ghostmech.training.engine.executors`),
so where a network trains does not change its numbers.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ghostmech._checks import check_positive_int
from ghostmech._threads import with_one_thread

__all__ = ["available_cores", "pinned_env", "in_processes"]

PINNED = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "XLA_PYTHON_CLIENT_PREALLOCATE": "false",  # several processes may share one accelerator
}


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity; else ``os.cpu_count()``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def pinned_env() -> Iterator[None]:
    """Set the one-thread environment of `PINNED` (and XLA's one-thread matmuls unless
    ``$XLA_FLAGS`` chooses otherwise, as the driver does) while spawning workers."""
    old = {k: os.environ.get(k) for k in (*PINNED, "XLA_FLAGS")}
    os.environ.update(PINNED)
    os.environ["XLA_FLAGS"] = with_one_thread(os.environ.get("XLA_FLAGS", ""))
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _die_with_parent() -> None:  # pragma: no cover - runs in the workers
    """Ask Linux to kill this worker when its parent dies (a killed driver leaves no orphan
    still writing); a no-op elsewhere."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def in_processes(
    fn: Callable[..., Any],
    jobs: Sequence[tuple],
    processes: int,
    *,
    on_wait: Callable[[], None] | None = None,
    every: float = 1.0,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(i, fn(*jobs[i]))`` as jobs finish, on ``processes`` spawned workers.

    ``fn`` and the jobs must be picklable (module-level functions); a job's
    exception is raised here. The workers are spawned, so a script that gets
    here must do so under ``if __name__ == "__main__":`` (as for any
    ``multiprocessing`` spawn; the ``ghostmech`` command does). ``on_wait()`` is called every ``every`` seconds
    while no job finishes (e.g. to show progress).
    """
    processes = check_positive_int("processes", processes)
    try:
        pickle.dumps((fn, list(jobs)))
    except Exception as err:
        raise ValueError(
            f"the function (={fn!r}) and its arguments must be picklable to run in "
            f"processes={processes} (use module-level functions): {err}"
        ) from None
    ctx = multiprocessing.get_context("spawn")
    with (
        pinned_env(),
        concurrent.futures.ProcessPoolExecutor(
            min(processes, len(jobs)) or 1, ctx, initializer=_die_with_parent
        ) as pool,
    ):
        futures = {pool.submit(fn, *job): i for i, job in enumerate(jobs)}
        pending = set(futures)
        while pending:
            done, pending = concurrent.futures.wait(
                pending, timeout=every, return_when=concurrent.futures.FIRST_COMPLETED
            )
            if not done and on_wait is not None:
                on_wait()
            for fut in done:
                yield futures[fut], fut.result()
