PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-all bench proof notebooks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/rp2 run data/samples/upstream_pacs.008.xml
	$(BIN)/rp2 simulate scenarios/baseline.toml --seed 1 --out out/baseline

test: install
	$(BIN)/pytest -q -m "not slow"

test-all: install
	$(BIN)/pytest -q

bench: install
	$(BIN)/python bench/all.py

proof: install
	$(BIN)/python -m sim.proof --consistency strong
	$(BIN)/python -m sim.proof --consistency eventual

notebooks: install
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
