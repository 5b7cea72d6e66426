"""Benchmarks: scripts that print a figure, its baseline measured in the same run, and their ratio."""
