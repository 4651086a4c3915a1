#!/usr/bin/env bash
# Sets up everything the app (and, with --test, the tests) need on a fresh machine; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# System packages the tests use (a real PostgreSQL server, headless Chromium, …), from Debian's archive.
if [ "$want_test" = 1 ] && [ -s requirements-system.txt ]; then
  missing=()
  while read -r pkg; do
    pkg=${pkg%%#*}; pkg=$(echo "$pkg" | xargs)
    [ -z "$pkg" ] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < requirements-system.txt
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing system packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
req=requirements.txt
[ "$want_test" = 1 ] && req=requirements-dev.txt
stamp="$VENV/.setup-$(basename "$req" .txt)"
if [ ! -f "$stamp" ] || [ -n "$(find requirements*.txt -newer "$stamp" 2>/dev/null)" ]; then
  "$VENV/bin/pip" install -q --upgrade pip
  # llama-cpp-python compiles llama.cpp once (~8 min on 2 cores); pip's wheel cache makes repeats fast.
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} "$VENV/bin/pip" install -q -r "$req"
  touch "$stamp"
fi
