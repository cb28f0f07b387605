"""Benchmarks of vs_plugin (``python -m tools.bench --help``, from the repository root)."""
