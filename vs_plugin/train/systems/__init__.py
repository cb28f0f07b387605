"""Built-in GAN systems (``vs_plugin.registry.SYSTEMS``): importing this package registers them.

- ``varietysound``: the paper's generator against its discriminators, equations (1)-(7).
- ``regnet``: REGNET (Chen et al. 2020), the cascade baseline's video-to-sound half.
- ``converter``: the cascade's SpeechSplit-style converter, trained by self-reconstruction.
"""

from vs_plugin.train.systems import converter, regnet, varietysound  # noqa: F401
