"""The built-in corpus ``real_sfx``: real recorded sounds under pictures that show each event.

Like ``vas_synth`` it is laid out as VAS (``<root>/<category>/videos/<id>.<ext>`` with the
ground truth ``<id>.json`` beside each clip: event times, ``timbre_label``, and everything
needed to re-render the sound), but its sounds are real recordings taken from Debian packages
(``hydrogen-drumkits`` by default: the instruments of 14 drum kits). A *source* is one
instrument of one kit (``<kit>/<instrument>``); its velocity layers are takes of the same
source. Each clip has one source; each event plays one of its takes at a random gain, over a
low noise floor. The pictures are ``vas_synth``'s scenes (a visible hit at each event time,
nothing that depends on the sound); with ``category_pictures`` each category gets its own
shape and colour. Containers, codecs, frame rates and sizes vary from clip to clip.

The package: ``config`` (settings, reserved packages), ``fetch`` (``apt-get download``,
``dpkg-deb -x``, ``SOURCES.tsv``), ``sources`` (package adapters: files -> categorised
sources), ``shots`` (recordings -> one-shots, event tracks), ``inventory`` (each category's
sources, chosen once and frozen), ``render`` (a clip's sound and ideal outputs from its JSON),
``clips`` (one clip's JSON and video file), ``corpus`` (the registered corpus and
``python -m vs_plugin.data.real_sfx``).

Written under ``root``: ``corpus.json`` (settings and each category's sources),
``SOURCES.tsv`` (category, source, package, version, licence, path in the package, one-shot),
``LICENSES/<package>.copyright``, ``<category>/sources.json`` and
``<category>/shots/<source>/<NN>.wav`` (the conditioned recordings), and the clips. Packages
are downloaded to ``deb_dir`` (default ``<root>/../debs``). Never used, by design:
``sonic-pi-samples``, ``teeworlds-data`` and ``hedgewars-data`` (kept for independent
evaluation).
"""

from vs_plugin.data.real_sfx.clips import FORMATS, make_clip_meta, write_clip
from vs_plugin.data.real_sfx.config import (
    CATEGORY_NAMES,
    RESERVED_PACKAGES,
    RealSFXCorpusConfig,
)
from vs_plugin.data.real_sfx.corpus import RealSFXCorpus, main
from vs_plugin.data.real_sfx.fetch import Package, fetch_package
from vs_plugin.data.real_sfx.render import (
    is_real_sfx,
    render_audio,
    render_clean,
    render_ideal,
)
from vs_plugin.data.real_sfx.sources import ADAPTERS, Source, categorise

__all__ = [
    "ADAPTERS",
    "CATEGORY_NAMES",
    "FORMATS",
    "RESERVED_PACKAGES",
    "Package",
    "RealSFXCorpus",
    "RealSFXCorpusConfig",
    "Source",
    "categorise",
    "fetch_package",
    "is_real_sfx",
    "main",
    "make_clip_meta",
    "render_audio",
    "render_clean",
    "render_ideal",
    "write_clip",
]
