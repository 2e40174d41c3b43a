"""The real components tests and benchmarks run against (``testbed.processes``): one copy of
how to start redis-server, redis-sentinel, moto S3, nginx and ``python -m ogmint`` on loopback."""
