# Fresh machine: `make lab` opens the course, `make test` runs the whole test suite.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup lab check test test-oldest colab-test bench notebooks setup-cells times site site-test wheelhouse wheelhouse-test clean

# setup, lab and check are also plain Python commands, for machines without make: python tools/course.py setup|lab|check
OFFLINE ?=
COURSE  := $(PYTHON) tools/course.py

setup:                    ## create .venv and install requirements.txt (OFFLINE=1: from wheelhouse/, no index)
	$(COURSE) setup $(if $(OFFLINE),--offline)

lab:                      ## create the environment and open the course in JupyterLab (OFFLINE=1 as above)
	$(COURSE) lab $(if $(OFFLINE),--offline)

check: setup              ## the set-up check a learner runs the day before: one line per item, green or red with the fix
	$(PY) -m utils.check_setup

# make test keeps JAX's compiled programs in a folder of its own (a clean clone starts it empty). Each pass starts
# the longest files first, by tests/file_times.json; COURSE_RECORD_TEST_TIMES=1 make test re-records it.
TEST_CACHE ?= $(CURDIR)/.cache
test: setup               ## create the environment; unit tests on both backends + every notebook (fast mode, 2 workers)
	$(PY) -m ruff check --no-cache .   # the linter first: seconds, and a clear message (rules: pyproject.toml)
	COURSE_FAST=1 COURSE_CACHE_DIR=$(TEST_CACHE) KERAS_BACKEND=tensorflow $(PY) -m pytest -n 2 --dist loadfile --durations=12 -m "not once"   # unit tests + notebooks (each on its own backend)
	COURSE_FAST=1 COURSE_CACHE_DIR=$(TEST_CACHE) KERAS_BACKEND=jax $(PY) -m pytest -n 2 --dist loadfile --durations=8 -m "not backend_free" tests   # the unit tests again, on JAX, with the backend-independent ones (once)

OLDEST := .venv-oldest
test-oldest:              ## the unit tests on both backends with the lowest TensorFlow, Keras, JAX and keras-self-attention requirements.txt admits
	$(PYTHON) -m venv $(OLDEST)
	$(PYTHON) -m tools.lowest_versions > $(OLDEST)/constraints.txt
	$(OLDEST)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c $(OLDEST)/constraints.txt
	$(OLDEST)/bin/python -c "import tensorflow, keras, jax; print('oldest stack: tensorflow', tensorflow.__version__, '| keras', keras.__version__, '| jax', jax.__version__)"
	COURSE_FAST=1 KERAS_BACKEND=tensorflow $(OLDEST)/bin/python -m pytest -n 2 --dist loadfile tests
	COURSE_FAST=1 KERAS_BACKEND=jax $(OLDEST)/bin/python -m pytest -n 2 --dist loadfile tests

bench: setup              ## training speed of every route, interleaved; the compilation cache; attention_fit (writes benchmarks/)
	$(PY) -m tools.bench_training
	$(PY) -m tools.bench_compilation_cache   # JAX's persistent compilation cache: off, cold, warm; a notebook re-run
	$(PY) -m tools.bench_attention_fit   # the clinic's attention_fit: ten seeds of lesson 07's Q000 pair
	$(PY) -m tools.bench_scaling   # lesson 10: bucketing against padding to the longest; one step against sequence length

notebooks: setup          ## re-run every notebook top to bottom in full mode and store its outputs
	$(PY) -m tools.run_notebooks

setup-cells: setup        ## write every notebook's Colab badge and setup cell from the repository address (forks: COURSE_REPO_URL=...)
	$(PY) -m tools.write_setup_cells

times:                    ## print the per-notebook full-run times recorded by `make notebooks`
	@cat notebooks/run_times.json

colab-test: setup         ## each notebook's setup cell run the way Colab runs it (a stub google.colab, a fresh folder)
	$(PY) -m pytest -p no:cacheprovider -n 2 tests/colab

SITE_VENV := .venv-site
SITE_PY   := $(SITE_VENV)/bin/python
SITE_STAMP := $(SITE_VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(SITE_STAMP): requirements-site.txt
	$(PYTHON) -m venv $(SITE_VENV)
	$(SITE_PY) -m pip install --quiet --disable-pip-version-check -r requirements-site.txt
	touch $(SITE_STAMP)

site: $(SITE_STAMP)       ## the course website from the notebooks' stored outputs, offline: site/_build/html/index.html
	$(SITE_PY) -m tools.vendor_site_js
	$(SITE_PY) -m sphinx -b html -q site site/_build/html
	@echo "open site/_build/html/index.html"

site-test: site           ## every page of the website in headless Chromium (installs Debian's chromium if missing)
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }
	$(SITE_PY) -m tools.check_site --self-test   # the checker catches one planted fault of each kind
	$(SITE_PY) -m tools.check_site

wheelhouse: setup         ## every wheel the course needs, for Linux, macOS and Windows on Python 3.11 and 3.12 (several GB)
	$(PY) -m tools.wheelhouse --platforms all

wheelhouse-test: setup    ## a fresh environment installed from a wheelhouse with no package index (this machine's wheels)
	$(PY) -m pytest -p no:cacheprovider tests/offline

clean:
	rm -rf $(VENV) $(OLDEST) $(SITE_VENV) site/_build site/_vendor site/_generated site/api
