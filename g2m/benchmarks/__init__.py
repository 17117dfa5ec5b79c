"""Benchmarks: long accuracy and speed runs (not part of the test suite)."""
