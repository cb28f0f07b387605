"""Discriminators: time-domain alignment (mel | video) and multi-window mel."""
