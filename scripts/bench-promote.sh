#!/usr/bin/env bash
# Benchmarks promotion (issue 15): merge → weights live in the cluster through the forge's push
# webhook and the agent, per step, and the time of a full 10 → 50 → 100 → finish run with a 1 s
# analysis interval and 2 passing checks a step — as `tai-gitops demo` runs it (git-daemon, the
# forge emulator, a real Prometheus scraping the canary's metrics, the agent; all on loopback).
# Usage: scripts/bench-promote.sh [RUNS]   (default 3; the medians are printed)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(scripts/build-release.sh)
RUNS="${1:-3}"
for i in $(seq "$RUNS"); do
  NO_COLOR=1 "$BIN" demo | grep '^  promotion: merge → live in'
done | python3 -c '
import re, statistics, sys
rows = []
for line in sys.stdin:
    m = re.search(r"live in ([\d.]+) / ([\d.]+) / ([\d.]+) / ([\d.]+) s .*finish in ([\d.]+) s", line)
    if m: rows.append([float(x) for x in m.groups()])
if not rows: sys.exit("no promotion figures in the demo output (is prometheus installed? scripts/bootstrap.sh)")
med = [statistics.median(col) for col in zip(*rows)]
print(f"promotion, median of {len(rows)} runs (static release build, 2 cores, everything on loopback)")
print()
print("| measure | tai-gitops | Flagger (documented) | Argo Rollouts (documented) |")
print("|---|---|---|---|")
print(f"| merge → weights live, step 10 / 50 / 100 / finish | {med[0]:.2f} / {med[1]:.2f} / {med[2]:.2f} / {med[3]:.2f} s | no merge: the controller edits the VirtualService itself | no merge: the controller edits the VirtualService itself |")
print(f"| full 10 → 50 → 100 → finish, 1 s analysis interval, 2 checks a step | {med[4]:.1f} s | analysis `interval` 1m by default, `threshold` failed checks | `interval` per AnalysisTemplate, pauses between steps |")
'
