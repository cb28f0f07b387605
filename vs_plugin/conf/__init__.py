"""Hydra configuration (YAML presets) of the training stage."""
