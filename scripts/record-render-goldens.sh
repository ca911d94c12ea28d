#!/usr/bin/env bash
# Re-records the renderer's golden files with the reference: kustomize v5.5.0 inside kubectl.
# Each scenario is Tests/TaiRenderTests/Scenarios/NAME/ with an input/ tree, an optional `target`
# file naming the directory to build inside input/, and expected.yaml written here.
set -euo pipefail
cd "$(dirname "$0")/../Tests/TaiRenderTests/Scenarios"
for dir in */; do
  name=${dir%/}
  [ -d "$name/input" ] || continue
  target=.
  [ -f "$name/target" ] && target=$(tr -d '\n' < "$name/target")
  if KUBECONFIG=/dev/null kubectl kustomize "$name/input/$target" > "$name/expected.yaml" 2> "$name/.stderr"; then
    echo "recorded $name"
  else
    echo "kubectl kustomize failed for $name:" >&2
    cat "$name/.stderr" >&2
    rm -f "$name/expected.yaml"
  fi
  rm -f "$name/.stderr"
done
