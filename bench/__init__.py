"""Benchmarks: each prints a table with a ratio against a reference measured in the same run."""
