# `make run` sets up and starts the app; `make test` sets up and runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test setup setup-test

run: setup
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: setup-test
	$(PY) -m pytest

setup:
	bash scripts/setup.sh

setup-test:
	bash scripts/setup.sh --test
