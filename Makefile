# `make test` and `make demo` create (or update) .venv in the repository root, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint format bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(BIN)/python -c "import importlib.metadata as m, sys; bad = [d for d in ('opencv-python', 'opencv-contrib-python') if any(x.metadata['Name'] == d for x in m.distributions())]; sys.exit(f'two OpenCV wheels installed: {bad}' if bad else 0)"
	touch $@

# One pytest worker per core (pytest-xdist); each test file stays on one worker, so a module's trained model is
# learnt once. 13 min on the 2-core development machine, 26 serially.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile

demo: $(STAMP)
	$(BIN)/python -m dreaming.demo
	$(BIN)/python -m segmenters.demo

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/dream_speed.py

clean:
	rm -rf $(VENV) outputs multirun
