#!/bin/bash
# The paper at its own sizes (issue 12, item 3): each figure's --full run into
# docs/results/<fig>/seed<S>/, skipping any that finished before (summary.json present).
# A figure is one process; run two of these at once (e.g. FIGS="fig3a fig9" and
# FIGS="fig8c") to use both cores. Wall time and CPU time go to docs/results/<fig>/time.log.
#
#   FIGS="fig3a" SEEDS="0 1 2 3 4" bash bench/full_record.sh
#   FIGS="fig4a fig4e fig6a fig7a fig7c fig8c fig9" SEEDS=0 bash bench/full_record.sh
set -u
cd "$(dirname "$0")/.."
FIGS=${FIGS:-"fig3a fig4a fig4e fig9 fig8c fig7a fig7c fig6a fig6b"}
SEEDS=${SEEDS:-0}
BIN=${BIN:-.venv/bin}
for fig in $FIGS; do
  for s in $SEEDS; do
    out=docs/results/$fig/seed$s
    [ -f "$out/summary.json" ] && continue
    mkdir -p "$out"
    /usr/bin/time -a -o "docs/results/$fig/time.log" \
      -f "$fig seed $s: %e s wall, %U s user, %M KB max RSS, $(nproc) cores, $(date -u +%FT%TZ)" \
      nice -n "${NICE:-10}" "$BIN/ghostmech" reproduce "$fig" --full --seed "$s" --out "$out" \
      > "$out/log.txt" 2>&1 || echo "$fig seed $s failed (see $out/log.txt)"
    # keep the record small: the summary, the REPRODUCTION.md and the panels' PNGs
    find "$out" \( -name "*.gif" -o -name "*.mp4" -o -name "*.pdf" -o -name "*.zarr" \) -prune \
      -exec rm -rf {} +
  done
done
