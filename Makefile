# Mosis Store — one Makefile (STYLE §10). `make help` lists the targets.
# The project needs Python 3.11 (pyproject: >=3.11,<3.12): prefer python3.11 when python3 is another version.
PY ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE ?= mosis.settings.local

.PHONY: help install run test lint check format worker beat bench migrate demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install pinned dependencies and the mosis CLI (.venv/bin/mosis)

migrate: $(STAMP) ## apply database migrations
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput

demo: migrate ## load the demo catalog (idempotent)
	$(BIN)/python manage.py seed_demo

run: demo ## run the store with embedded defaults and demo data at http://127.0.0.1:8000
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP) ## run the test suite (SQLite, or PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
	DJANGO_SETTINGS_MODULE=mosis.settings.test $(BIN)/python -m pytest -n 2 --dist loadfile

# Markdown is left alone: ruff would reformat the Python snippets in docs/, which are laid out for reading.
RUFF_FORMAT_EXCLUDE := --extend-exclude '*.md'

lint: $(STAMP) ## ruff check + ruff format --check + the import-linter layering contracts (pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check $(RUFF_FORMAT_EXCLUDE) .
	$(BIN)/lint-imports

check: $(STAMP) ## Django system checks and "no model change without its migration"
	DJANGO_SETTINGS_MODULE=mosis.settings.test $(BIN)/python manage.py check
	DJANGO_SETTINGS_MODULE=mosis.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format $(RUFF_FORMAT_EXCLUDE) .

worker: $(STAMP) ## a Celery worker (needs CELERY_BROKER_URL)
	$(BIN)/celery -A mosis worker -l info

beat: $(STAMP) ## Celery beat with the database scheduler
	$(BIN)/celery -A mosis beat -l info

bench: $(STAMP) ## benchmarks (print figures; see docs/performance.md)
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/diff.py

clean: ## remove .venv, local data and collected static files
	rm -rf $(VENV) var staticfiles
