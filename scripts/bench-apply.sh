#!/usr/bin/env bash
# Benchmarks `tai-gitops apply` against `kubectl apply --server-side` of the same rendered file into
# the cluster emulator: the initial apply of N objects (each tool into a fresh cluster) and a no-op
# re-apply. Prints wall time, peak memory, API requests and writes (counted by the emulator).
# The emulator answers in microseconds and shares the two cores with the client; a real API server
# takes milliseconds per write (admission, etcd). The last rows repeat the initial apply with
# LATENCY_MS (default 2) of server latency per request, which the emulator adds without using a core.
# Usage: scripts/bench-apply.sh [N ...]   (default: 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@"); [ ${#SIZES[@]} -eq 0 ] && SIZES=(1000)
BIN=$(scripts/build-release.sh)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

count() { curl -s "$1/metrics" | awk -v re="$2" '$0 ~ /^apiserver_request_total/ && $0 ~ re {s += $2} END {print s + 0}'; }
LATENCY_MS=${LATENCY_MS:-2}
start_cluster() {  # name [cluster flags...]
  local name=$1; shift
  "$BIN" cluster --port 0 --write-kubeconfig "$WORK/kubeconfig-$name" "$@" > "$WORK/cluster-$name.out" 2>&1 &
  while ! grep -q serving "$WORK/cluster-$name.out" 2>/dev/null; do sleep 0.05; done
  URL=$(awk '{print $NF}' "$WORK/cluster-$name.out")
  export KUBECONFIG="$WORK/kubeconfig-$name" KUBECACHEDIR="$WORK/cache-$name"
}
row() {  # name N cmd...
  local name=$1 n=$2; shift 2
  local before_all before_writes
  before_all=$(count "$URL" "."); before_writes=$(count "$URL" 'verb="(apply|create|update|patch|delete)"')
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || { echo "failed: $*" >&2; tail -3 "$WORK/err" >&2; }
  read -r secs kb < "$WORK/time"
  printf '| %s | %s | %.2f s | %s MiB | %s | %s |\n' "$n" "$name" "$secs" "$((kb / 1024))" \
    "$(( $(count "$URL" ".") - before_all ))" "$(( $(count "$URL" 'verb="(apply|create|update|patch|delete)"') - before_writes ))"
  LAST=$secs
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
RATIOS=()
printf '| N objects | run | wall time | peak memory | API requests | writes |\n|---|---|---|---|---|---|\n'
for N in "${SIZES[@]}"; do
  DIR="$WORK/bench-$N"; mkdir -p "$DIR"
  scripts/gen-bench-objects.py "$N" "$DIR"
  "$BIN" build "$DIR" > "$DIR/rendered.yaml"
  start_cluster "tai-$N"
  row "tai-gitops apply (initial)" "$N" "$BIN" apply "$DIR"; TAI_INITIAL=$LAST
  row "tai-gitops apply (no-op)" "$N" "$BIN" apply "$DIR"; TAI_NOOP=$LAST
  start_cluster "kubectl-$N"
  row "kubectl apply --server-side (initial)" "$N" kubectl apply --server-side --field-manager tai-gitops -f "$DIR/rendered.yaml"; KUBECTL_INITIAL=$LAST
  row "kubectl apply --server-side (no-op)" "$N" kubectl apply --server-side --field-manager tai-gitops -f "$DIR/rendered.yaml"; KUBECTL_NOOP=$LAST
  start_cluster "tai-latency-$N" --faults "latency=${LATENCY_MS}ms"
  row "tai-gitops apply (initial, ${LATENCY_MS} ms/request)" "$N" "$BIN" apply "$DIR"; TAI_LATENCY=$LAST
  start_cluster "kubectl-latency-$N" --faults "latency=${LATENCY_MS}ms"
  row "kubectl apply --server-side (initial, ${LATENCY_MS} ms/request)" "$N" kubectl apply --server-side --field-manager tai-gitops -f "$DIR/rendered.yaml"; KUBECTL_LATENCY=$LAST
  RATIOS+=("N=$N: initial $(ratio "$KUBECTL_INITIAL" "$TAI_INITIAL")x, no-op $(ratio "$KUBECTL_NOOP" "$TAI_NOOP")x, initial with ${LATENCY_MS} ms/request $(ratio "$KUBECTL_LATENCY" "$TAI_LATENCY")x faster than kubectl")
done
printf '\n%s\n' "${RATIOS[@]}"
