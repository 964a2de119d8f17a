# Fresh machine: `make lab` opens the course, `make test` runs the whole test suite.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup lab test bench notebooks times clean

setup: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

lab: setup                ## create the environment and open the course in JupyterLab
	$(VENV)/bin/jupyter lab --allow-root notebooks/   # --allow-root: workshop containers often run as root

test: setup               ## create the environment; unit tests on both backends + every notebook (fast mode, 2 workers)
	COURSE_FAST=1 KERAS_BACKEND=tensorflow $(PY) -m pytest -n 2 --dist loadfile   # unit tests + notebooks (each on its own backend)
	COURSE_FAST=1 KERAS_BACKEND=jax $(PY) -m pytest -n 2 --dist loadfile tests    # the unit tests again, on JAX

bench: setup              ## training speed of every route side by side (about 15 min; writes benchmarks/)
	$(PY) tools/bench_training.py

notebooks: setup          ## re-run every notebook top to bottom in full mode and store its outputs
	$(PY) tools/run_notebooks.py

times:                    ## print the per-notebook full-run times recorded by `make notebooks`
	@cat notebooks/run_times.json

clean:
	rm -rf $(VENV)
