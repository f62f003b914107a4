"""NeuralRNN's ``GolubFixedPointFinder`` (PyPI ``neuralrnn``; run in its own venv).

It minimises q = ½‖F(z) − z‖² for a map F by gradient descent with a per-start
learning rate (×0.95 and the step rejected whenever q rises), one torch
forward + backward + forward per iteration in a Python loop, stopping when every
start has q < tol_q or after n_iters. Here F(z) = tanh(W z + b), so F(z) − z is the
benchmark field. Library defaults (n_iters 5000, initial_rate 1, tol_q 1e-9,
dedup_tol 1e-2) except: the starts are used as given (the library's
``_prepare_init_states`` resamples them with noise and clips them to ≥ 0, written
for ReLU rates; that would make the starts differ between finders).
"""

from __future__ import annotations

import os

import numpy as np
import peer_io as io_  # this folder is sys.path[0]
import torch
from neuralrnn.analysis.fixed_points import GolubFixedPointFinder


class TanhMap(torch.nn.Module):
    """z ↦ tanh(W z + b) with the two methods the finder calls."""

    def __init__(self, W, b):
        super().__init__()
        self.W = torch.nn.Parameter(torch.as_tensor(W, dtype=torch.float32))
        self.b = torch.nn.Parameter(torch.as_tensor(b, dtype=torch.float32))
        self.config = type("Cfg", (), {"latent_dim": len(b)})()

    def recurrence(self, x, z, *, inputs=None):
        return torch.tanh(z @ self.W.T + self.b)

    def jacobian(self, z, inputs=None):
        a = torch.tanh(self.W @ z.reshape(-1) + self.b)
        return (1 - a**2)[:, None] * self.W


class GivenStarts(GolubFixedPointFinder):
    def _prepare_init_states(self, init_states, M):
        return torch.as_tensor(np.asarray(init_states), dtype=torch.float32)


def main():
    inp, out = io_.args()
    W, b, starts, opts = io_.load(inp)
    if os.environ.get("OMP_NUM_THREADS") == "1":
        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)

    t_import = io_.import_time()
    model = TanhMap(W, b)
    finder = GivenStarts(n_candidates=len(starts), n_iters=int(opts.get("n_iters", 5000)))
    fps, t_run, c_run = io_.timed_cpu(lambda: finder.find(model, init_states=starts))
    x = fps.coords() if len(fps) else np.zeros((0, len(b)))
    io_.save(
        out,
        x,
        t_import,
        t_run,
        t_run,
        rows=len(fps),
        torch=torch.__version__,
        torch_threads=torch.get_num_threads(),
        t_first_cpu=c_run,
        t_run_cpu=c_run,
    )


if __name__ == "__main__":
    main()
