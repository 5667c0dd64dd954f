# evaluator-cert: `make run` sets up and serves the app; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: install dev run serve test lint format bench bench-quick clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

# Share links, QR codes and PDFs name the port actually served. A base URL set in the
# environment or on the command line always wins (empty counts as unset, as in config.py).
run serve: export EVALUATOR_CERT_BASE_URL := $(or $(EVALUATOR_CERT_BASE_URL),http://localhost:$(PORT))

## Set up the SQLite database with demo content and accounts, then serve on http://localhost:$(PORT)
run: install
	$(PY) -m evaluator_cert seed-demo
	$(MAKE) --no-print-directory serve

serve: install
	$(VENV)/bin/streamlit run asgi.py --server.port $(PORT) --server.headless true

## The whole suite (unit, integration on SQLite and PostgreSQL if configured, AppTest, browser)
test: dev
	$(VENV)/bin/pytest -n 2 --dist loadfile -rfE $(PYTEST_ARGS)

lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The seed first: it measures the bulk load, and the scripts after it reuse that cohort.
BENCHMARKS := seed dashboards api coldstart agreement

bench: dev
	@for b in $(BENCHMARKS); do echo "== $$b"; $(PY) benchmarks/bench_$$b.py || exit 1; done

bench-quick: dev
	@for b in $(BENCHMARKS); do echo "== $$b"; $(PY) benchmarks/bench_$$b.py --quick || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
