"""Benchmarks of kind `cpu` (see `bench/registry.py`)."""
