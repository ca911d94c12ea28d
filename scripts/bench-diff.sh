#!/usr/bin/env bash
# Benchmarks `tai-gitops diff` against `kubectl diff --server-side` on the same input: N objects
# (a third each ConfigMaps, Services and Deployments in one namespace) applied to the cluster
# emulator by tai-gitops' field manager, so both tools find the cluster in sync. Prints wall time,
# peak memory and API requests (counted by the emulator's /metrics) side by side.
# Usage: scripts/bench-diff.sh [N ...]   (default: 1000 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@"); [ ${#SIZES[@]} -eq 0 ] && SIZES=(1000 5000)
swift build -c release --product tai-gitops >&2
BIN=$(swift build -c release --show-bin-path)/tai-gitops
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
  python3 - "$N" "$DIR" <<'PY'
import sys, hashlib, base64
n, out = int(sys.argv[1]), sys.argv[2]
env = out.rstrip("/").split("/")[-1]
ns = "bench"
digest = hashlib.sha256(f"tai-gitops-{env}.{ns}.ConfigMap.".encode()).digest()
ident = "applyset-" + base64.urlsafe_b64encode(digest).decode().rstrip("=") + "-v1"
docs = [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    applyset.kubernetes.io/part-of: {ident}\n"]
for i in range(n - 1):
    labels = f"  labels:\n    app: app-{i}\n    applyset.kubernetes.io/part-of: {ident}\n"
    if i % 3 == 0:
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: {ns}\n{labels}data:\n  key: value-{i}\n  port: \"{8000 + i % 1000}\"\n")
    elif i % 3 == 1:
        docs.append(f"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n  namespace: {ns}\n{labels}spec:\n  selector:\n    app: app-{i}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n")
    else:
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: deploy-{i}
  namespace: {ns}
{labels}spec:
  replicas: 2
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:{i % 7}.0
        ports:
        - containerPort: 8080
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: "0.5", memory: 256Mi}}
""")
open(f"{out}/objects.yaml", "w").write("---\n".join(docs))
open(f"{out}/kustomization.yaml", "w").write("resources:\n- objects.yaml\n")
PY
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
