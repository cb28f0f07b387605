"""Networks: encoders/, decoder, generator, discriminators/, presets (and vocoders/).

Import the submodules you need (``vs_plugin.models.presets`` for building whole models);
this package itself imports nothing heavy.
"""
