"""The built-in synthetic corpus: real mp4s, exact ground truth, timbre invisible in the picture."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path

import ffmpeg
import librosa
import numpy as np
import pytest
import torch

from vs_plugin.audio.io import load_audio
from vs_plugin.audio.mel import log_mel
from vs_plugin.data import synth
from vs_plugin.data.synth import (
    FAMILIES,
    SynthCorpus,
    SynthCorpusConfig,
    make_clip_meta,
    render_audio,
    render_clean,
    render_frames,
    render_ideal,
    render_one_shot,
    timbre_variant,
)
from vs_plugin.errors import InputError
from vs_plugin.registry import CORPORA
from vs_plugin.video.io import read_frames

SR = 22050
TOL = 0.03  # seconds between a ground-truth event and a detected onset


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """log_mel's tiny STFTs are much slower with several threads on a busy machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def small_cfg(root: Path, **kw) -> SynthCorpusConfig:
    base = dict(
        root=str(root),
        categories=["bell", "whistle"],
        n_train=2,
        n_valid=1,
        n_test=1,
        duration=4.0,
        height=64,
        width=96,
        min_events=3,
        max_events=5,
    )
    base.update(kw)
    return SynthCorpusConfig(**base)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    cfg = small_cfg(tmp_path_factory.mktemp("synth") / "vas_synth")
    c = SynthCorpus(cfg)
    return c, c.items()


def onsets(wav: np.ndarray) -> np.ndarray:
    """Strong onsets (seconds) after the clip's first 0.15 s (where the background starts)."""
    env = librosa.onset.onset_strength(y=wav, sr=SR, hop_length=128, n_fft=1024)
    t = librosa.onset.onset_detect(
        onset_envelope=env, sr=SR, hop_length=128, units="time", delta=0.2
    )
    return t[t > 0.15]


def assert_onsets_match(wav: np.ndarray, events) -> None:
    found, events = onsets(wav), np.asarray(events)
    assert found.size, "no onset detected"
    for e in events:
        assert np.min(np.abs(found - e)) <= TOL, f"event at {e:.3f}s has no onset; got {found}"
    for o in found:
        assert np.min(np.abs(events - o)) <= TOL, f"onset at {o:.3f}s matches no event {events}"


def test_registered_as_vas_synth(tmp_path):
    assert CORPORA.get("vas_synth").cls is SynthCorpus
    built = CORPORA.build({"name": "vas_synth", "root": str(tmp_path), "n_train": 3})
    assert isinstance(built, SynthCorpus) and built.cfg.n_train == 3


def test_layout_splits_and_ground_truth(corpus):
    c, items = corpus
    assert len(items) == 2 * (2 + 1 + 1)
    assert [it.utt for it in items] == sorted({it.utt for it in items})
    for it in items:
        assert it.utt == f"{it.category}-{it.path.stem}" and it.path.stem.startswith(it.split)
        assert it.path == c.root / it.category / "videos" / f"{it.path.stem}.mp4"
        assert it.path.stat().st_size > 0
        meta = json.loads(it.path.with_suffix(".json").read_text())
        assert meta["category"] == it.category and meta["split"] == it.split
        assert {"events", "timbre", "background", "seed", "duration"} <= set(meta)
        assert 3 <= len(meta["events"]) <= 5
        assert meta["timbre"]["family"] in FAMILIES[it.category]
    splits = {(it.category, it.split) for it in items}
    assert splits == {(c, s) for c in ("bell", "whistle") for s in ("train", "valid", "test")}


def test_mp4_streams(corpus):
    _, items = corpus
    info = ffmpeg.probe(str(items[0].path))
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (int(video["width"]), int(video["height"])) == (96, 64)
    num, den = (int(x) for x in video["avg_frame_rate"].split("/"))
    assert num / den == pytest.approx(21.5)
    assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p"
    assert audio["codec_name"] == "aac" and int(audio["sample_rate"]) == SR
    assert float(info["format"]["duration"]) == pytest.approx(4.0, abs=0.06)
    assert int(video["nb_frames"]) == round(4.0 * 21.5)


