# Gulian (固链) — set-up, demo, tests. Everything a fresh clone needs is installed from here.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
GULIAN := $(VENV)/bin/gulian
VENDOR := src/gulian/static/vendor
HOST   ?= 127.0.0.1:8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: all venv assets migrate demo serve test test-pg test-all lint messages bench bench-engine bench-appeals engine-doc clean

all: venv assets

# The virtualenv is rebuilt whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11 / Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# echarts and htmx from the npm registry, copied to static/vendor and served locally.
$(VENDOR)/.installed: package.json
	npm install --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/echarts/dist/echarts.min.js node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	touch $@

assets: $(VENDOR)/.installed

migrate: venv
	$(GULIAN) migrate --noinput

# make demo: install, migrate, generate the demo province, print the logins, serve on $(HOST).
demo: venv assets
	GULIAN_DEMO=1 $(GULIAN) migrate --noinput
	GULIAN_DEMO=1 $(GULIAN) demo --seed 2020
	GULIAN_DEMO=1 $(GULIAN) runserver $(HOST) --noreload

serve: venv assets
	GULIAN_DEMO=1 $(GULIAN) runserver $(HOST)

# make test: the whole suite on SQLite; DATABASE_URL=postgres://... selects PostgreSQL.
test: venv assets
	$(PY) -m pytest

test-pg: venv assets
	DATABASE_URL=$(PG_URL) $(PY) -m pytest

test-all: test test-pg

lint: venv
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

messages: venv
	cd src/gulian && ../../$(GULIAN) makemessages -l en -l zh_Hans --ignore 'static/*' && ../../$(GULIAN) compilemessages

bench: venv
	GULIAN_DEMO=1 $(PY) benchmarks/registry.py

bench-engine: venv
	$(PY) benchmarks/engine.py

# 10,000 appeals by 50 concurrent API clients against gunicorn on PostgreSQL (a scratch database, gulian_bench)
bench-appeals: venv
	$(PY) benchmarks/appeals.py

engine-doc:
	python3 docs/engine/assemble.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
