"""Writing WAV files: in one piece or streamed, the same bytes; nothing left on failure."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from vs_plugin.audio.io import open_wav, save_wav


def test_streamed_wav_has_the_bytes_of_one_write(tmp_path):
    rng = np.random.default_rng(0)
    wav = (0.7 * rng.standard_normal(200_001)).astype(np.float32)  # clips past +-1
    wav[[3, 5]] = [np.nan, np.inf]
    save_wav(tmp_path / "whole.wav", wav, 22050)
    with open_wav(tmp_path / "streamed.wav", 22050) as out:
        i = 0
        while i < len(wav):
            k = int(rng.integers(0, 50_000))
            out.write(wav[i : i + k])
            i += k
        assert out.frames == len(wav)
    whole = (tmp_path / "whole.wav").read_bytes()
    assert (tmp_path / "streamed.wav").read_bytes() == whole
    sf.write(tmp_path / "direct.wav", np.clip(np.nan_to_num(wav), -1, 1), 22050, "PCM_16")
    assert (tmp_path / "direct.wav").read_bytes() == whole  # what save_wav always wrote
    info = sf.info(tmp_path / "streamed.wav")
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (
        22050,
        1,
        "PCM_16",
        len(wav),
    )


def test_a_failed_stream_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), open_wav(tmp_path / "out.wav", 22050) as out:
        out.write(np.zeros(1000, np.float32))
        raise RuntimeError("the generator failed")
    assert list(tmp_path.iterdir()) == []
