# `make run` sets up and starts the app; `make test` sets up and runs the tests; `make lock` refreshes the locks.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
UV_VERSION ?= 0.13.8
LOCK_UPGRADE ?=
LOCK_ARGS := $(LOCK_UPGRADE) --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --generate-hashes --quiet

.PHONY: run test setup setup-test lock

run: setup
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: setup-test
	$(PY) -m pytest

setup:
	bash scripts/setup.sh

setup-test:
	bash scripts/setup.sh --test

# The exact versions (and hashes) of every Python dependency, resolved from the ranges in requirements*.txt;
# pins that still fit are kept: `make lock LOCK_UPGRADE=--upgrade` takes the newest releases the ranges allow.
lock:
	[ -x .venv-lock/bin/uv ] || (python3 -m venv .venv-lock && .venv-lock/bin/pip install -q "uv==$(UV_VERSION)")
	.venv-lock/bin/uv pip compile $(LOCK_ARGS) requirements.txt -o requirements.lock
	.venv-lock/bin/uv pip compile $(LOCK_ARGS) requirements-dev.txt -c requirements.lock -o requirements-dev.lock