def test_items_is_idempotent_and_fills_gaps(corpus):
    c, items = corpus
    stamps = {it.utt: it.path.stat().st_mtime_ns for it in items}
    c.items()
    assert {it.utt: it.path.stat().st_mtime_ns for it in items} == stamps
    victim = items[1]
    victim.path.with_suffix(".json").unlink()  # an unfinished clip: JSON is written last
    c.items()
    assert victim.path.with_suffix(".json").exists()
    changed = [it.utt for it in items if it.path.stat().st_mtime_ns != stamps[it.utt]]
    assert changed == [victim.utt]
    assert not [p for p in c.root.rglob("*") if p.name.startswith(".") and p.name != ".done"]


def test_root_with_other_settings_is_refused(corpus):
    c, _ = corpus
    other = SynthCorpus(dataclass_replace(c.cfg, seed=c.cfg.seed + 1))
    with pytest.raises(InputError, match="seed"):
        other.items()


def dataclass_replace(cfg, **kw):
    import dataclasses

    return dataclasses.replace(cfg, **kw)


def test_deterministic_for_a_seed(tmp_path):
    cfg = small_cfg(tmp_path)
    a = make_clip_meta(cfg, "whistle", "valid", 0)
    b = make_clip_meta(cfg, "whistle", "valid", 0)
    assert a == b
    wa, wb = render_audio(a), render_audio(b)
    assert wa.tobytes() == wb.tobytes()
    assert render_frames(a).tobytes() == render_frames(b).tobytes()
    c = make_clip_meta(dataclass_replace(cfg, seed=1), "whistle", "valid", 0)
    assert c["events"] != a["events"]
    assert render_audio(c).tobytes() != wa.tobytes()
    # counts do not change clip content: clip i is the same in a bigger corpus
    assert make_clip_meta(dataclass_replace(cfg, n_valid=9), "whistle", "valid", 0) == a


def test_audio_onsets_match_events_in_every_family(tmp_path):
    cfg = small_cfg(tmp_path, duration=4.0, max_events=5)
    for i, category in enumerate(FAMILIES):
        for j, family in enumerate(FAMILIES[category]):
            meta = make_clip_meta(cfg, category, "train", 10 * i + j)
            meta["timbre"] = timbre_variant(category, family, j % cfg.variants_per_family)
            assert_onsets_match(render_audio(meta), meta["events"])


def test_mp4_sound_track_onsets_match_events(corpus):
    _, items = corpus
    for it in items[:3]:
        meta = json.loads(it.path.with_suffix(".json").read_text())
        wav = load_audio(it.path, SR, duration=meta["duration"])  # AAC pads its last frame
        assert_onsets_match(wav, meta["events"])


def test_picture_shows_the_events(corpus):
    _, items = corpus
    for it in items[:4]:
        meta = json.loads(it.path.with_suffix(".json").read_text())
        frames = read_frames(it.path).astype(np.float32)
        rise = np.diff(frames.mean(axis=(1, 2, 3)), prepend=frames[:1].mean())
        expected = {math.ceil(e * meta["fps"]) for e in meta["events"]}
        peaks = set(np.flatnonzero(rise > 0.5 * rise.max()).tolist())
        assert peaks, "no visual event"
        for k in peaks:
            assert min(abs(k - e) for e in expected) <= 1, (it.utt, sorted(peaks), expected)
        for e in expected:
            assert min(abs(k - e) for k in peaks) <= 1, (it.utt, sorted(peaks), expected)


def test_picture_does_not_depend_on_timbre(tmp_path):
    cfg = small_cfg(tmp_path)
    a = make_clip_meta(cfg, "bell", "train", 0)
    families = [f for f in FAMILIES["bell"] if f != a["timbre"]["family"]]
    b = copy.deepcopy(a)
    b["timbre"] = timbre_variant("bell", families[0], 1)
    pa, pb = synth.write_clip(tmp_path / "a.mp4", a), synth.write_clip(tmp_path / "b.mp4", b)
    assert np.array_equal(read_frames(pa), read_frames(pb))
    assert not np.allclose(render_audio(a), render_audio(b))


