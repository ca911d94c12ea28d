#!/usr/bin/env bash
# Benchmarks `tai-gitops apply` against `kubectl apply --server-side` of the same rendered file into
# the cluster emulator: the initial apply of N objects (each tool into a fresh cluster) and a no-op
# re-apply. Prints wall time, peak memory, API requests and writes (counted by the emulator).
# Usage: scripts/bench-apply.sh [N ...]   (default: 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@"); [ ${#SIZES[@]} -eq 0 ] && SIZES=(1000)
swift build -c release --product tai-gitops >&2
BIN=$(swift build -c release --show-bin-path)/tai-gitops
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

count() { curl -s "$1/metrics" | awk -v re="$2" '$0 ~ /^apiserver_request_total/ && $0 ~ re {s += $2} END {print s + 0}'; }
start_cluster() {
  "$BIN" cluster --port 0 --write-kubeconfig "$WORK/kubeconfig-$1" > "$WORK/cluster-$1.out" 2>&1 &
  while ! grep -q serving "$WORK/cluster-$1.out" 2>/dev/null; do sleep 0.05; done
  URL=$(awk '{print $NF}' "$WORK/cluster-$1.out")
  export KUBECONFIG="$WORK/kubeconfig-$1" KUBECACHEDIR="$WORK/cache-$1"
}
row() {  # name N cmd...
  local name=$1 n=$2; shift 2
  local before_all before_writes
  before_all=$(count "$URL" "."); before_writes=$(count "$URL" 'verb="(apply|create|update|patch|delete)"')
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || { echo "failed: $*" >&2; tail -3 "$WORK/err" >&2; }
  read -r secs kb < "$WORK/time"
  printf '| %s | %s | %.2f s | %s MiB | %s | %s |\n' "$n" "$name" "$secs" "$((kb / 1024))" \
    "$(( $(count "$URL" ".") - before_all ))" "$(( $(count "$URL" 'verb="(apply|create|update|patch|delete)"') - before_writes ))"
  eval "T_$(echo "$name" | tr -c 'a-z' '_')=$secs"
}

printf '| N objects | run | wall time | peak memory | API requests | writes |\n|---|---|---|---|---|---|\n'
for N in "${SIZES[@]}"; do
  DIR="$WORK/bench-$N"; mkdir -p "$DIR"
  scripts/gen-bench-objects.py "$N" "$DIR"
  "$BIN" build "$DIR" > "$DIR/rendered.yaml"
  start_cluster "tai-$N"
  row "tai-gitops apply (initial)" "$N" "$BIN" apply "$DIR"
  row "tai-gitops apply (no-op)" "$N" "$BIN" apply "$DIR"
  start_cluster "kubectl-$N"
  row "kubectl apply --server-side (initial)" "$N" kubectl apply --server-side --field-manager tai-gitops -f "$DIR/rendered.yaml"
  row "kubectl apply --server-side (no-op)" "$N" kubectl apply --server-side --field-manager tai-gitops -f "$DIR/rendered.yaml"
done
