# The README's commands. `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the tests run for real: a headless browser for report.html, a Redis server for
# the multi-machine queue (the tests start their own on a loopback port), strace to prove that no
# DNS look-up leaves loopback.
DEBIAN_PACKAGES := chromium redis-server strace
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test lint bench clean debian-packages

$(BIN)/optout-audit: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/optout-audit

debian-packages:
	@missing=""; for tool in chromium redis-server strace; do command -v $$tool >/dev/null || missing=yes; done; \
	if [ -n "$$missing" ]; then \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES) >/dev/null; \
	fi

demo: install
	$(BIN)/optout-audit demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install debian-packages lint
	$(BIN)/python -m pytest -q

# make bench BENCH_ARGS="--hosts 100000 --skip-limit --skip-floor"  (python -m bench.run --help)
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
