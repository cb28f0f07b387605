"""Packaged fairseq2 asset cards (the base cards of the presets)."""
