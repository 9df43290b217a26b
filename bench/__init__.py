"""Benchmarks that print figures and write a report to bench/results/; not pass/fail tests."""
