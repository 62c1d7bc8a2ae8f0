"""Benchmarks of optout-audit against its fetch limit (``make bench``; see bench/run.py)."""
