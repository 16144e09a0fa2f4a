"""Benchmarks of the gateway against its limits: one script per measurement, see bench/README.md."""
