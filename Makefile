# interpersonal — one task runner; CI runs the same targets (.ci/run calls `make test`).
# GNU make. `make` alone lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules --no-print-directory

VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed

# The interpreter that creates the virtualenv (the project needs Python 3.11).
# Looked up on PATH without our own .venv/bin (which the exports below put first).
PYTHON ?= $(shell PATH='$(subst $(CURDIR)/$(BIN):,,$(PATH))'; command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
# pytest workers (pytest-xdist); CI has 2 cores.
WORKERS ?= 2
# Extra arguments for every pytest run, e.g. `make test PYTEST_ARGS="-k phq9 -x"`.
PYTEST_ARGS ?=
# The PostgreSQL database the Django-backed tests run on a second time.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
# Set to 1 to make an unreachable PostgreSQL a failure outside CI too (CI=true implies it).
REQUIRE_POSTGRES ?= $(if $(filter true 1,$(CI)),1,0)
# `make lock UPGRADE=1` moves every pin to the newest allowed version; otherwise pins are kept.
UPGRADE ?= 0
UV_VERSION ?= 0.13.9

# Tools and the `interpersonal` console script resolve from the virtualenv first (tests run the CLI).
ifeq ($(findstring $(CURDIR)/$(BIN):,$(PATH)),)
export PATH := $(CURDIR)/$(BIN):$(PATH)
endif
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
export PYTHONDONTWRITEBYTECODE := 1
export DJANGO_SETTINGS_MODULE := interpersonal.web.settings

# check and test need settings to load, never a real key: a fixed throwaway one unless the caller set one.
TEST_SECRET_KEY := make-check-and-test-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz

.PHONY: help venv run test check bench lock clean

help: ## List the targets
	@echo "interpersonal — make targets:"
	@grep -E '^[a-z][a-z-]*:.*## ' $(firstword $(MAKEFILE_LIST)) | sort \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  make %-7s %s\n", $$1, $$2}'
	@echo "Variables: WORKERS=$(WORKERS) PYTEST_ARGS='$(PYTEST_ARGS)' PG_TEST_URL=$(PG_TEST_URL) REQUIRE_POSTGRES=$(REQUIRE_POSTGRES) UPGRADE=$(UPGRADE)"

venv: $(STAMP) ## Create .venv and install from requirements.lock (again only when the lock or pyproject.toml changes)
	@:

$(STAMP): requirements.lock pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
		if [ -z "$(PYTHON)" ]; then echo "make venv: no python3.11 or python3 on PATH. Hint: apt-get install python3 python3-venv" >&2; exit 1; fi; \
		echo "Creating $(VENV) with $(PYTHON)"; \
		"$(PYTHON)" -m venv $(VENV) || { echo "make venv: '$(PYTHON) -m venv' failed. Hint (Debian): apt-get install python3-venv" >&2; exit 1; }; \
	fi
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
		echo "make venv: $(VENV) runs Python $$($(BIN)/python -c 'import platform; print(platform.python_version())'), the project needs 3.11." >&2; \
		echo "Hint: rm -rf $(VENV) && make venv PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

run: venv ## Migrate, load the demo data, collect static files; serve with gunicorn on 127.0.0.1:PORT (default 8000) beside the task worker and the questionnaire scheduler
	@if [ ! -f .env ]; then \
		umask 077; \
		key=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))'); \
		printf '# Written by `make run` (which exports these); see .env.example for every variable.\nSECRET_KEY=%s\n' "$$key" > .env; \
		echo "Created .env with a newly generated SECRET_KEY"; \
	fi
	@set -a; . ./.env; set +a; \
	umask 077; \
	port="$${PORT:-8000}"; \
	export INTERPERSONAL_BASE_URL="$${INTERPERSONAL_BASE_URL:-http://127.0.0.1:$$port}"; \
	export INTERPERSONAL_REQUIRE_MFA="$${INTERPERSONAL_REQUIRE_MFA:-0}"; \
	$(BIN)/python manage.py migrate --noinput; \
	if [ -d var ]; then chmod 700 var; fi; \
	login=$$(INTERPERSONAL_DEMO=1 $(BIN)/python manage.py seed_demo --base-url "http://127.0.0.1:$$port"); \
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0; \
	echo; \
	echo "  interpersonal is starting at  http://127.0.0.1:$$port/"; \
	echo "$$login" | sed 's/^/  /'; \
	echo "  Background: the task worker (db_worker) and the questionnaire scheduler run beside the web server;"; \
	echo "  patients' e-mail and SMS print here (console backends, see .env.example)."; \
	case "$$INTERPERSONAL_REQUIRE_MFA" in 0|false|no|off) \
		echo "  Demo: staff MFA is OFF (INTERPERSONAL_REQUIRE_MFA=0); a real service must leave it on.";; \
		*) echo "  Staff MFA is on: each role signs in with a code from an authenticator app.";; esac; \
	echo "  Stop with Ctrl-C (stops all three)."; \
	echo; \
	pids=""; \
	stop() { trap - EXIT INT TERM; if [ -n "$$pids" ]; then kill -TERM $$pids 2>/dev/null || true; wait $$pids 2>/dev/null || true; fi; }; \
	trap stop EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(BIN)/python manage.py db_worker --no-reload --no-startup-delay & pids="$$pids $$!"; \
	$(BIN)/python manage.py schedule_questionnaires --loop & pids="$$pids $$!"; \
	$(BIN)/gunicorn interpersonal.web.wsgi --bind "127.0.0.1:$$port" --workers 2 --access-logfile - & pids="$$pids $$!"; \
	wait -n

