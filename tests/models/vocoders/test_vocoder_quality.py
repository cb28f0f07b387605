"""The vocoders invert the project's log-mel: HiFi-GAN well, Griffin-Lim less well.

The error measure is the mean absolute difference of log-mels of the original and the
vocoded waveform at two resolutions other than the analysis one (n_fft 512 and 2048, 80 bins).
At the analysis resolution itself Griffin-Lim looks better than it sounds, because that is the
exact quantity it optimises (an inconsistent spectrogram shows up at other resolutions).
Measured on the 1 s harmonic + noise + impacts clip below (2-core CPU): HiFi-GAN universal
0.26 (torch fp32 0.261, the default CPU path, OpenVINO bf16, 0.260), Griffin-Lim (32
iterations) 0.66, an unrelated recording 1.95. Bound: 0.45.
"""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from tools.bench.vocoder import synthetic_sound
from vs_plugin.audio.mel import MelConfig, log_mel
from vs_plugin.models.vocoders.griffin_lim import GriffinLimConfig, GriffinLimVocoder
from vs_plugin.models.vocoders.hifigan import (
    HiFiGANConfig,
    HiFiGANVocoder,
    check_analysis,
    package_data_dir,
)
from vs_plugin.registry import VOCODERS

SR = 22050
BOUND = 0.45


def recording(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """A vibrato harmonic tone with an on/off envelope, two noisy impacts (0.15 and 0.6 s) and
    a noise floor: the benchmark's synthetic sound with the impacts these bounds were set on."""
    return synthetic_sound(seconds, seed, impacts=(0.15, 0.6))


def multires_mel_error(ref: np.ndarray, test: np.ndarray) -> float:
    errs = []
    for n_fft in (512, 2048):
        a, b = (
            np.log(
                np.clip(
                    librosa.feature.melspectrogram(
                        y=y, sr=SR, n_fft=n_fft, hop_length=n_fft // 4, n_mels=80, power=1.0
                    ),
                    1e-5,
                    None,
                )
            )
            for y in (ref, test)
        )
        n = min(a.shape[1], b.shape[1])
        errs.append(np.abs(a[:, :n] - b[:, :n]).mean())
    return float(np.mean(errs))


@pytest.fixture(scope="module")
def hifigan() -> HiFiGANVocoder:
    return VOCODERS.build({"name": "hifigan", "device": "cpu"})


@pytest.fixture(scope="module")
def clip() -> tuple[np.ndarray, np.ndarray]:
    wav = recording()
    return wav, log_mel(wav)


def test_packaged_config_matches_the_mel_analysis():
    import json

    h = json.loads((package_data_dir() / "config.json").read_text())
    assert (h["sampling_rate"], h["num_mels"], h["hop_size"]) == (22050, 80, 256)
    check_analysis(h)  # the full analysis (n_fft, window, fmin/fmax) matches too
    with pytest.raises(ValueError, match="hop_size"):
        check_analysis(h, MelConfig(hop_length=200))


def test_weight_norm_checkpoint_loads_and_is_folded(hifigan):
    state = torch.load(
        package_data_dir() / "generator_universal.pth.tar", map_location="cpu", weights_only=True
    )["generator"]
    g, v = state["conv_pre.weight_g"], state["conv_pre.weight_v"]
    expected = g * v / v.norm(dim=(1, 2), keepdim=True)
    torch.testing.assert_close(hifigan.model.conv_pre.weight, expected)
    assert not any("parametrizations" in k for k in hifigan.model.state_dict())
    assert isinstance(hifigan, HiFiGANVocoder) and hifigan.cfg == HiFiGANConfig(device="cpu")


def test_hifigan_reproduces_a_recording_and_beats_griffin_lim(hifigan, clip):
    wav, mel = clip
    out = hifigan(mel)
    assert out.dtype == np.float32 and out.shape == (len(mel) * 256,)
    hifi_err = multires_mel_error(wav, out)
    gl_err = multires_mel_error(wav, GriffinLimVocoder()(mel))
    assert hifi_err < BOUND, hifi_err
    assert gl_err > BOUND, gl_err
    # a different recording vocoded from this mel would be far off: the bound is meaningful
    assert multires_mel_error(recording(seed=1)[::-1].copy(), out) > 2 * hifi_err


def test_griffin_lim_is_time_aligned_with_the_analysis(clip):
    wav, mel = clip
    out = GriffinLimVocoder(GriffinLimConfig(n_iter=16))(mel)
    assert out.shape == (len(mel) * 256,)

    def err(shift: int) -> float:
        y = np.roll(out, shift)
        return float(np.abs(log_mel(y) - mel)[4:-4].mean())

    assert err(0) < 0.35
    assert err(0) < min(err(-128), err(128))


def test_vocoders_reject_a_wrong_mel_shape(hifigan):
    for vocoder in (hifigan, GriffinLimVocoder()):
        with pytest.raises(ValueError, match="80"):
            vocoder(np.zeros((10, 64), np.float32))


def test_torch_bf16_is_close_to_fp32_and_still_inverts_the_recording(clip):
    """torch bf16's guard: log-mel L1 to the torch fp32 output <= 0.05 on this recording (noise
    floor, harmonics, impacts; measured 0.02-0.03 on corpus clips), and the quality bound.
    The default CPU path (OpenVINO) has its own guard in test_backends.py."""
    wav, mel = clip
    fast = VOCODERS.build({"name": "hifigan", "device": "cpu", "backend": "torch",
                           "precision": "bf16"})
    ref = VOCODERS.build({"name": "hifigan", "device": "cpu", "backend": "torch"})
    assert next(fast.model.parameters()).dtype == torch.bfloat16
    assert (ref.backend, ref.precision) == ("torch", "fp32")
    out16, out32 = fast(mel), ref(mel)
    assert out16.dtype == np.float32 and out16.shape == out32.shape
    assert float(np.abs(log_mel(out16) - log_mel(out32)).mean()) <= 0.05
    assert multires_mel_error(wav, out16) < BOUND
    with pytest.raises(ValueError, match="precision"):
        VOCODERS.build({"name": "hifigan", "device": "cpu", "precision": "int4"})
