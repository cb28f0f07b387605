"""Writing WAV files: in one piece or streamed, the same bytes; nothing left on failure.
Reading: lossless mono files without ffmpeg, with the samples ffmpeg gives."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from vs_plugin.audio import io as audio_io
from vs_plugin.audio.io import load_audio, open_wav, save_wav
from vs_plugin.errors import InputError


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


LOSSLESS = [
    ("wav", "WAV", "PCM_16"),
    ("wav", "WAV", "PCM_24"),
    ("wav", "WAV", "PCM_32"),
    ("wav", "WAV", "PCM_U8"),
    ("wav", "WAV", "FLOAT"),
    ("wav", "WAV", "DOUBLE"),
    ("wav", "WAVEX", "PCM_16"),
    ("w64", "W64", "PCM_16"),
    ("flac", "FLAC", "PCM_16"),
    ("flac", "FLAC", "PCM_24"),
    ("aiff", "AIFF", "PCM_16"),
]


@pytest.fixture
def ffmpeg_calls(monkeypatch):
    """Counts the ffmpeg decodes that ``load_audio`` starts."""
    calls = []
    real = audio_io.run

    def counting_run(*args, **kwargs):
        calls.append(kwargs.get("blame"))
        return real(*args, **kwargs)

    monkeypatch.setattr(audio_io, "run", counting_run)
    return calls


def _noise(seconds: float = 0.5, sr: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(1)
    return (0.4 * rng.standard_normal(int(seconds * sr))).clip(-1, 1).astype(np.float32)


@pytest.mark.parametrize(("ext", "fmt", "subtype"), LOSSLESS)
def test_lossless_mono_files_are_read_directly_with_ffmpeg_s_samples(
    tmp_path, monkeypatch, ffmpeg_calls, ext, fmt, subtype
):
    path = tmp_path / f"clip.{ext}"
    sf.write(path, _noise(), 16000, format=fmt, subtype=subtype)
    direct = load_audio(path, 16000)
    assert ffmpeg_calls == []  # no ffmpeg process for this file
    monkeypatch.setattr(audio_io, "_read_lossless", lambda *a: None)
    via_ffmpeg = load_audio(path, 16000)
    assert len(ffmpeg_calls) == 1
    assert direct.dtype == via_ffmpeg.dtype == np.float32
    assert np.array_equal(direct, via_ffmpeg)  # bit for bit


@pytest.mark.parametrize(
    ("what", "write"),
    [
        ("another rate", lambda p, x: sf.write(p.with_suffix(".wav"), x[:-3000], 11025)),
        ("stereo", lambda p, x: sf.write(p.with_suffix(".wav"), np.stack([x, -x], 1), 16000)),
        ("lossy", lambda p, x: sf.write(p.with_suffix(".ogg"), x, 16000, format="OGG")),
    ],
)
def test_other_files_are_decoded_by_ffmpeg(tmp_path, ffmpeg_calls, what, write):
    x = _noise()
    write(tmp_path / "clip", x)
    (path,) = tmp_path.glob("clip.*")
    wav = load_audio(path, 16000)
    assert ffmpeg_calls == [path], what
    assert abs(len(wav) / 16000 - sf.info(path).duration) < 0.02


def test_bad_lossless_files_name_the_file(tmp_path):
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.array([0.1, np.nan, 0.2], np.float32), 16000, subtype="FLOAT")
    with pytest.raises(InputError, match="nan.wav.*NaN or Inf"):
        load_audio(nan, 16000)
    empty = tmp_path / "no_samples.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    with pytest.raises(InputError, match="no_samples.wav.*no samples"):
        load_audio(empty, 16000)
    with pytest.raises(InputError, match="missing.wav.*not found"):
        load_audio(tmp_path / "missing.wav", 16000)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(InputError, match="broken.wav"):
        load_audio(broken, 16000)