def test_timbre_families_differ_clearly_in_the_mel():
    def feature(params) -> np.ndarray:
        m = log_mel(render_one_shot(params, SR)[: 21 * 256])[:20]  # the first ~0.23 s
        return np.maximum(m, m.max() - 7.0).mean(axis=0)  # 60 dB range, like a listener

    for category, families in FAMILIES.items():
        vecs = {
            f: np.stack([feature(timbre_variant(category, f, v)["params"]) for v in range(4)])
            for f in families
        }
        means = {f: v.mean(axis=0) for f, v in vecs.items()}
        within = max(np.linalg.norm(v - means[f], axis=1).max() for f, v in vecs.items())
        names = list(means)
        between = min(
            np.linalg.norm(means[x] - means[y]) for i, x in enumerate(names) for y in names[i + 1 :]
        )
        assert between > 2 * within, (category, between, within)
        # variants of one family are still distinct individuals
        assert all(np.linalg.norm(v[0] - v[1]) > 0.1 for v in vecs.values()), category


def test_render_ideal_has_a_events_and_b_timbre(tmp_path):
    cfg = small_cfg(tmp_path, duration=5.0)
    a = make_clip_meta(cfg, "bell", "test", 0)
    b = make_clip_meta(cfg, "bell", "test", 1)
    b["timbre"] = timbre_variant(
        "bell", next(f for f in FAMILIES["bell"] if f != a["timbre"]["family"]), 0
    )
    ideal = render_ideal(a, b)
    assert ideal.shape == (round(a["duration"] * SR),)
    assert_onsets_match(ideal, a["events"])
    assert np.array_equal(ideal, render_ideal(a, b["timbre"]))  # whole JSON or timbre entry

    # the first event of the ideal sounds like B's first event, not like A's
    def first_event(wav, meta):
        i = round(meta["events"][0] * SR / 256)
        return log_mel(wav)[i : i + 10].mean(axis=0)

    ideal_ev = first_event(ideal, a)
    d_b = np.linalg.norm(ideal_ev - first_event(render_clean(b), b))
    d_a = np.linalg.norm(ideal_ev - first_event(render_clean(a), a))
    assert d_b < 0.2 * d_a, (d_b, d_a)
    # no background: silence between events is digital silence before the first event
    assert np.max(np.abs(ideal[: int(0.2 * SR)])) == 0.0
    assert np.max(np.abs(render_audio(a)[: int(0.2 * SR)])) > 0.0


def test_bad_config_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown categories"):
        SynthCorpus(small_cfg(tmp_path, categories=["violin"]))
    with pytest.raises(ValueError, match="even"):
        SynthCorpus(small_cfg(tmp_path, height=63))
    with pytest.raises(ValueError, match="do not fit"):
        SynthCorpus(small_cfg(tmp_path, duration=2.0, min_events=5))
    # short clips cap the event count at what fits (0.4 s apart, 0.25 s and 0.5 s margins)
    short = small_cfg(tmp_path, duration=1.6, min_events=1, max_events=8)
    counts = {len(make_clip_meta(short, "drum", "train", i)["events"]) for i in range(30)}
    assert counts == {1, 2, 3}


def test_cli_help_and_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        synth.main(["--help"])
    assert exc.value.code == 0 and "--root" in capsys.readouterr().out
    rc = synth.main(
        [
            "--root",
            str(tmp_path / "c"),
            "--categories",
            "knock",
            "--n-train",
            "1",
            "--n-valid",
            "0",
            "--n-test",
            "0",
            "--duration",
            "2",
            "--height",
            "32",
            "--width",
            "48",
            "--min-events",
            "1",
            "--max-events",
            "2",
        ]
    )
    assert rc == 0
    assert set(os.listdir(tmp_path / "c" / "knock" / "videos")) == {
        "train_0000.mp4",
        "train_0000.json",
    }
