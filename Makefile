# The README's two commands: `make demo` (set up, then run the main job) and `make test`.
VENV ?= .venv
DURATION ?= 0
ARGS ?=
PYTEST_ARGS ?=
export MUJOCO_GL ?= egl

.PHONY: setup demo test lint bench

setup:
	@VENV=$(VENV) bash scripts/setup_env.sh

demo: setup
	$(VENV)/bin/vla-ros launch deploy demo:=true duration:=$(DURATION) $(ARGS)

test: setup
	@VENV=$(VENV) bash scripts/setup_test_tools.sh
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check src test training bench launch

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done
