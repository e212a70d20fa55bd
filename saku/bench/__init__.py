"""Benchmarks that print figures: throughput, percentiles, and ratios to baselines run in the
same process against the same servers."""
