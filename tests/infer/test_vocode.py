"""Chunked vocoding: fed block by block, it equals the whole-array chunks and cross-fades."""

from __future__ import annotations

import numpy as np
import pytest

from tests.infer import wholearray
from tests.infer.tinymodel import SineVocoder
from vs_plugin.infer.vocode import ChunkedVocoder, fit_length, vocode


class ShortVocoder(SineVocoder):
    """Returns a few samples less than ``frames * hop`` (the vocoder pads them)."""

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        return super().__call__(mel)[:-100]


@pytest.mark.parametrize("frames", [0, 40, 50, 333, 1000])
@pytest.mark.parametrize("vocoder_type", [SineVocoder, ShortVocoder])
def test_chunked_vocoder_equals_the_whole_array_vocode(frames, vocoder_type):
    rng = np.random.default_rng(frames)
    mel = (rng.standard_normal((frames, 80)) - 4).astype(np.float32)
    vocoder = vocoder_type()
    # the sine restarts its phase in every call: the chunks must be the same to be equal
    expected = wholearray.vocode(vocoder, mel, chunk=50, overlap=8)
    np.testing.assert_array_equal(vocode(vocoder, mel, chunk=50, overlap=8), expected)
    vocoder.frames_seen.clear()
    chunks = ChunkedVocoder(vocoder, frames, chunk=50, overlap=8)
    out, i = [chunks.push(mel[:0])], 0
    while i < frames:
        k = int(rng.integers(0, 70))
        out.append(chunks.push(mel[i : i + k]))
        i += k
        assert chunks.held <= 50 + 70  # under a chunk, plus the block just pushed
    chunks.finish()
    got = np.concatenate(out)
    assert got.dtype == np.float32 and len(got) == frames * 256
    np.testing.assert_array_equal(got, expected)
    assert max(vocoder.frames_seen, default=0) <= 50


def test_chunked_vocoder_checks_the_announced_length():
    chunks = ChunkedVocoder(SineVocoder(), 120, chunk=50, overlap=8)
    chunks.push(np.zeros((100, 80), np.float32))
    with pytest.raises(ValueError, match="100 of the 120"):
        chunks.finish()
    with pytest.raises(ValueError, match="more than the 120"):
        chunks.push(np.zeros((21, 80), np.float32))


def test_fit_length_trims_or_pads():
    wav = np.ones(10, np.float32)
    assert len(fit_length(wav, 4)) == 4
    padded = fit_length(wav, 12)
    assert padded.dtype == np.float32 and padded[-2:].tolist() == [0, 0]
