"""Benchmarks: `python -m bench.lead_path` (see bench/README.md)."""
