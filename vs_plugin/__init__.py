"""vs_plugin: VarietySound (timbre-controllable video-to-sound generation) for fairseq2.

The core package imports without fairseq2; only :mod:`vs_plugin.fairseq2_ext` needs it.
"""

__version__ = "0.1.0"
