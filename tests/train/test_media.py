"""Training logs validation pairs to TensorBoard as images and audio, read back from the events."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.train.conftest import N_MELS, tiny_job
from vs_plugin.audio.mel import MelConfig, log_mel
from vs_plugin.data.normalize import Normalizer
from vs_plugin.train.engine import train

HOP = MelConfig().hop_length


@pytest.fixture(scope="module")
def run(tiny_dump, tmp_path_factory):
    exp = tmp_path_factory.mktemp("media") / "exp"
    result = train(tiny_job(tiny_dump, exp, image_every=1, media_pairs=2, epochs=2))
    assert list((exp / "tensorboard").glob("events.out.tfevents.*"))
    acc = EventAccumulator(
        str(exp / "tensorboard"), size_guidance={"audio": 0, "images": 0, "scalars": 0}
    )
    acc.Reload()
    return result, acc


def _decode(event) -> tuple[np.ndarray, int]:
    wav, sr = sf.read(io.BytesIO(event.encoded_audio_string), dtype="float32")
    return wav, sr


def test_audio_and_images_of_each_pair_every_epoch(run, tiny_dump):
    result, acc = run
    audio = acc.Tags()["audio"]
    generated = sorted(t for t in audio if t.endswith("/generated"))
    references = sorted(t for t in audio if "/reference_" in t)
    assert len(generated) == 2 and len(references) == 2
    images = [t for t in acc.Tags()["images"] if t.endswith("mel_generated_vs_real")]
    assert len(images) == 2
    # every epoch (image_every=1; 3 iterations each)
    steps = sorted({e.step for e in acc.Audio(generated[0])})
    assert steps == [3, 6] and result["iteration"] == 6
    frames = 16 * 4  # the tiny dump's clips: 16 video frames, 64 mel frames
    for tag in generated + references:
        for event in acc.Audio(tag):
            wav, sr = _decode(event)
            assert sr == 22050 and event.sample_rate == 22050
            assert wav.shape == (frames * HOP,) and np.isfinite(wav).all()
            assert 0.0 < np.abs(wav).max() <= 1.0
    for tag in images:
        event = acc.Images(tag)[-1]
        assert (event.height, event.width) == (2 * N_MELS + 1, frames)


def test_the_reference_audio_is_the_pairs_reference(run, tiny_dump):
    """Each pair's reference clip, analysed again, has the reference mel's spectral shape."""
    _, acc = run
    stats = Normalizer.load(tiny_dump / "train" / "mel" / "stats.npz")
    refs = {}
    for tag in (t for t in acc.Tags()["audio"] if "/reference_" in t):
        ref_utt = tag.rsplit("/reference_", 1)[1]
        path = tiny_dump / "valid" / "mel" / "data" / f"{ref_utt}.npy"
        assert path.is_file(), tag  # named after a real validation clip
        wav, _ = _decode(acc.Audio(tag)[0])
        refs[ref_utt] = (np.load(path).astype(np.float32), log_mel(wav))
    assert stats.dim == N_MELS
    for target, heard in refs.values():
        # the spectral profile (mean log-mel per bin) follows the clip's timbre colour
        a, b = target.mean(0), heard.mean(0)
        assert np.corrcoef(a, b)[0, 1] > 0.8