test: export SECRET_KEY ?= $(TEST_SECRET_KEY)
test: venv ## System deps, `make check`, the whole suite on SQLite, then tests/web + tests/e2e on PostgreSQL (less the tests about SQLite itself, run in the first pass)
	bash scripts/ensure-system-deps
	$(MAKE) check
	@echo "== pytest on SQLite ($(WORKERS) workers)"
	@env -u DATABASE_URL $(BIN)/python -m pytest -n $(WORKERS) $(PYTEST_ARGS) || { rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests — that is a failure" >&2; fi; exit $$rc; }
	@if $(BIN)/python scripts/pg-available "$(PG_TEST_URL)"; then \
		dirs=""; for d in tests/web tests/e2e tests/reliability; do [ -d "$$d" ] && dirs="$$dirs $$d"; done; \
		if [ -z "$$dirs" ]; then echo "make test: no tests/web or tests/e2e to run on PostgreSQL" >&2; exit 1; fi; \
		echo "== pytest on PostgreSQL ($(PG_TEST_URL)):$$dirs"; \
		DATABASE_URL="$(PG_TEST_URL)" $(BIN)/python -m pytest -n $(WORKERS) -k "not sqlite" $(PYTEST_ARGS) $$dirs || { rc=$$?; \
			if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests on PostgreSQL — that is a failure" >&2; fi; exit $$rc; }; \
	elif [ "$(REQUIRE_POSTGRES)" = 1 ]; then \
		echo "make test: PostgreSQL is required here (CI=true or REQUIRE_POSTGRES=1) but $(PG_TEST_URL) does not answer." >&2; \
		echo "Hint: pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start" >&2; exit 1; \
	else \
		echo "== PostgreSQL at $(PG_TEST_URL) does not answer: the PostgreSQL run is skipped (CI requires it)."; \
	fi

check: export SECRET_KEY ?= $(TEST_SECRET_KEY)
check: venv ## ruff, mypy, makemigrations --check, Django system checks
	$(BIN)/ruff check .
	$(BIN)/mypy
	env -u DATABASE_URL $(BIN)/python manage.py makemigrations --check --dry-run
	env -u DATABASE_URL $(BIN)/python manage.py check --fail-level WARNING

bench: venv ## Run the benchmarks in bench/ (python -m bench, or each bench/*.py)
	@if [ -f bench/__main__.py ]; then \
		$(BIN)/python -m bench; \
	else \
		shopt -s nullglob; scripts=(); \
		for f in bench/*.py; do [ "$$(basename "$$f")" = __init__.py ] || scripts+=("$$f"); done; \
		if [ $${#scripts[@]} -eq 0 ]; then echo "No benchmarks in bench/ yet."; exit 0; fi; \
		for f in "$${scripts[@]}"; do echo "== $$f"; $(BIN)/python "$$f"; done; \
	fi

lock: ## Regenerate requirements.lock with uv (UPGRADE=1 to move pins forward)
	@if [ -z "$(PYTHON)" ]; then echo "make lock: no python3.11 or python3 on PATH" >&2; exit 1; fi
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	"$(PYTHON)" -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"; \
	"$$tmp/venv/bin/uv" pip compile --quiet pyproject.toml --extra dev --python-version 3.11 --generate-hashes \
		$(if $(filter 1,$(UPGRADE)),--upgrade,) -o requirements.lock; \
	echo "requirements.lock regenerated; the next make target reinstalls .venv."

clean: ## Remove caches and build output (keeps .venv, .env and the database in var/)
	rm -rf build dist staticfiles test-results .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ruff_cache \) -type d -print0 | xargs -0 rm -rf
