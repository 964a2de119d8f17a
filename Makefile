# Fresh machine: `make lab` opens the course, `make test` runs the whole test suite.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup lab test notebooks times clean

setup: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

lab: setup                ## create the environment and open the course in JupyterLab
	$(VENV)/bin/jupyter lab --allow-root notebooks/   # --allow-root: workshop containers often run as root

test: setup               ## create the environment and run unit tests + every notebook (fast mode, 2 workers)
	COURSE_FAST=1 $(PY) -m pytest -n 2 --dist loadfile

notebooks: setup          ## re-run every notebook top to bottom in full mode and store its outputs
	$(PY) tools/run_notebooks.py

times:                    ## print the per-notebook full-run times recorded by `make notebooks`
	@cat notebooks/run_times.json

clean:
	rm -rf $(VENV)
