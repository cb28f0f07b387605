"""A reference recording made ready for the acoustic encoder: the one rule for its length.

Real one-shot recordings (a snare hit, a gunshot, a door slam) are often 0.1 to 0.5 s long.
A reference is accepted when it holds at least ``MIN_REFERENCE_SOUND_SECONDS`` (0.1 s) of
*sound*; one shorter than the reference length (``REFERENCE_SECONDS``, 0.5 s, or the
model's minimum if longer) is trimmed to its sound and *tiled*: repeated back to back, each
repetition with its natural decay, up to that length. :func:`prepare_reference` is the rule;
``vs-generate`` (and so ``vs-demo``) call it through :func:`vs_plugin.infer.single.load_reference`,
and any other code that turns a recording into a reference (training-side one-shot
references, say) should call it too.

**Sound.** The waveform is cut into consecutive blocks of ``SOUND_BLOCK_SECONDS`` (256
samples at 22050 Hz: the mel hop, 11.6 ms); a block is sound when its mean power is within
``SOUND_TOP_DB`` (40 dB) of the loudest block's, the threshold of the active frames of
:mod:`vs_plugin.scoring.mfcc`. The seconds of sound are the blocks that are sound, counted
whole (their samples over the sample rate), wherever they are in the file: the rule counts
sound, not file length, so a long file with 0.05 s of sound in silence is refused, and two
0.06 s hits far apart pass. Blocks do not overlap, so a burst is counted to within one block
on either side (a burst straddling block edges counts its partial blocks whole; a burst of
exactly 9 aligned blocks, 0.104 s, passes, one of 8, 0.093 s, does not).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from vs_plugin.audio.io import check_audible
from vs_plugin.errors import InputError

MIN_REFERENCE_SOUND_SECONDS = 0.1  # less sound than this carries too little timbre to encode
REFERENCE_SECONDS = 0.5  # a shorter reference is tiled up to this length
SOUND_TOP_DB = 40.0  # sound: blocks within this many dB of the loudest (as scoring.mfcc)
SOUND_BLOCK_SECONDS = 256 / 22050  # the blocks whose level is measured (the mel hop)


def sound_blocks(wav: np.ndarray, sample_rate: int, top_db: float = SOUND_TOP_DB) -> np.ndarray:
    """``(n,)`` samples -> boolean ``(ceil(n / block),)``: which blocks are sound.

    Blocks are ``SOUND_BLOCK_SECONDS`` long (256 samples at 22050 Hz; the last one may be
    shorter); a block is sound when its mean power is within ``top_db`` dB of the loudest
    block's. All False for digital silence.
    """
    wav = np.asarray(wav, dtype=np.float32).reshape(-1)  # no float64 copy of a long file
    block = max(1, round(SOUND_BLOCK_SECONDS * sample_rate))
    full = wav.size // block
    rows = wav[: full * block].reshape(full, block)
    power = np.einsum("ij,ij->i", rows, rows).astype(np.float64) / block
    if wav.size > full * block:  # the last, shorter block
        rest = wav[full * block :].astype(np.float64)
        power = np.append(power, float(rest @ rest) / rest.size)
    if power.size == 0:
        return np.zeros(0, dtype=bool)
    peak = float(power.max())
    if peak <= 0.0:
        return np.zeros(power.size, dtype=bool)
    return power >= peak * 10.0 ** (-top_db / 10.0)


def sound_seconds(wav: np.ndarray, sample_rate: int, top_db: float = SOUND_TOP_DB) -> float:
    """Seconds of sound in ``wav`` (the samples of its :func:`sound_blocks`, wherever they are)."""
    wav = np.asarray(wav).reshape(-1)
    mask = sound_blocks(wav, sample_rate, top_db)
    if not mask.any():
        return 0.0
    block = max(1, round(SOUND_BLOCK_SECONDS * sample_rate))
    samples = int(mask.sum()) * block
    if mask[-1]:  # the last block may be short
        samples -= mask.size * block - wav.size
    return samples / sample_rate


def prepare_reference(
    wav: np.ndarray,
    sample_rate: int,
    min_seconds: float = REFERENCE_SECONDS,
    *,
    path: str | Path | None = None,
) -> np.ndarray:
    """A reference waveform checked and, if short, tiled to ``min_seconds``.

    ``wav``: ``(n,)`` mono samples at ``sample_rate`` Hz (as :func:`vs_plugin.audio.io.load_audio`
    returns them). ``min_seconds``: the length the encoder should see (the callers pass
    ``max(REFERENCE_SECONDS, the model's min_reference_frames in seconds)``; a caller that
    knows the length of the model's training references may pass that). ``path`` only names
    the file in errors.

    Returns float32 ``(m,)`` samples:

    - ``n >= ceil(min_seconds * sample_rate)``: ``wav`` unchanged (every reference accepted
      before one-shots were gives the same mel as before);
    - shorter: ``wav`` trimmed to its sound (from the first to the last sound block, see
      :func:`sound_blocks`; the silence before and after goes, the decay within
      ``SOUND_TOP_DB`` of the peak stays), then repeated back to back and cut to exactly
      ``m = ceil(min_seconds * sample_rate)`` samples (the last repetition may be cut short).

    Raises InputError naming ``path`` (one line) for NaN/Inf samples, silence, or less than
    ``MIN_REFERENCE_SOUND_SECONDS`` of sound (see the module docstring for what counts).
    """
    wav = np.asarray(wav, dtype=np.float32).reshape(-1)
    check_audible(wav, path)  # NaN, Inf or silent: the same errors as before
    seconds = sound_seconds(wav, sample_rate)
    if seconds < MIN_REFERENCE_SOUND_SECONDS:
        raise InputError(
            path,
            f"audio has {seconds:.2f} s of sound (within {SOUND_TOP_DB:g} dB of its peak); "
            f"at least {MIN_REFERENCE_SOUND_SECONDS:g} s of sound needed",
        )
    target = math.ceil(min_seconds * sample_rate - 1e-6)
    if wav.size >= target:
        return wav
    mask = sound_blocks(wav, sample_rate)
    block = max(1, round(SOUND_BLOCK_SECONDS * sample_rate))
    where = np.flatnonzero(mask)
    one = wav[where[0] * block : min(wav.size, (where[-1] + 1) * block)]
    return np.tile(one, -(-target // one.size))[:target]
