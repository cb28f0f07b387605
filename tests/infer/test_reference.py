"""One-shot references: at least 0.1 s of sound (not of file) is accepted, a short one tiled.

The sounds are noise bursts aligned to the 256-sample blocks in which sound is measured, over
a noise floor 60 dB down (as real recordings have), so the seconds of sound are known
exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.infer.tinymodel import export_tiny
from vs_plugin.audio.mel import log_mel
from vs_plugin.errors import InputError
from vs_plugin.infer.reference import (
    MIN_REFERENCE_SOUND_SECONDS,
    REFERENCE_SECONDS,
    prepare_reference,
    sound_blocks,
    sound_seconds,
)
from vs_plugin.infer.single import load_reference
from vs_plugin.models.export import load_exported

SR = 22050
BLOCK = 256  # the sound blocks at 22050 Hz
TARGET = int(np.ceil(REFERENCE_SECONDS * SR))  # samples of a tiled reference


def clip(seconds: float, bursts: list[tuple[int, int]], floor: float = 5e-4) -> np.ndarray:
    """``seconds`` of a faint noise floor with noise bursts at ``(start, length)`` samples."""
    rng = np.random.default_rng(0)
    wav = floor * rng.standard_normal(int(round(seconds * SR)))
    for start, length in bursts:
        wav[start : start + length] = 0.5 * rng.standard_normal(length)
    return wav.astype(np.float32)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_exported(export_tiny(tmp_path_factory.mktemp("exp") / "model"))


def test_sound_is_counted_in_blocks_within_40_db_of_the_peak():
    wav = clip(1.0, [(10 * BLOCK, 9 * BLOCK), (60 * BLOCK, 3 * BLOCK)])
    mask = sound_blocks(wav, SR)
    assert np.flatnonzero(mask).tolist() == [*range(10, 19), 60, 61, 62]
    assert sound_seconds(wav, SR) == pytest.approx(12 * BLOCK / SR)
    quiet = wav.copy()
    quiet[60 * BLOCK : 63 * BLOCK] *= 0.005  # 46 dB down: no longer sound
    assert sound_seconds(quiet, SR) == pytest.approx(9 * BLOCK / SR)
    assert sound_seconds(np.zeros(1000, np.float32), SR) == 0.0


def test_a_015_s_reference_is_tiled_to_the_reference_length(model, tmp_path):
    one = clip(0.15, [(0, int(0.15 * SR))])
    path = tmp_path / "snare.wav"
    sf.write(path, one, SR, subtype="FLOAT")
    mel = load_reference(path, model)
    assert mel.shape == (TARGET // 256, 80)  # 43 frames: 0.5 s
    tiled = prepare_reference(one, SR)
    assert tiled.shape == (TARGET,) and tiled.dtype == np.float32
    n = one.size  # all sound: nothing trimmed, repeated back to back
    np.testing.assert_array_equal(tiled[:n], one)
    np.testing.assert_array_equal(tiled[n : 2 * n], one)
    np.testing.assert_array_equal(tiled[3 * n :], one[: TARGET - 3 * n])
    np.testing.assert_allclose(mel, log_mel(tiled, model.mel), atol=1e-5)


def test_a_tiled_reference_repeats_its_sound_without_the_silence_around_it():
    # 0.1 s of floor, a 20-block burst with a decaying tail of 4 blocks, then floor
    wav = clip(0.4, [(9 * BLOCK, 20 * BLOCK)])
    tail = np.exp(-np.arange(4 * BLOCK) / (1.2 * BLOCK)).astype(np.float32)
    wav[29 * BLOCK : 33 * BLOCK] = 0.5 * tail * np.sign(wav[29 * BLOCK : 33 * BLOCK])
    mask = sound_blocks(wav, SR)
    first, last = np.flatnonzero(mask)[[0, -1]]
    assert first == 9 and 30 <= last <= 32  # the decay within 40 dB is sound
    one = wav[first * BLOCK : (last + 1) * BLOCK]
    tiled = prepare_reference(wav, SR)
    assert tiled.size == TARGET
    np.testing.assert_array_equal(tiled[: one.size], one)  # starts at the attack
    np.testing.assert_array_equal(tiled[one.size :], one[: TARGET - one.size])


def test_a_reference_of_the_reference_length_is_used_as_it_is():
    wav = clip(REFERENCE_SECONDS, [(4 * BLOCK, 9 * BLOCK)])
    assert wav.size == TARGET
    np.testing.assert_array_equal(prepare_reference(wav, SR), wav)  # its silence kept
    long = clip(3.0, [(100, 12 * BLOCK)])
    np.testing.assert_array_equal(prepare_reference(long, SR), long)


def test_a_005_s_reference_is_refused_naming_the_file(model, tmp_path):
    path = tmp_path / "click.wav"
    sf.write(path, clip(0.05, [(0, int(0.05 * SR))]), SR, subtype="FLOAT")
    with pytest.raises(InputError) as err:
        load_reference(path, model)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: audio has 0.05 s of sound")
    assert "at least 0.1 s of sound needed" in message


@pytest.mark.parametrize("blocks, accepted", [(8, False), (9, True)])
def test_the_boundary_is_0_1_s_of_sound_counted_in_blocks(blocks, accepted):
    # 8 blocks = 0.093 s, 9 blocks = 0.104 s of sound, in a 0.3 s file
    wav = clip(0.3, [(5 * BLOCK, blocks * BLOCK)])
    assert (blocks * BLOCK / SR >= MIN_REFERENCE_SOUND_SECONDS) == accepted
    if accepted:
        out = prepare_reference(wav, SR, path="ref.wav")
        assert out.size == TARGET
        np.testing.assert_array_equal(out[: blocks * BLOCK], wav[5 * BLOCK : (5 + blocks) * BLOCK])
    else:
        with pytest.raises(InputError, match=r"^ref\.wav: audio has 0\.09 s of sound"):
            prepare_reference(wav, SR, path="ref.wav")


def test_a_long_file_with_little_sound_is_refused(model, tmp_path):
    path = tmp_path / "padded.wav"
    sf.write(path, clip(3.0, [(SR, int(0.06 * SR))]), SR, subtype="FLOAT")
    with pytest.raises(InputError, match=r"padded\.wav: audio has 0\.0\d s of sound .*0\.1 s"):
        load_reference(path, model)
    # two such hits far apart are enough sound
    two = clip(3.0, [(SR, int(0.06 * SR)), (2 * SR, int(0.06 * SR))])
    np.testing.assert_array_equal(prepare_reference(two, SR), two)


def test_the_model_minimum_wins_when_it_is_longer():
    wav = clip(0.2, [(0, int(0.2 * SR))])
    assert prepare_reference(wav, SR, 1.0).size == SR
    assert prepare_reference(wav, SR, 0.1).size == wav.size  # long enough: unchanged


def test_silent_and_nan_references_keep_their_errors():
    with pytest.raises(InputError, match="x.wav: audio is silent"):
        prepare_reference(np.zeros(SR, np.float32), SR, path="x.wav")
    bad = clip(1.0, [(0, SR // 2)])
    bad[10] = np.nan
    with pytest.raises(InputError, match="x.wav: audio contains NaN"):
        prepare_reference(bad, SR, path="x.wav")


def test_a_one_shot_reference_generates_a_clip(model, tmp_path, monkeypatch):
    from tests.infer.tinymodel import SineVocoder
    from tests.media import make_video
    from vs_plugin.infer import single

    monkeypatch.setattr(single, "FRAME_SIZE", (36, 48))
    video = make_video(tmp_path / "v.mp4", 1.0, fps=10, size=(36, 50), audio=False)
    ref = tmp_path / "gunshot.wav"
    sf.write(ref, clip(0.2, [(0, int(0.12 * SR))]), SR, subtype="FLOAT")
    report = single.generate_clip(video, ref, tmp_path / "out.wav", model, SineVocoder())
    out, sr = sf.read(tmp_path / "out.wav")
    assert sr == SR and abs(out.size / SR - report.duration) < 0.01
