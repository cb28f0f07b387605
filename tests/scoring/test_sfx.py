"""Sound-effects embedding similarity: 1 with itself, nearer a variant than another sound,
leakage signs on constructed cross pairs, packaged weights read with ``weights_only``."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

from tests.scoring.sounds import SR, render
from vs_plugin.errors import InputError
from vs_plugin.interfaces import ScoringItem
from vs_plugin.registry import SCORERS
from vs_plugin.scoring import sfx
from vs_plugin.scoring.sfx import SFXSimilarityConfig, SFXSimilarityScorer

EVENTS = [0.2, 0.6, 1.1, 1.5, 2.0, 2.4]
OTHER_EVENTS = [0.4, 0.9, 1.7, 2.6]
TONE = {"kind": "tone", "f0": 220.0, "decay": 0.12}
NOISE = {"kind": "noise", "seed": 3, "decay": 0.03}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """3 s clips at 22.05 kHz: a tone and a noise burst, each at two sets of event times."""
    d = tmp_path_factory.mktemp("sfx")
    out = {}
    for name, timbre, events, seed in (
        ("tone", TONE, EVENTS, 0),
        ("tone_later", TONE, OTHER_EVENTS, 1),
        ("noise", NOISE, EVENTS, 0),
        ("noise_later", NOISE, OTHER_EVENTS, 1),
    ):
        out[name] = d / f"{name}.wav"
        sf.write(out[name], render(events, timbre, 3.0, seed=seed), SR)
    out["silent"] = d / "silent.wav"
    sf.write(out["silent"], np.zeros(SR, np.float32), SR)
    for name in ("tone", "noise"):  # generated outputs that copy one input exactly
        out[f"copy_of_{name}"] = d / f"copy_of_{name}.wav"
        shutil.copy(out[name], out[f"copy_of_{name}"])
    return out


@pytest.fixture(scope="module")
def scorer():
    return SCORERS.build("sfx_similarity")


def test_registered_with_its_config(scorer):
    assert isinstance(scorer, SFXSimilarityScorer)
    custom = SCORERS.build({"name": "sfx_similarity", "peak_normalize": False})
    assert custom.cfg == SFXSimilarityConfig(peak_normalize=False)
    with pytest.raises(ValueError, match="input_rate"):
        SFXSimilarityConfig(input_rate=96000)


def test_same_sound_scores_one(scorer, files):
    item = ScoringItem(utt="u", generated=files["tone"], reference=files["tone"])
    out = scorer.score(item)
    assert out["sfx_sim_ref"] == pytest.approx(1.0, abs=1e-6)
    # not a cross pair (no original): the original-side metrics are undefined
    assert math.isnan(out["sfx_sim_orig"]) and math.isnan(out["sfx_leakage"])


def test_variant_is_nearer_than_another_sound(scorer, files):
    for name, other in (("tone", "noise"), ("noise", "tone")):
        variant = scorer.similarity(files[name], files[f"{name}_later"])
        different = scorer.similarity(files[name], files[other])
        assert variant > different + 0.05, (name, variant, different)
        assert variant > 0.9


def _cross(files, generated, **extra):
    """A cross pair: video with the noise burst, reference the tone, output ``generated``."""
    return ScoringItem(
        utt="v-r",
        generated=files[generated],
        reference=files["tone"],
        original=files["noise"],
        extra=extra,
    )


def test_leakage_sign_on_constructed_cross_pairs(scorer, files):
    def cross(generated):
        return _cross(files, generated)

    follows_reference = scorer.score(cross("copy_of_tone"))
    assert follows_reference["sfx_sim_ref"] == pytest.approx(1.0, abs=1e-6)
    assert follows_reference["sfx_leakage"] < -0.05
    leaks = scorer.score(cross("copy_of_noise"))
    assert leaks["sfx_sim_orig"] == pytest.approx(1.0, abs=1e-6)
    assert leaks["sfx_leakage"] > 0.05
    assert leaks["sfx_leakage"] == pytest.approx(leaks["sfx_sim_orig"] - leaks["sfx_sim_ref"])


def test_silence(scorer, files):
    item = ScoringItem(utt="u", generated=files["tone"], reference=files["silent"])
    with pytest.raises(InputError, match="silent") as err:
        scorer.score(item)
    assert err.value.path == files["silent"] and str(files["silent"]) in str(err.value)
    quiet = ScoringItem(utt="u", generated=files["silent"], reference=files["tone"])
    assert scorer.score(quiet)["sfx_sim_ref"] == 0.0


def test_missing_file_names_it(scorer, files, tmp_path):
    item = ScoringItem(utt="u", generated=tmp_path / "gone.wav", reference=files["tone"])
    with pytest.raises(InputError, match="not found") as err:
        scorer.score(item)
    assert err.value.path == tmp_path / "gone.wav"


def test_weights_ship_in_the_package_and_load_weights_only(monkeypatch):
    import aisfx

    path = sfx.weights_path()
    assert path.is_file() and path.is_relative_to(sfx.Path(aisfx.__file__).parent)
    seen = []
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    state = sfx.load_weights(path)
    assert seen == [True]
    assert state["conv_block4.conv2.weight"].shape == (512, 512, 3, 3)
    model_state = sfx.sfx_encoder().state_dict()
    assert model_state.keys() == state.keys()
    assert all(torch.equal(model_state[k], v) for k, v in state.items())


def test_front_end_shapes():
    wav = np.random.default_rng(0).standard_normal(4 * sfx.MODEL_RATE)
    spec = sfx.log_mel(wav)
    assert spec.shape == (1 + wav.size // sfx.HOP, sfx.N_MELS)
    b = sfx.blocks(spec)  # 173 frames: starts 0, 50 and 73 (the block ending at the end)
    assert b.shape == (3, sfx.BLOCK, sfx.N_MELS)
    assert np.array_equal(b[-1], spec[-sfx.BLOCK :])
    assert sfx.blocks(spec[:40]).shape == (1, sfx.BLOCK, sfx.N_MELS)
    fb = sfx.mel_filterbank()
    assert fb.shape == (sfx.N_MELS, sfx.N_FFT // 2 + 1)
    assert np.allclose(fb.sum(axis=1), 1.0)
    emb = sfx.embed(wav[: sfx.MODEL_RATE])
    assert emb is not None and emb.shape == (sfx.EMBED_DIM,) and emb.min() >= 0.0


def test_describe_names_model_rate_and_pooling(scorer):
    text = scorer.describe()
    for part in ("aisfx 0.1.2", "44.1 kHz", "22050 Hz", "mean over blocks", "cross pairs only"):
        assert part in text, part


def test_centring_on_the_scored_set_spreads_the_cosines(files, tmp_path):
    """Raw embeddings are non-negative (cosines near 1 for any pair); centred on the set's
    mean, a tone and a noise burst come apart while a sound still matches itself."""
    data = tmp_path / "data" / "test"
    data.mkdir(parents=True)
    names = ("tone", "tone_later", "noise", "noise_later")
    (data / "wav.scp").write_text("".join(f"{n} {files[n]}\n" for n in names))

    def item(generated):
        return _cross(files, generated, cross=True, data_dir=str(data))

    raw = SFXSimilarityScorer(SFXSimilarityConfig(center="none")).score(item("tone_later"))
    centred_scorer = SFXSimilarityScorer(SFXSimilarityConfig(center="set"))
    centred = centred_scorer.score(item("tone_later"))
    assert centred["sfx_sim_orig"] < raw["sfx_sim_orig"] - 0.2  # tone vs noise: far apart
    assert centred["sfx_leakage"] < raw["sfx_leakage"]
    assert centred_scorer.score(item("tone"))["sfx_sim_ref"] == pytest.approx(1.0, abs=1e-6)
    assert "centred on the mean embedding" in centred_scorer.describe()
    with pytest.raises(ValueError, match="center"):
        SFXSimilarityConfig(center="median")


def test_openvino_gives_the_torch_embeddings(files, tmp_path, monkeypatch):
    """The default CPU path (OpenVINO fp32) equals torch to float rounding, for 1 to 3 blocks."""
    monkeypatch.setenv("VS_PLUGIN_CACHE_DIR", str(tmp_path))
    for name in ("tone", "noise_later"):
        wav = sf.read(files[name], dtype="float32")[0]
        for seconds in (1.0, 3.0):
            piece = wav[: int(seconds * SR)]
            a = sfx.embed(piece, SR, backend="torch")
            b = sfx.embed(piece, SR, backend="openvino")
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    assert list(tmp_path.glob("aisfx-embedding-openvino-*/model.xml"))
    with pytest.raises(Exception, match="backend must be one of"):
        SFXSimilarityConfig(backend="tensorrt")
