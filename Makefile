# Fresh machine: `make lab` opens the course, `make test` runs the whole test suite.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup lab test test-oldest bench notebooks setup-cells times clean

setup: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -c "from utils.peers import warm_up_minirocket as w; print(f'MiniRocket compiled and cached by numba in {w():.0f} s')"
	touch $(STAMP)

lab: setup                ## create the environment and open the course in JupyterLab
	$(VENV)/bin/jupyter lab --allow-root notebooks/   # --allow-root: workshop containers often run as root

test: setup               ## create the environment; unit tests on both backends + every notebook (fast mode, 2 workers)
	COURSE_FAST=1 KERAS_BACKEND=tensorflow $(PY) -m pytest -n 2 --dist loadfile   # unit tests + notebooks (each on its own backend)
	COURSE_FAST=1 KERAS_BACKEND=jax $(PY) -m pytest -n 2 --dist loadfile -m "not backend_free and not once" tests   # the unit tests again, on JAX

OLDEST := .venv-oldest
test-oldest:              ## the unit tests on both backends with the lowest TensorFlow, Keras, JAX and keras-self-attention requirements.txt admits
	$(PYTHON) -m venv $(OLDEST)
	$(PYTHON) tools/lowest_versions.py > $(OLDEST)/constraints.txt
	$(OLDEST)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c $(OLDEST)/constraints.txt
	$(OLDEST)/bin/python -c "import tensorflow, keras, jax; print('oldest stack: tensorflow', tensorflow.__version__, '| keras', keras.__version__, '| jax', jax.__version__)"
	COURSE_FAST=1 KERAS_BACKEND=tensorflow $(OLDEST)/bin/python -m pytest -n 2 --dist loadfile tests
	COURSE_FAST=1 KERAS_BACKEND=jax $(OLDEST)/bin/python -m pytest -n 2 --dist loadfile tests

bench: setup              ## training speed of every route side by side (about 15 min; writes benchmarks/)
	$(PY) tools/bench_training.py

notebooks: setup          ## re-run every notebook top to bottom in full mode and store its outputs
	$(PY) tools/run_notebooks.py

setup-cells: setup        ## write every notebook's Colab badge and setup cell from the repository address (forks: COURSE_REPO_URL=...)
	$(PY) tools/write_setup_cells.py

times:                    ## print the per-notebook full-run times recorded by `make notebooks`
	@cat notebooks/run_times.json

clean:
	rm -rf $(VENV) $(OLDEST)
