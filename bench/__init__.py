"""Benchmarks (run as modules, e.g. ``python -m bench.converge``); results in bench/RESULTS.md."""
