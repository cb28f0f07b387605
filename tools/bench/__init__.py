"""Benchmarks of vs_plugin (``python tools/bench.py --help``)."""
