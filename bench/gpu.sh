#!/usr/bin/env bash
# The full Fig. 6A and Fig. 6B sweeps on one GPU, timed.
#
#   bench/gpu.sh [OUT]                 (OUT default: gpu-runs; run from anywhere)
#
# 1. makes a virtualenv ($VENV, default .venv-gpu) with ghostmech (this checkout)
#    and jax[cuda12]==0.10.2: from PyPI if it is reachable, else from the wheels
#    in $WHEELS (default: wheels/). Make that folder on a connected machine with
#    the same Python and platform:
#        pip download 'jax[cuda12]==0.10.2' . -d wheels
# 2. checks that JAX sees a GPU (refuses to time a CPU run unless ALLOW_CPU=1);
# 3. times `ghostmech sweep fig6a_rank1 --full` (30 lr x 10 seeds x 200,001
#    epochs, the rank-one kernel, one task of 300 networks) and
#    `ghostmech sweep fig6b --full` (9 ranks x 10 lr x 10 seeds x 500,000 epochs,
#    vmap, one task of 100 networks per rank), each after a --quick warm-up.
#
# Rerunning continues interrupted sweeps (and skips finished ones); delete OUT to
# time again. Environment: PYTHON (python3), VENV, WHEELS, QUICK=1 (quick
# variants only: a smoke test), SKIP_INSTALL=1 (use the python on PATH as is),
# ALLOW_CPU=1, NPT_6A (300), NPT_6B (100).
#
# Status: written without a GPU at hand; checked on CPU only
# (QUICK=1 ALLOW_CPU=1 SKIP_INSTALL=1). Untested on a GPU.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$(realpath -m "${1:-gpu-runs}")
PYTHON=${PYTHON:-python3}
VENV=${VENV:-$ROOT/.venv-gpu}
WHEELS=${WHEELS:-$ROOT/wheels}
JAX_SPEC='jax[cuda12]==0.10.2'
cd "$ROOT"

log() { printf '[gpu.sh %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

if [[ "${SKIP_INSTALL:-0}" == 1 ]]; then
  PY=$(command -v python)
else
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
  fi
  PY="$VENV/bin/python"
  if "$PY" - <<'EOF' 2>/dev/null; then
import urllib.request
urllib.request.urlopen("https://pypi.org/simple/jax/", timeout=10)
EOF
    log "PyPI reachable: installing $JAX_SPEC and ghostmech"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q "$JAX_SPEC" -e "$ROOT"
  elif compgen -G "$WHEELS/*.whl" >/dev/null; then
    log "PyPI not reachable: installing from $WHEELS"
    "$PY" -m pip install -q --no-index --find-links "$WHEELS" "$JAX_SPEC" -e "$ROOT"
  else
    log "PyPI is not reachable and $WHEELS holds no wheels; on a connected machine run"
    log "    pip download '$JAX_SPEC' $ROOT -d wheels    and copy wheels/ here"
    exit 2
  fi
fi
GHOSTMECH=("$PY" -c 'import sys; from ghostmech.cli import main; sys.exit(main())')

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
"$PY" - <<'EOF'
import jax
print(f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()}")
EOF
BACKEND=$("$PY" -c 'import jax; print(jax.default_backend())')
if [[ "$BACKEND" != gpu && "${ALLOW_CPU:-0}" != 1 ]]; then
  log "JAX sees no GPU (backend: $BACKEND); set ALLOW_CPU=1 to time on CPU anyway"
  exit 3
fi

mkdir -p "$OUT"
TIMINGS="$OUT/timings.txt"
sweep() {  # sweep NAME VARIANT NETWORKS_PER_TASK
  local name=$1 variant=$2 npt=$3 t0 t1
  log "ghostmech sweep $name --$variant --networks-per-task $npt"
  t0=$(date +%s.%N)
  "${GHOSTMECH[@]}" sweep "$name" "--$variant" --out "$OUT/$name.$variant" --networks-per-task "$npt"
  t1=$(date +%s.%N)
  printf '%-12s %-6s %8.1f s  (%s, %s)\n' "$name" "$variant" "$(awk "BEGIN { print $t1 - $t0 }")" \
    "$BACKEND" "$(date -Is)" | tee -a "$TIMINGS"
}

sweep fig6a_rank1 quick "${NPT_6A:-300}"
sweep fig6b quick "${NPT_6B:-100}"
if [[ "${QUICK:-0}" != 1 ]]; then
  sweep fig6a_rank1 full "${NPT_6A:-300}"
  sweep fig6b full "${NPT_6B:-100}"
fi
log "timings (wall, compile and writing included) in $TIMINGS:"
cat "$TIMINGS"
