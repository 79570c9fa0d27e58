#!/usr/bin/env bash
# Set up (first time only) and start ditto-desk on the bundled default model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/ditto-desk "$@"
