#!/usr/bin/env bash
# Render benchmark: `tai-gitops build` (release) against the reference `kubectl kustomize`
# (kustomize v5.5.0) on this repository's prod environment and on a generated overlay of N
# Deployments+Services+ConfigMaps. Prints a table of wall time and peak memory side by side.
# Usage: scripts/bench-render.sh [N]   (default 2000 objects of each kind)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
swift build -c release --product tai-gitops >/dev/null
bin=.build/release/tai-gitops
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$n" <<'PY'
import os, sys
work, n = sys.argv[1], int(sys.argv[2])
os.makedirs(f"{work}/base"); os.makedirs(f"{work}/overlay")
with open(f"{work}/base/objects.yaml", "w") as f:
    for i in range(n):
        f.write(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  labels: {{app: app-{i}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: app-{i}}}}}
  template:
    metadata: {{labels: {{app: app-{i}}}}}
    spec:
      serviceAccountName: runner
      containers:
      - name: app
        image: registry.example.com/app:1.0.{i}
        envFrom: [{{configMapRef: {{name: config-{i}}}}}]
        ports: [{{containerPort: 8080, name: http}}]
        resources: {{requests: {{cpu: 100m, memory: 128Mi}}, limits: {{cpu: "1", memory: 1Gi}}}}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
spec:
  selector: {{app: app-{i}}}
  ports: [{{port: 80, targetPort: http}}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-{i}
data: {{LOG_LEVEL: info, PORT: "8080", FEATURE_X: "true"}}
---
""")
    f.write("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n")
open(f"{work}/base/kustomization.yaml", "w").write("resources:\n- objects.yaml\n")
open(f"{work}/overlay/kustomization.yaml", "w").write(
    "resources:\n- ../base\nnamespace: bench\nnamePrefix: prod-\ncommonLabels:\n  env: prod\n"
    "commonAnnotations:\n  owner: platform\nimages:\n- name: registry.example.com/app\n  newTag: '2.0'\n")
PY

measure() { # label, command...
  local label=$1; shift
  local secs mem
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/out" 2>/dev/null
  read -r secs mem < "$work/time"
  printf "%s\t%s\t%s\n" "$label" "$secs" "$mem"
}

cmp -s <($bin build "$work/overlay" 2>/dev/null) <(KUBECONFIG=/dev/null kubectl kustomize "$work/overlay" 2>/dev/null) \
  && same="identical" || same="DIFFERENT"

{
  printf "input\ttool\twall s (median of 5)\tpeak RSS MiB\n"
  for target in environments/prod "$work/overlay"; do
    name=$target; [ "$target" = "$work/overlay" ] && name="generated ($((3 * n + 1)) objects, output $same)"
    for tool in tai-gitops kubectl; do
      times=(); mems=()
      for _ in 1 2 3 4 5; do
        if [ $tool = tai-gitops ]; then r=$(measure x "$bin" build "$target"); else r=$(KUBECONFIG=/dev/null measure x kubectl kustomize "$target"); fi
        times+=("$(cut -f2 <<<"$r")"); mems+=("$(cut -f3 <<<"$r")")
      done
      med=$(printf "%s\n" "${times[@]}" | sort -n | sed -n 3p)
      mem=$(printf "%s\n" "${mems[@]}" | sort -n | sed -n 3p)
      printf "%s\t%s\t%s\t%s\n" "$name" "$tool" "$med" "$((mem / 1024))"
    done
  done
} | column -t -s $'\t'
