"""Benchmarks of kind `render` (see `bench/registry.py`)."""
