"""Mel -> waveform for any length: the vocoder runs on overlapping chunks (bounded memory)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vs_plugin.infer.windows import OverlapAdder, plan_windows
from vs_plugin.interfaces import Vocoder
from vs_plugin.registry import VOCODERS

# 30 s of mel per vocoder call: a 10 s clip (whose mel is stretched a few frames past 860 to
# match the video's duration) is one call, not two overlapping full-length ones.
CHUNK_FRAMES = 2580
OVERLAP_FRAMES = 32  # cross-faded frames between chunks (covers HiFi-GAN's edge effects)


def build_vocoder(spec: Any = "hifigan", device: str = "auto") -> Vocoder:
    """A registered vocoder by name or spec, moved to ``device`` (auto = CUDA when present)."""
    vocoder = VOCODERS.build(spec)
    return vocoder if device == "auto" else vocoder.to(device)


class ChunkedVocoder:
    """:func:`vocode` fed mel block by block, returning the waveform as it is finished.

    The mel's total length ``frames`` is known up front, so the chunks are :func:`vocode`'s
    (``plan_windows(frames, chunk, overlap)``) and so are the cross-fades between them
    (:class:`~vs_plugin.infer.windows.OverlapAdder`). A chunk is vocoded as soon as its
    frames have arrived; at most one chunk of mel and one chunk's waveform (with the overlap
    still to blend) are held, whatever ``frames``.

    ``push(mel)`` takes the next raw log-mel rows ``(k, n_mels)`` and returns the float32
    samples now final; over all pushes they add up to ``frames * hop`` samples equal to
    ``vocode(vocoder, whole_mel, chunk, overlap)``. ``finish()`` raises ValueError unless all
    ``frames`` came (more than ``frames`` is a ValueError on push).
    """

    def __init__(
        self,
        vocoder: Vocoder,
        frames: int,
        chunk: int = CHUNK_FRAMES,
        overlap: int = OVERLAP_FRAMES,
    ) -> None:
        self.vocoder = vocoder
        self.frames = int(frames)
        self.chunk = chunk
        self.hop = vocoder.hop_length
        self.starts = plan_windows(self.frames, chunk, overlap)
        hop = self.hop
        self._adder = OverlapAdder([s * hop for s in self.starts], self.frames * hop, overlap * hop)
        self.received = 0  # mel rows pushed so far
        self._held: np.ndarray | None = None  # mel rows from self._base on
        self._base = 0

    @property
    def held(self) -> int:
        """Mel rows held for chunks still to vocode: under one chunk plus the last push."""
        return 0 if self._held is None else len(self._held)

    def push(self, mel: np.ndarray) -> np.ndarray:
        """Take the next mel rows; return the waveform samples that are now final."""
        mel = np.asarray(mel, dtype=np.float32)
        self.received += len(mel)
        if self.received > self.frames:
            raise ValueError(f"more than the {self.frames} mel frames announced")
        if self._held is None or len(self._held) == 0:
            self._held = mel
        else:
            self._held = np.concatenate([self._held, mel])
        out = []
        while not self._adder.finished:
            s = self.starts[self._adder.added]
            end = min(s + self.chunk, self.frames)
            if self.received < end:
                break
            wav = np.asarray(self.vocoder(self._held[s - self._base : end - self._base]))
            wav = wav.astype(np.float32, copy=False)
            n = (end - s) * self.hop
            out.append(self._adder.add(np.pad(wav[:n], (0, max(0, n - len(wav))))))
            if not self._adder.finished:  # later chunks start at or after the next start
                nxt = self.starts[self._adder.added]
                self._held = self._held[nxt - self._base :].copy()
                self._base = nxt
        if not out:
            return np.zeros(0, dtype=np.float32)
        return out[0] if len(out) == 1 else np.concatenate(out)

    def finish(self) -> None:
        """Raise ValueError unless every announced mel frame came (and so was vocoded)."""
        if not self._adder.finished:
            raise ValueError(f"vocoded {self.received} of the {self.frames} mel frames announced")


def vocode(
    vocoder: Vocoder,
    mel: np.ndarray,
    chunk: int = CHUNK_FRAMES,
    overlap: int = OVERLAP_FRAMES,
) -> np.ndarray:
    """Raw log-mel ``(frames, n_mels)`` -> ``(frames * hop,)`` float32 waveform.

    The vocoder runs on ``chunk``-frame pieces cross-faded over ``overlap`` frames; the whole
    waveform at once (:class:`ChunkedVocoder` gives it piece by piece).
    """
    streamer = ChunkedVocoder(vocoder, len(mel), chunk, overlap)
    wav = streamer.push(mel)
    streamer.finish()
    return wav


def fit_length(wav: np.ndarray, samples: int) -> np.ndarray:
    """Trim or zero-pad to exactly ``samples``."""
    if len(wav) >= samples:
        return wav[:samples]
    return np.pad(wav, (0, samples - len(wav)))
