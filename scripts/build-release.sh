#!/usr/bin/env bash
# Builds the release binary of tai-gitops with the Swift runtime and Foundation linked in
# statically (nothing to install next to it in a container image; no symbol binding at start-up,
# which was a quarter of `tai-gitops --version` and a few percent of every run), and prints its path.
# Build progress goes to stderr. Usage: BIN=$(scripts/build-release.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product tai-gitops >&2
echo "$(swift build -c release --static-swift-stdlib --show-bin-path)/tai-gitops"
