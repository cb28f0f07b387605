"""The built-in synthetic corpus ``vas_synth``: VAS-shaped clips with known ground truth.

It lets the whole recipe run on a machine without VAS, and it makes the task measurable: every
clip is rendered from a JSON description (event times, visual scene, timbre, background), so the
ideal output of a cross pair (events of video A, timbre of reference B, no background) can be
rendered exactly with :func:`render_ideal`.

Design rules that keep the corpus honest for timbre transfer:

- the picture depends only on the event times and the scene, never on the timbre, so the
  timbre can only be learnt from the reference audio;
- each category has a few timbre *families* (clearly different spectra) and each family a few
  fixed *variants* (pitch, decay, spectral tilt, noise), shared by many clips;
- every event sounds the same one-shot, placed sample-exactly at the event time, with a sharp
  attack; a quieter per-clip background (hum, coloured noise, distant sounds) is added on top.

The package: ``config`` (settings and shared constants), ``sound`` (timbres, events, ideal
outputs, backgrounds), ``scene`` (pictures), ``clips`` (one clip's description and mp4),
``corpus`` (the registered corpus and ``python -m vs_plugin.data.synth``).

Layout written under ``root``: ``<category>/videos/<split>_<NNNN>.mp4`` and the ``.json`` of
the same stem beside it (written last: it marks the clip as finished), plus ``corpus.json``
recording the generator settings. Utterance ids are ``<category>-<stem>``, as the ``vas``
corpus would name the same files; the split is fixed by the generator.
"""

from vs_plugin.data.synth.clips import (
    clip_stem,
    clip_utt,
    events_that_fit,
    make_clip_meta,
    write_clip,
)
from vs_plugin.data.synth.config import SPLITS, SynthCorpusConfig
from vs_plugin.data.synth.corpus import SynthCorpus, load_meta, main
from vs_plugin.data.synth.scene import render_frames
from vs_plugin.data.synth.sound import (
    CATEGORY_NAMES,
    FAMILIES,
    render_audio,
    render_background,
    render_clean,
    render_events,
    render_one_shot,
    timbre_variant,
)
from vs_plugin.data.synth.sound import render_ideal as _render_synth_ideal


def render_ideal(video_meta: dict, timbre_meta: dict, sample_rate: int = 22050):
    """The ideal output of the pair (video A, reference B): A's events in B's sound.

    Dispatches on the reference's corpus: a ``real_sfx`` clip's JSON (``"corpus":
    "real_sfx"``) goes to :func:`vs_plugin.data.real_sfx.render_ideal`, anything else to
    this corpus's :func:`~vs_plugin.data.synth.sound.render_ideal`.
    """
    if isinstance(timbre_meta, dict) and timbre_meta.get("corpus") == "real_sfx":
        from vs_plugin.data.real_sfx.render import render_ideal as render_real_ideal

        return render_real_ideal(video_meta, timbre_meta, sample_rate)
    return _render_synth_ideal(video_meta, timbre_meta, sample_rate)


__all__ = [
    "CATEGORY_NAMES",
    "FAMILIES",
    "SPLITS",
    "SynthCorpus",
    "SynthCorpusConfig",
    "clip_stem",
    "clip_utt",
    "events_that_fit",
    "load_meta",
    "main",
    "make_clip_meta",
    "render_audio",
    "render_background",
    "render_clean",
    "render_events",
    "render_frames",
    "render_ideal",
    "render_one_shot",
    "timbre_variant",
    "write_clip",
]
