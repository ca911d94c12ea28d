#!/usr/bin/env bash
# Every test: install what is missing, build, run the whole suite (unit, golden, end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build --build-tests
swift test --skip-build
