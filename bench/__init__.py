"""Benchmark of the compiler: `python bench/run.py` (see docs/performance.md)."""
