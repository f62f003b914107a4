"""Peer adapters for ``bench.bench_finder`` (fixed/slow point finders).

Each ``run_*.py`` here is a standalone script run as a subprocess, usually in its own
virtualenv (peers pin their own jax / torch): ``python run_X.py IN.npz OUT.npz``.
``IN.npz`` holds ``W`` [n, n], ``b`` [n], ``starts`` [S, n] and ``opts`` (a JSON
string); ``OUT.npz`` gets ``x`` [P, n] (the points the finder returns), the
timings ``t_import``, ``t_first``, ``t_run`` (seconds) and ``info`` (JSON). The
field is f(r) = -r + tanh(W r + b) for every finder.
"""
