#!/usr/bin/env bash
# make bench: measures the figures the issues name and writes
# docs/benchmarks.md (machine, commands, data sizes, medians, baselines).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
out=docs/benchmarks.md
tmp=$(mktemp)
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (scripts/bench.sh) — do not edit by hand; rerun it."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "- $(go version)"
  echo
  echo "These machines are noisy: figures are medians of repeated runs, and each comparison is with a raw"
  echo "baseline measured in the same run."
  echo
  echo "## Division import (713,031 rows, NBS 2016 five-level list)"
  echo
  bash scripts/bench-divisions.sh
  echo
  echo "## Registry"
  echo
  bash scripts/bench-registry.sh
  echo
  echo "## Web"
  echo
  bash scripts/bench-http.sh
  echo; bash scripts/bench-window-intake.sh # prints its own "## Service window: intake"
  echo; echo "## Service window: dashboard"; echo; bash scripts/bench-window-dashboard.sh
  echo; bash scripts/bench-grid-incidents.sh # prints its own "## Grid: incident desk and map"
  echo; bash scripts/bench-grid-report.sh # prints its own "## Grid: incident reports"
  echo; bash scripts/bench-portal.sh # prints its own "## Public portal"
} > "$tmp"
mv "$tmp" "$out"
echo "wrote $out"
