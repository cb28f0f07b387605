"""MCD: zero on identity, growing with noise, and checked against SPTK / pymcd."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import soundfile as sf

from tests.scoring.sounds import SR, render
from vs_plugin.interfaces import ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring.mcd import MCDConfig, MCDScorer, mcd, power_to_mcep

TONE = {"kind": "tone", "f0": 196.0, "decay": 0.1}


@pytest.fixture(scope="module")
def signal():
    return render([0.2, 0.7, 1.2, 1.6], TONE, 2.0)


def _noisy(x: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    return (x + level * np.random.default_rng(seed).standard_normal(x.size)).astype(np.float32)


@pytest.mark.parametrize("cfg", [MCDConfig(), MCDConfig(analysis="stft"), MCDConfig(dtw=True)])
def test_identity_is_zero(signal, cfg):
    assert mcd(signal, signal, cfg) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("analysis", ["mel", "stft"])
def test_grows_with_noise(signal, analysis):
    cfg = MCDConfig(analysis=analysis)
    values = [mcd(_noisy(signal, lvl), signal, cfg) for lvl in (0.003, 0.01, 0.03, 0.1)]
    assert all(a < b for a, b in zip(values, values[1:])), values
    assert values[0] > 0.05


def test_c0_and_silence_options_matter(signal):
    quiet = 0.5 * signal
    assert mcd(quiet, signal) < 0.05  # a pure gain change lives in c0 only
    assert mcd(quiet, signal, MCDConfig(include_c0=True)) > 1.0
    padded = np.concatenate([signal, np.zeros(SR, np.float32)])
    noisy = np.concatenate([_noisy(signal, 0.01), np.zeros(SR, np.float32)])
    # appended digital silence in both: dropped by default, dilutes the mean otherwise
    assert mcd(noisy, padded) > mcd(noisy, padded, MCDConfig(drop_silence=False))


def test_dtw_forgives_a_time_shift_plain_does_not(signal):
    shifted = np.roll(signal, int(0.05 * SR))
    assert mcd(shifted, signal, MCDConfig(dtw=True)) < 0.5 * mcd(shifted, signal)


def test_scorer_reads_files_and_reports_choices(tmp_path, signal):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    sf.write(a, signal, SR)
    sf.write(b, _noisy(signal, 0.01), SR)
    scorer = SCORERS.build("mcd")
    assert isinstance(scorer, MCDScorer)
    value = scorer.score(ScoringItem(utt="u", generated=b, target=a))["mcd"]
    # PCM16 rounding of the files changes the value only slightly
    assert value == pytest.approx(mcd(_noisy(signal, 0.01), signal), rel=0.05)
    assert np.isnan(scorer.score(ScoringItem(utt="u", generated=b))["mcd"])
    text = scorer.describe()
    for fact in ("order 13", "c0 excluded", "no DTW", "1024/hop 256", "-60 dB"):
        assert fact in text


# -- independent implementations (dev dependencies: pymcd, which brings pysptk and pyworld) --
def _sptk():
    from vs_plugin.scoring._compat import ensure_pkg_resources

    ensure_pkg_resources()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pysptk = pytest.importorskip("pysptk")
    return pysptk


def _speech():
    """A real recording: the CMU ARCTIC sentence that pysptk ships (16 kHz, 4 s)."""
    import librosa

    pysptk = _sptk()
    wav, sr = sf.read(pysptk.util.example_audio_file(), dtype="float32")
    return librosa.resample(wav, orig_sr=sr, target_sr=SR).astype(np.float32)


def test_mel_cepstrum_matches_sptk_mcep():
    """Our all-pass mel-cepstrum equals SPTK's mcep (no iterations) on real speech frames."""
    pysptk = _sptk()
    speech = _speech().astype(np.float64)
    worst = 0.0
    for start in range(4000, 80000, 9000):
        frame = speech[start : start + 1024] * np.hanning(1024)
        power = np.abs(np.fft.rfft(frame)) ** 2
        ours = power_to_mcep(power[None, :], 13, 0.455, 1e-8)[0]
        ref = pysptk.mcep(frame, order=13, alpha=0.455, maxiter=0, etype=1, eps=1e-8)
        worst = max(worst, float(np.max(np.abs(ours - ref))))
    assert worst < 5e-3  # measured 1e-3: linear interpolation between STFT bins


def test_agrees_with_pymcd_on_ordering(tmp_path):
    """pymcd (WORLD envelope, 5 ms frames, c0 included, cepstra doubled) measures another
    scale, so values differ ; both must rank degradations of real speech
    the same way and call identical signals 0."""
    _sptk()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pymcd = pytest.importorskip("pymcd.mcd")
    speech = _speech()[: 2 * SR]
    rms = float(np.sqrt(np.mean(speech**2)))
    ref = tmp_path / "ref.wav"
    sf.write(ref, speech, SR, subtype="FLOAT")
    calc = pymcd.Calculate_MCD("plain")
    theirs, ours = [], []
    for snr in (30, 20, 10, 0):
        y = _noisy(speech, rms * 10 ** (-snr / 20), seed=snr)
        path = tmp_path / f"snr{snr}.wav"
        sf.write(path, y, SR, subtype="FLOAT")
        theirs.append(calc.calculate_mcd(str(ref), str(path)))
        ours.append(mcd(y, speech))
    assert calc.calculate_mcd(str(ref), str(ref)) == pytest.approx(0.0, abs=1e-9)
    assert all(a < b for a, b in zip(theirs, theirs[1:])), theirs
    assert all(a < b for a, b in zip(ours, ours[1:])), ours
