#!/usr/bin/env bash
# Sets up everything the app (and, with --test, the tests) need on a fresh machine; safe to run again.
# Python packages come from the lock files (exact versions and hashes); `make lock` refreshes them.
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
lock=requirements.lock
[ "$want_test" = 1 ] && lock=requirements-dev.lock
stamp="$VENV/.setup-$(basename "$lock" .lock)"
if [ ! -f "$stamp" ] || [ -n "$(find requirements*.lock scripts/setup.sh -newer "$stamp" 2>/dev/null)" ]; then
  "$VENV/bin/pip" install -q --upgrade "pip==26.3"
  # llama.cpp is compiled for a portable x86-64 target, never for the build machine's CPU: a native build on a
  # Xeon with AMX crashed in llama_decode, and a wheel built on one machine must run on the next
  # (measured in docs/local_models.md). The built wheel is kept per version and flags, outside pip's cache,
  # so that a cached wheel built with other flags is never picked up.
  LLAMA_CMAKE_ARGS=${LLAMA_CMAKE_ARGS:-"-DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_CURL=OFF"}
  llama_req=$(mktemp)
  "$VENV/bin/python" scripts/lock_entry.py "$lock" llama-cpp-python >"$llama_req"
  key=$(cat "$llama_req" <(echo "$LLAMA_CMAKE_ARGS") | sha256sum | cut -c1-16)
  wheels=${ASSISTANT_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/office-assistant/wheels}/llama-$key
  if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "Compiling llama.cpp (portable x86-64 build; about 8 minutes on 2 cores)…"
    mkdir -p "$wheels.tmp"
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
      "$VENV/bin/pip" wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python -r "$llama_req" -w "$wheels.tmp"
    rm -rf "$wheels"; mv "$wheels.tmp" "$wheels"
  fi
  rm -f "$llama_req"
  # The wheel built here has no hash in the lock (the lock pins the source archive it was built from).
  "$VENV/bin/pip" install -q --no-deps --force-reinstall "$wheels"/llama_cpp_python-*.whl
  "$VENV/bin/pip" install -q --require-hashes -r "$lock"
  touch "$stamp"
fi
