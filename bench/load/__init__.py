"""Benchmarks of kind `load` (see `bench/registry.py`)."""
