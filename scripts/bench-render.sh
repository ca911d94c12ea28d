#!/usr/bin/env bash
# Render benchmark: `tai-gitops build` (release build) against the reference `kubectl kustomize`
# (kustomize v5.5.0) on generated trees: a base of N Deployments, N Services and N generated
# ConfigMaps, under three overlay levels with patches (strategic merge and JSON 6902), images,
# labels, annotations, a name prefix and a namespace. Prints wall time and peak memory side by
# side, with the ratio, and checks that both tools print the same bytes.
# Usage: scripts/bench-render.sh [N ...]      (default: 100 1000 5000; runs: 3, 1 for N >= 5000)
#        BENCH_REFERENCE=0 scripts/bench-render.sh …   measures tai-gitops only
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000)
bin=$(scripts/build-release.sh 2>/dev/null)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

generate() { # dir n
  python3 - "$1" "$2" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for d in ("base", "l1", "l2", "l3"):
    os.makedirs(f"{root}/{d}", exist_ok=True)
with open(f"{root}/base/objects.yaml", "w") as f:
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
      containers:
      - name: app
        image: registry.example.com/app:1.0.{i}
        envFrom: [{{configMapRef: {{name: config-{i}}}}}]
        env: [{{name: INDEX, value: "{i}"}}]
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
""")
with open(f"{root}/base/kustomization.yaml", "w") as f:
    f.write("resources:\n- objects.yaml\nconfigMapGenerator:\n")
    for i in range(n):
        f.write(f"- name: config-{i}\n  literals:\n  - LOG_LEVEL=info\n  - INDEX={i}\n")
open(f"{root}/l1/kustomization.yaml", "w").write("""resources:
- ../base
namePrefix: prod-
commonLabels:
  env: prod
images:
- name: registry.example.com/app
  newTag: "2.0"
patches:
- target:
    kind: Deployment
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: any
    spec:
      template:
        spec:
          containers:
          - name: app
            env:
            - name: REGION
              value: eu-west-1
""")
open(f"{root}/l2/kustomization.yaml", "w").write("""resources:
- ../l1
labels:
- pairs:
    team: platform
  includeTemplates: true
patches:
- target:
    kind: Service
  patch: |-
    - op: add
      path: /metadata/annotations
      value:
        exposed: "true"
""")
open(f"{root}/l3/kustomization.yaml", "w").write("""resources:
- ../l2
namespace: bench
commonAnnotations:
  owner: platform
replicas:
- name: app-0
  count: 5
""")
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

printf "%-8s %-9s %-22s %-22s %-12s %-12s %-10s %s\n" "N" "objects" "tai-gitops s (MiB)" "kubectl s (MiB)" "time ratio" "memory ratio" "per object" "output"
for n in "${sizes[@]}"; do
  dir=$work/n$n
  generate "$dir" "$n"
  runs=3; [ "$n" -ge 5000 ] && runs=1
  tools="tai kubectl"; [ "${BENCH_REFERENCE:-1}" = 0 ] && tools="tai"
  for tool in $tools; do
    : > "$work/$tool.t"; : > "$work/$tool.m"
    for _ in $(seq $runs); do
      if [ $tool = tai ]; then
        /usr/bin/time -f "%e %M" -o "$work/time" "$bin" build "$dir/l3" > "$work/$tool.out" 2>/dev/null
      else
        KUBECONFIG=/dev/null /usr/bin/time -f "%e %M" -o "$work/time" kubectl kustomize "$dir/l3" > "$work/$tool.out" 2>/dev/null
      fi
      read -r s m < "$work/time"; echo "$s" >> "$work/$tool.t"; echo "$m" >> "$work/$tool.m"
    done
  done
  ts=$(median < "$work/tai.t"); tm=$(( $(median < "$work/tai.m" | cut -d. -f1) / 1024 ))
  if [ "${BENCH_REFERENCE:-1}" = 0 ]; then
    printf "%-8s %-9s %-22s\n" "$n" "$(grep -c '^kind:' "$work/tai.out")" "$ts ($tm)"
    continue
  fi
  ks=$(median < "$work/kubectl.t"); km=$(( $(median < "$work/kubectl.m" | cut -d. -f1) / 1024 ))
  objects=$(grep -c '^kind:' "$work/tai.out")
  same=$(cmp -s "$work/tai.out" "$work/kubectl.out" && echo identical || echo DIFFERENT)
  printf "%-8s %-9s %-22s %-22s %-12s %-12s %-10s %s\n" "$n" "$objects" "$ts ($tm)" "$ks ($km)" \
    "$(awk -v a="$ks" -v b="$ts" 'BEGIN { printf "%.0fx", (b > 0 ? a / b : 0) }')" \
    "$(awk -v a="$km" -v b="$tm" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')" \
    "$(awk -v s="$ts" -v o="$objects" 'BEGIN { printf "%.0f us", s * 1e6 / o }')" "$same"
done
