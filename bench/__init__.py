"""Benchmark of the compiler: `python bench/run.py` (see README.md, section Performance)."""
