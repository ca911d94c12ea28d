#!/usr/bin/env bash
# Benchmarks `tai-gitops apply` against `kubectl apply --server-side` of the same rendered file into
# the cluster emulator: the initial apply of N objects (each tool into a fresh cluster) and a no-op
# re-apply. Each row is the median of RUNS runs (default 5, each with a fresh cluster); prints wall
# time, peak memory, API requests and writes (counted by the emulator).
# The emulator answers in microseconds and shares the two cores with the client; a real API server
# takes milliseconds per write (admission, etcd). The last rows repeat the initial apply with
# LATENCY_MS (default 2) of server latency per request, which the emulator adds without using a core.
# Usage: scripts/bench-apply.sh [N ...]   (default: 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@"); [ ${#SIZES[@]} -eq 0 ] && SIZES=(1000)
RUNS=${RUNS:-5}
LATENCY_MS=${LATENCY_MS:-2}
BIN=$(scripts/build-release.sh)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

count() { curl -s "$1/metrics" | awk -v re="$2" '$0 ~ /^apiserver_request_total/ && $0 ~ re {s += $2} END {print s + 0}'; }
CLUSTER_PID=
start_cluster() {  # name [cluster flags...]
  local name=$1; shift
  [ -n "$CLUSTER_PID" ] && { kill "$CLUSTER_PID" 2>/dev/null || true; wait "$CLUSTER_PID" 2>/dev/null || true; }
  rm -rf "$WORK/cache-$name"
  "$BIN" cluster --port 0 --write-kubeconfig "$WORK/kubeconfig-$name" "$@" > "$WORK/cluster-$name.out" 2>&1 &
  CLUSTER_PID=$!
  while ! grep -q serving "$WORK/cluster-$name.out" 2>/dev/null; do sleep 0.05; done
  URL=$(awk '{print $NF}' "$WORK/cluster-$name.out")
  export KUBECONFIG="$WORK/kubeconfig-$name" KUBECACHEDIR="$WORK/cache-$name"
}
# One measured run: sets MS (wall milliseconds), KB (peak memory), REQ and WRITES.
measure() {
  local before_all before_writes start end
  before_all=$(count "$URL" "."); before_writes=$(count "$URL" 'verb="(apply|create|update|patch|delete)"')
  start=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$WORK/mem" "$@" > "$WORK/out" 2> "$WORK/err" || { echo "failed: $*" >&2; tail -3 "$WORK/err" >&2; }
  end=$(date +%s%N)
  MS=$(( (end - start) / 1000000 )); KB=$(tail -1 "$WORK/mem")
  REQ=$(( $(count "$URL" ".") - before_all ))
  WRITES=$(( $(count "$URL" 'verb="(apply|create|update|patch|delete)"') - before_writes ))
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
row() {  # label N times...
  local label=$1 n=$2; shift 2
  printf '| %s | %s | %.3f s | %s MiB | %s | %s |\n' "$n" "$label" "$(awk -v ms="$(median "$@")" 'BEGIN {print ms / 1000}')" "$((KB / 1024))" "$REQ" "$WRITES"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
RATIOS=()
printf '| N objects | run | wall time (median of %s) | peak memory | API requests | writes |\n|---|---|---|---|---|---|\n' "$RUNS"
for N in "${SIZES[@]}"; do
  DIR="$WORK/bench-$N"; mkdir -p "$DIR"
  scripts/gen-bench-objects.py "$N" "$DIR"
  "$BIN" build "$DIR" > "$DIR/rendered.yaml"
  TAI=("$BIN" apply "$DIR")
  KUBECTL=(kubectl apply --server-side --field-manager tai-gitops -f "$DIR/rendered.yaml")
  for tool in tai kubectl; do
    initial=(); noop=()
    for r in $(seq "$RUNS"); do
      start_cluster "$tool-$N-$r"
      if [ $tool = tai ]; then measure "${TAI[@]}"; else measure "${KUBECTL[@]}"; fi
      initial+=("$MS"); I_KB=$KB; I_REQ=$REQ; I_WRITES=$WRITES
      if [ $tool = tai ]; then measure "${TAI[@]}"; else measure "${KUBECTL[@]}"; fi
      noop+=("$MS")
    done
    label=$([ $tool = tai ] && echo "tai-gitops apply" || echo "kubectl apply --server-side")
    N_KB=$KB; N_REQ=$REQ; N_WRITES=$WRITES
    KB=$I_KB REQ=$I_REQ WRITES=$I_WRITES row "$label (initial)" "$N" "${initial[@]}"
    KB=$N_KB REQ=$N_REQ WRITES=$N_WRITES row "$label (no-op)" "$N" "${noop[@]}"
    eval "${tool}_initial=$(median "${initial[@]}") ${tool}_noop=$(median "${noop[@]}")"
  done
  for tool in tai kubectl; do
    latency=()
    for r in $(seq "$RUNS"); do
      start_cluster "$tool-latency-$N-$r" --faults "latency=${LATENCY_MS}ms"
      if [ $tool = tai ]; then measure "${TAI[@]}"; else measure "${KUBECTL[@]}"; fi
      latency+=("$MS")
    done
    label=$([ $tool = tai ] && echo "tai-gitops apply" || echo "kubectl apply --server-side")
    row "$label (initial, ${LATENCY_MS} ms/request)" "$N" "${latency[@]}"
    eval "${tool}_latency=$(median "${latency[@]}")"
  done
  RATIOS+=("N=$N: initial $(ratio "$kubectl_initial" "$tai_initial")x, no-op $(ratio "$kubectl_noop" "$tai_noop")x, initial with ${LATENCY_MS} ms/request $(ratio "$kubectl_latency" "$tai_latency")x faster than kubectl")
done
printf '\n%s\n' "${RATIOS[@]}"
