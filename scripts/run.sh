#!/usr/bin/env bash
# The main job: install what is missing, build tai-gitops, and run the demo of the whole loop on
# an embedded cluster (apply dev and prod, drift by hand, attribution, healing).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
BIN=$(scripts/build-release.sh)   # build progress on stderr, the demo on stdout
"$BIN" demo
