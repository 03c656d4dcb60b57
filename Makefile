# msmcore: every target sets itself up (idempotently) before it runs.
#   make test   - set up, then the static checks and the whole test suite (core, plugins, MPI)
#   make lint   - the static checks alone: ruff on all the Python code, mypy on msmcore and each
#                 plugin's src (both configured in pyproject.toml)
#   make demo   - set up, then run the examples
#   make bench  - set up, then the benchmarks (writes nothing to docs/ by itself)
#   make setup  - only the set-up: apt packages, .venv, PETSc stack, editable installs

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
MSM := $(VENV)/bin/msm
# OpenMPI refuses root without these; --oversubscribe lets 3 ranks run on 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_rmaps_base_oversubscribe := 1
MPIEXEC ?= mpiexec --oversubscribe
PLUGIN_TESTS := $(filter-out plugins/_template/tests,$(wildcard plugins/*/tests))
PYTEST := $(PY) -m pytest

.PHONY: setup lint test test-serial test-mpi demo bench clean

setup:
	@MSM_VENV=$(VENV) bash tools/setup-env.sh

test: setup
	$(MAKE) --no-print-directory lint test-serial test-mpi

# Static checks first: a lint or type error fails the run before the tests start
# (both checkers run, so one run lists every finding). mypy checks the files listed
# in pyproject.toml (msmcore and plugins/*/src, each plugin's src a package root) in
# one run, incrementally from .mypy_cache.
LINT_PATHS := msmcore plugins benchmarks examples tests
lint:
	@status=0; \
	$(PY) -m ruff check $(LINT_PATHS) || status=1; \
	$(PY) -m mypy || status=1; \
	exit $$status

# The serial suite runs on every core (pytest-xdist); tests share nothing but the read-only venv.
# Files with slow tests come first (tests/conftest.py) and --dist worksteal gives each worker half
# the list, an idle worker taking the tail of a busy one's: the long tests start at once and the
# workers finish together. (The default --dist load hands each worker a fixed first chunk of the
# list and never moves it: one worker would hold every long test.)
JOBS ?= $(shell nproc)
test-serial:
	$(PYTEST) -n $(JOBS) --dist worksteal --ignore=tests/mpi $(addprefix --ignore=,$(wildcard plugins/*/tests/mpi)) tests $(PLUGIN_TESTS)

MPI_TESTS := tests/mpi $(wildcard plugins/*/tests/mpi)

# A rank that fails while the others wait in a collective would hang: every test has a
# time limit (pytest-timeout ends that rank, and mpiexec then ends the job), and the
# whole run an outer one.
MPI_PYTEST := timeout 900 $(MPIEXEC) -n
MPI_ARGS := $(PYTEST) -q -p no:cacheprovider --timeout=300 --timeout-method=thread $(MPI_TESTS)

test-mpi:
	$(MPI_PYTEST) 2 $(MPI_ARGS)
	$(MPI_PYTEST) 3 $(MPI_ARGS)

# The examples, the newer families at reduced sizes (each example's README gives the full size).
demo: setup
	$(MSM) plugins
	$(PY) examples/script_component/decay.py
	mkdir -p build
	$(PY) examples/reaction_diffusion/rd.py --plot build/rd.png
	cd examples/reaction_diffusion && $(abspath $(MSM)) run rd.yaml --out $(abspath build/demo-rd.nc)
	$(PY) examples/partitioned_heat/heat.py --plot build/heat.png
	$(PY) examples/oscillator/oscillator.py --plot build/oscillator.png
	$(MPIEXEC) -n 2 $(PY) examples/reaction_diffusion/rd.py
	cd examples/cavity && $(abspath $(PY)) cavity.py --nodes 65 --plot $(abspath build/cavity.png)
	$(PY) examples/natural_convection/cavity.py --ra 1e3 1e4 --nodes 17 33 --plot build/natural_convection_{ra}.png
	$(PY) examples/tumour_spheroid/spheroid.py --dim 2 --until 1440
	$(PY) examples/hmm_surrogate/hmm.py --cells 40 --plot build/hmm.png
	$(PY) examples/qmmm_water/qmmm.py --reduced --plot build/qmmm.png --out build/qmmm.json

# The peer (MUSCLE3 from PyPI) lives in its own environment, set up once.
BENCH_VENV := benchmarks/.venv-muscle3
$(BENCH_VENV)/.installed: benchmarks/muscle3_rd/requirements.txt
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --disable-pip-version-check -r $<
	touch $@

bench: setup $(BENCH_VENV)/.installed
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info msmcore/*.egg-info .pytest_cache
