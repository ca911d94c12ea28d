#!/usr/bin/env bash
# Benchmarks the agent (scripts/bench-agent.py): idle memory, no-op reconcile cost,
# commit-to-applied through a webhook and edit-to-healed, for N objects over 3 environments.
# Usage: scripts/bench-agent.sh [N]   (default 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(scripts/build-release.sh)
exec python3 scripts/bench-agent.py "$BIN" "${1:-5000}"
