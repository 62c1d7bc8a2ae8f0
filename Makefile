# The README's commands. `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the tests run for real: a headless browser for report.html, a Redis server for
# the multi-machine queue (the tests start their own on a loopback port), strace to prove that no
# DNS look-up leaves loopback.
DEBIAN_PACKAGES := chromium redis-server strace
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test lint bench bench-dns bench-archive bench-redis bench-all clean debian-packages

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

# make bench BENCH_ARGS="--hosts 100000 --skip-limit --skip-floor"  (python -m bench.run --help): the crawl
# against its limit and floor, and the report stage; then the Redis mode (python -m bench.redis: the queue
# alone, and the coordinator alone and with a worker beside a plain run and --workers 2, one farm).
# The other sections, each against its own baseline in the same run: bench-dns (real DNS vs the hosts
# file), bench-archive (archive on vs off, filter); bench-redis alone; bench-all runs every one.
bench: install debian-packages
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.redis

bench-dns bench-archive bench-redis: bench-%: install
	$(BIN)/python -m bench.$*

bench-all: bench bench-dns bench-archive

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
