#!/usr/bin/env bash
# Set up (first time only) and run the whole test suite, headless.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev,eval
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check ditto_desk tests benchmarks scripts packaging
.venv/bin/ruff format --check ditto_desk tests benchmarks scripts packaging
.venv/bin/lint-imports
.venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"
