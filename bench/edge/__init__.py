"""Benchmarks of kind `edge` (see `bench/registry.py`)."""
