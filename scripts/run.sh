#!/usr/bin/env bash
# The main job: install what is missing, build tai-gitops, render the prod environment.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release --product tai-gitops >&2   # build progress on stderr, the rendered YAML alone on stdout
.build/release/tai-gitops build environments/prod
