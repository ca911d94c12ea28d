#!/usr/bin/env bash
# The main job: install what is missing, build tai-gitops, render the prod environment.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release --product tai-gitops
.build/release/tai-gitops build environments/prod
