"""Benchmarks of kind `drill` (see `bench/registry.py`)."""
