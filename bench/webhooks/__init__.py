"""Benchmarks of kind `webhooks` (see `bench/registry.py`)."""
