"""Benchmarks of kind `memory` (see `bench/registry.py`)."""
