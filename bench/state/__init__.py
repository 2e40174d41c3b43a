"""Benchmarks of kind `state` (see `bench/registry.py`)."""
