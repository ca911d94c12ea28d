#!/usr/bin/env bash
# Benchmarks `tai-gitops diff` against `kubectl diff --server-side` on the same input: N objects
# (a third each ConfigMaps, Services and Deployments in one namespace) applied to the cluster
# emulator by tai-gitops' field manager, so both tools find the cluster in sync. Prints wall time,
# peak memory and API requests (counted by the emulator's /metrics) side by side.
# Usage: scripts/bench-diff.sh [N ...]   (default: 1000 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@"); [ ${#SIZES[@]} -eq 0 ] && SIZES=(1000 5000)
BIN=$(scripts/build-release.sh)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

requests() { curl -s "$1/metrics" | awk '/^apiserver_request_total/ {s += $2} END {print s + 0}'; }
measure() {  # measure OUT_PREFIX CMD... -> sets SECONDS_TAKEN PEAK_MIB
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || true
  read -r SECONDS_TAKEN PEAK_KB < "$WORK/time"
  PEAK_MIB=$((PEAK_KB / 1024))
}

printf '| N objects | tool | wall time | peak memory | API requests | verdict |\n|---|---|---|---|---|---|\n'
for N in "${SIZES[@]}"; do
  DIR="$WORK/bench-$N"
  mkdir -p "$DIR"
  scripts/gen-bench-objects.py "$N" "$DIR"
  "$BIN" cluster --port 0 --write-kubeconfig "$WORK/kubeconfig-$N" > "$WORK/cluster-$N.out" 2>&1 &
  while ! grep -q serving "$WORK/cluster-$N.out" 2>/dev/null; do sleep 0.05; done
  URL=$(awk '{print $NF}' "$WORK/cluster-$N.out")
  export KUBECONFIG="$WORK/kubeconfig-$N" KUBECACHEDIR="$WORK/cache-$N"
  "$BIN" build "$DIR" > "$DIR/rendered.yaml"
  kubectl apply --server-side --field-manager tai-gitops -f "$DIR/rendered.yaml" > /dev/null

  for mode in local server-side kubectl; do
    before=$(requests "$URL")
    case $mode in
      local) measure "$BIN" diff "$DIR" ;;
      server-side) measure "$BIN" diff "$DIR" --server-side ;;
      kubectl) measure kubectl diff --server-side --field-manager tai-gitops -f "$DIR/rendered.yaml" ;;
    esac
    after=$(requests "$URL")
    case $mode in
      local|server-side) verdict=$(tail -1 "$WORK/out" | sed 's/ (.*//') ;;
      kubectl) [ -s "$WORK/out" ] && verdict="differences" || verdict="no differences" ;;
    esac
    name=$([ $mode = kubectl ] && echo "kubectl diff --server-side" || echo "tai-gitops diff ($mode)")
    printf '| %s | %s | %.2f s | %s MiB | %s | %s |\n' "$N" "$name" "$SECONDS_TAKEN" "$PEAK_MIB" "$((after - before))" "$verdict"
    eval "T_${mode//-/_}=$SECONDS_TAKEN"
  done
  printf '| %s | ratio (kubectl / tai-gitops local) | %.0f× | | | |\n' "$N" "$(echo "$T_kubectl / $T_local" | bc -l)"
  kill %1 2>/dev/null || true; wait 2>/dev/null || true
done
