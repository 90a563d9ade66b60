"""Benchmarks run by ``lsavto bench …``; each prints one JSON object with units in its keys."""
