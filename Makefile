# ogmint — the README's commands. `make run` and `make test` work on a fresh Debian machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# What serving needs: Python's venv and the renderer's CJK and colour-emoji fonts.
RUN_APT := python3-venv fonts-noto-color-emoji fonts-noto-cjk
# What only tests and benchmarks need: redis (and redis-sentinel for the failover drill), nginx
# and wrk; nodejs for the JavaScript kit's tests (pytest runs `node --test` against a live
# server) and the tests that compare webhook bodies with JSON.stringify; chromium for the dashboard's browser tests (Playwright drives it,
# no browser download); podman, runc, debootstrap and podman's DNS plugin for the container
# image and compose tests (tests/container).
TEST_APT := redis-server redis-sentinel nginx wrk nodejs chromium podman runc debootstrap \
	golang-github-containernetworking-plugin-dnsname
NATIVE_SRC := $(wildcard native/src/*.rs) native/Cargo.toml Cargo.toml
STAMP := $(VENV)/.ogmint-installed
DEV_STAMP := $(VENV)/.ogmint-dev-installed
# The container tests run podman like this (NOTES: this sandbox refuses raising rlimits and has
# hybrid cgroups); tests/container reads the same flags from its own helper.
PODMAN := podman --runtime runc --cgroup-manager=cgroupfs
BASE_IMAGE := docker.io/library/debian:trixie-slim
# debootstrap uses the mirror apt uses here.
DEBIAN_MIRROR = $(or $(shell sed -n 's/^URIs: *\(http[^ ]*debian\)$$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1),http://deb.debian.org/debian)

run: setup ## Set up and start ogmint on the embedded default (SQLite + local files)
	$(PY) -m ogmint

test: setup-test container-base ## Set up everything and run all tests (lint included)
	$(MAKE) lint
	cd native && OGMINT_TEST_FONT_DIRS="$$($(abspath $(PY)) -c 'import os; from ogmint.rendering.native import bundled_font_dirs; print(os.pathsep.join(bundled_font_dirs()))')" cargo test --release --quiet
	$(PY) -m pytest -q

setup: run-deps $(STAMP)

setup-test: run-deps test-deps $(STAMP) $(DEV_STAMP)

# Debian packages, installed only when something is missing.
run-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(RUN_APT)"

test-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(TEST_APT)"
	@# The kits' packaging test runs `npm pack`: Debian's nodejs ships without npm (NodeSource's
	@# has it, so only a missing command asks apt for Debian's).
	@command -v npm >/dev/null || $(MAKE) --no-print-directory apt-install PACKAGES=npm

apt-install:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# The image the Containerfiles start from, made locally when no registry is reachable (the
# sandbox has none): a minimal Debian trixie by debootstrap, imported under the official name,
# so `FROM debian:trixie-slim` with --pull=never finds it. Kept in podman's store (~45 s once).
container-base:
	@$(PODMAN) image exists $(BASE_IMAGE) || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  root=$$(mktemp -d /var/tmp/ogmint-trixie.XXXXXX); \
	  echo "creating $(BASE_IMAGE) with debootstrap from $(DEBIAN_MIRROR)"; \
	  $$SUDO debootstrap --variant=minbase trixie $$root $(DEBIAN_MIRROR) >/dev/null && \
	  $$SUDO tar -C $$root -c . | $(PODMAN) import - $(BASE_IMAGE) >/dev/null; \
	  status=$$?; $$SUDO rm -rf $$root; exit $$status; }

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The editable install builds the Rust extension with maturin (release profile).
$(STAMP): $(VENV)/bin/python pyproject.toml $(NATIVE_SRC)
	$(PIP) install -q -e .
	touch $@

# Test tools, and the Python client kit (clients/python): its tests run against a live server.
$(DEV_STAMP): $(STAMP) pyproject.toml clients/python/pyproject.toml
	$(PIP) install -q -e '.[dev]'
	$(PIP) install -q -e clients/python
	touch $@

lint: setup-test
	$(VENV)/bin/ruff check server tests bench testbed tools compose clients/python
	$(VENV)/bin/ruff format --check server tests bench testbed tools compose clients/python
	$(VENV)/bin/mypy
	$(PY) -m mypy.stubtest ogmint._native --allowlist stubtest-allowlist.txt
	cd native && cargo fmt --check && cargo clippy --release --quiet -- -D warnings

# Benchmarks, through one runner (bench/registry.py lists them; `$(PY) -m bench --list`):
# `make bench` runs every benchmark marked for it, `make bench NAME=render` one (or several,
# space-separated), `make bench KIND=load` one kind, `make bench QUICK=1` small sizes (a smoke
# test; results under bench/out/quick/). Each writes bench/results/NAME.json and regenerates
# bench/RESULTS.md with every benchmark's latest result.
BENCH_RUN = OGMINT_BENCH_VIA="make $@$(if $(NAME), NAME=$(NAME))$(if $(KIND), KIND=$(KIND))$(if $(QUICK), QUICK=$(QUICK))" \
	$(PY) -m bench $(if $(KIND),--kind $(KIND)) $(if $(QUICK),--quick)
bench: setup-test
	$(BENCH_RUN) $(NAME)

# Shortcuts kept from before the runner: `make bench-takumi` = `make bench NAME=takumi`, …
bench-takumi bench-glyphs bench-edge bench-dashboard: setup-test
	$(BENCH_RUN) $(patsubst bench-%,%,$@)

# The whole stack (nginx, two app servers, redis-server, moto S3) under locust, then the
# drills (kill -9 of an app server, Redis restart, S3 paused 10 s, the Sentinel failover);
# reports in bench/out/. Not part of `make test` or `make bench`.
load: setup-test
	$(BENCH_RUN) load drills drills-sentinel

drills: setup-test
	$(BENCH_RUN) drills drills-sentinel

golden-update: setup-test
	$(PY) tests/golden/update.py

.PHONY: run test setup setup-test run-deps test-deps apt-install container-base lint bench \
	bench-takumi bench-glyphs bench-edge bench-dashboard load drills golden-update clean

clean:
	rm -rf $(VENV) target data
