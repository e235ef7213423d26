"""Benchmarks: one command each, figures recorded in bench/RESULTS.md."""
