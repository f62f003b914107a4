"""ghostmech: the ghost mechanism of abrupt learning in recurrent networks.

Subpackages (import what you need; nothing is computed at import):

* :mod:`ghostmech.canonical` - the 1-D model dx/dt = eps + x^2 (closed forms,
  losses, gradients, critical learning rate, gradient descent).
* :mod:`ghostmech.tasks` - delayed activation, cue discrimination, match-to-sample.
* :mod:`ghostmech.networks` - rank-K and full-rank rate RNNs and readouts.
* :mod:`ghostmech.training` - losses, fit, vmapped sweeps, interventions.
* :mod:`ghostmech.dynamics` - fixed/slow point finder, ghost classification.
* :mod:`ghostmech.runs` - configs, result stores, executors.
* :mod:`ghostmech.plotting` - figures and videos.
* :mod:`ghostmech.paper` - one module per paper figure.

Importing ghostmech sets one thing: XLA's CPU matrix products run on one thread
(``--xla_cpu_multi_thread_eigen=false`` in ``$XLA_FLAGS`` unless already set), the path
ghostmech's worker processes use, so a network's numbers do not depend on the process
it trained in (:mod:`ghostmech._threads`).
"""

from __future__ import annotations

from ghostmech._threads import use_one_thread

use_one_thread()

__version__ = "0.1.0"

__all__ = ["__version__", "open_run"]


def open_run(path):  # noqa: D401 - thin lazy re-export
    """Open a run directory written by ``ghostmech train``/``sweep`` (see :func:`ghostmech.runs.open_run`)."""
    from ghostmech.runs import open_run as _open_run

    return _open_run(path)
