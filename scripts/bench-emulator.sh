#!/usr/bin/env bash
# Benchmarks the cluster emulator (`tai-gitops cluster`, release build) holding N objects:
# start-up with N objects loaded from --state, then requests per second measured by wrk
# (installed here from Debian if missing) for a single-object GET, a namespace LIST (1,000
# objects), and server-side applies that change an object each time; peak memory from /proc.
# Usage: scripts/bench-emulator.sh [N]   (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
command -v wrk >/dev/null || { sudo -n true 2>/dev/null && SUDO=sudo || SUDO=; $SUDO apt-get install -y -qq wrk >/dev/null; }
BIN=$(scripts/build-release.sh)
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 - "$N" > "$WORK/state.yaml" <<'PY'
import sys
n = int(sys.argv[1])
namespaces = max(1, n // 1000)
for i in range(namespaces):
    print(f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{i}")
for i in range(n):
    print(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: ns-{i % namespaces}\n  labels:\n    app: bench\ndata:\n  key: value-{i}\n  other: \"{i}\"")
PY

start=$(date +%s.%N)
"$BIN" cluster --port 0 --state "$WORK/state.yaml" > "$WORK/out" 2> "$WORK/err" &
PID=$!
while ! grep -q serving "$WORK/out" 2>/dev/null; do sleep 0.05; done
ready=$(date +%s.%N)
URL=$(awk '{print $NF}' "$WORK/out")

cat > "$WORK/apply.lua" <<'LUA'
counter = 0
request = function()
  counter = counter + 1
  local i = counter % 1000
  local body = string.format('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%d","namespace":"ns-0"},"data":{"key":"changed-%d"}}', i * 10, counter)
  return wrk.format("PATCH", string.format("/api/v1/namespaces/ns-0/configmaps/cm-%d?fieldManager=bench&force=true", i * 10),
    {["Content-Type"] = "application/apply-patch+yaml"}, body)
end
LUA

rps() { wrk -t1 -c8 -d5s "$@" 2>/dev/null | awk '/Requests\/sec/ {printf "%.0f", $2}'; }
get=$(rps "$URL/api/v1/namespaces/ns-1/configmaps/cm-1")
apply=$(rps -s "$WORK/apply.lua" "$URL")
list=$(wrk -t1 -c2 -d5s "$URL/api/v1/namespaces/ns-2/configmaps" 2>/dev/null | awk '/Requests\/sec/ {printf "%.1f", $2}')
objects=$(curl -s "$URL/metrics" | awk '/^apiserver_storage_objects/ {print $2}')
peak=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$PID/status)

printf '\n| measure (N = %s objects, 2 cores, wrk 8 connections) | emulator |\n|---|---|\n' "$N"
printf '| objects held | %s |\n' "$objects"
printf '| start-up with the state loaded | %.2f s |\n' "$(echo "$ready - $start" | bc)"
printf '| GET one object | %s req/s |\n' "$get"
printf '| server-side apply (each changes the object) | %s req/s |\n' "$apply"
printf '| LIST a namespace of %s objects | %s req/s |\n' "$((N / (N / 1000 > 0 ? N / 1000 : 1)))" "$list"
printf '| peak memory (VmHWM) | %s MiB |\n' "$peak"
