# ogmint — the README's commands. `make run` and `make test` work on a fresh Debian machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
APT_PACKAGES := redis-server redis-sentinel nginx wrk nodejs fonts-noto-color-emoji fonts-noto-cjk chromium
NATIVE_SRC := $(wildcard native/src/*.rs) native/Cargo.toml Cargo.toml
STAMP := $(VENV)/.ogmint-installed

run: setup ## Set up and start ogmint on the embedded default (SQLite + local files)
	$(PY) -m ogmint

test: setup ## Set up everything and run all tests (lint included)
	$(MAKE) lint
	cd native && OGMINT_TEST_FONT_DIRS="$$($(abspath $(PY)) -c 'import os; from ogmint.rendering.native import bundled_font_dirs; print(os.pathsep.join(bundled_font_dirs()))')" cargo test --release --quiet
	$(PY) -m pytest -q

setup: system-deps $(STAMP)

# Debian packages: CJK and colour-emoji fonts for the renderer; redis (and redis-sentinel for
# the failover drill), nginx and wrk for tests
# and benchmarks; nodejs for the JavaScript kit's tests (pytest runs `node --test` against a live
# server) and the tests that compare webhook bodies with JSON.stringify; chromium for the
# dashboard's browser tests (Playwright drives it, no browser download). Installed only when
# something is missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The editable install builds the Rust extension with maturin (release profile). The Python
# client kit (clients/python) is installed beside it: its tests run against a live server.
$(STAMP): $(VENV)/bin/python pyproject.toml clients/python/pyproject.toml $(NATIVE_SRC)
	$(PIP) install -q -e '.[dev]'
	$(PIP) install -q -e clients/python
	touch $@

lint: setup
	$(VENV)/bin/ruff check server tests bench clients/python
	$(VENV)/bin/ruff format --check server tests bench clients/python
	$(VENV)/bin/mypy
	$(PY) -m mypy.stubtest ogmint._native --allowlist stubtest-allowlist.txt
	cd native && cargo fmt --check && cargo clippy --release --quiet -- -D warnings

bench: setup
	$(PY) bench/run.py
	$(PY) bench/takumi_compare.py
	$(PY) bench/memory_bench.py

# ogmint's blog and reference cards against takumi's (bench/takumi: a bench-only crate, built here on first use).
bench-takumi: setup
	$(PY) bench/takumi_compare.py

# Text drawing with and without the glyph coverage cache, interleaved (its own section; uses
# valgrind for instruction counts when installed).
bench-glyphs: setup
	$(PY) bench/glyph_bench.py

# nginx.conf at the edge: cache hits against a plain static nginx (its own RESULTS.md section).
bench-edge: setup
	$(PY) bench/edge.py

# Dashboard pages with 10,000 tracked renders, and the CPU tracking adds (its own section).
bench-dashboard: setup
	$(PY) bench/dashboard_bench.py

# The whole stack (nginx, two app servers, redis-server, moto S3) under locust, then the
# drills; reports in bench/out/, summaries in bench/RESULTS.md. Not part of `make test`.
load: setup
	$(PY) bench/load.py --drills

# Failover drills during locust runs: kill -9 of an app server, Redis restart, S3 paused 10 s.
drills: setup
	$(PY) bench/load.py --no-load --drills

golden-update: setup
	$(PY) tests/golden/update.py

clean:
	rm -rf $(VENV) target data
