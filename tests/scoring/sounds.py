"""Test sounds with known timbre and timing, and a small experiment layout on disk."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import ffmpeg
import numpy as np

from vs_plugin.audio.io import save_wav

SR = 22050


def hit(timbre: dict, sr: int = SR) -> np.ndarray:
    """One event: a decaying harmonic note ('tone') or a decaying noise burst ('noise')."""
    n = int(0.25 * sr)
    t = np.arange(n) / sr
    env = np.exp(-t / timbre.get("decay", 0.06))
    if timbre["kind"] == "tone":
        f0 = timbre["f0"]
        wave = sum(np.sin(2 * np.pi * f0 * k * t) / k**1.2 for k in range(1, 9))
    else:
        rng = np.random.default_rng(timbre.get("seed", 0))
        wave = rng.standard_normal(n)
        if timbre.get("bright", True):
            wave = np.diff(wave, prepend=0.0)
    return (env * wave / np.max(np.abs(wave))).astype(np.float32)


def render(
    events: Sequence[float],
    timbre: dict,
    seconds: float = 2.0,
    sr: int = SR,
    noise: float = 0.003,
    seed: int = 0,
) -> np.ndarray:
    """Events in one timbre over a faint noise floor (as real recordings have)."""
    rng = np.random.default_rng(seed)
    wav = noise * rng.standard_normal(int(seconds * sr))
    one = hit(timbre, sr)
    for e in events:
        i = int(round(e * sr))
        m = min(len(one), len(wav) - i)
        wav[i : i + m] += 0.7 * one[:m]
    return np.clip(wav, -1, 1).astype(np.float32)


def clicks(times: Sequence[float], seconds: float = 3.0, sr: int = SR) -> np.ndarray:
    """Short decaying noise clicks at ``times`` (seconds)."""
    return render(times, {"kind": "noise", "decay": 0.004}, seconds, sr, noise=0.0005)


def make_mp4(path: Path, seconds: float = 2.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (
        ffmpeg.input(f"color=c=gray:s=32x24:r=10:d={seconds}", f="lavfi")
        .output(str(path), vcodec="libx264", pix_fmt="yuv420p", **{"metadata": "title=secret"})
        .global_args("-nostdin", "-loglevel", "error")
        .overwrite_output()
        .run()
    )
    return path


def _write_table(path: Path, rows: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k} {v}\n" for k, v in sorted(rows.items())), encoding="utf-8")


def make_experiment(
    root: Path, counts: dict[str, int], *, videos: bool = False, seconds: float = 2.0
) -> dict:
    """data/test, exp/infer_test_shuffled, exp/infer_test_gt and exp/infer_test_timbre.

    Each clip has its own events and timbre (category 'tone*' harmonic, else noise); GT is
    the original plus a little noise (a stand-in for vocoding); the shuffled system renders
    the video's events in the reference's timbre (a perfect transfer) with noise. Returns the
    paths and the per-clip ground truth.
    """
    data, exp = root / "data" / "test", root / "exp"
    wav, cat, events, video, meta = {}, {}, {}, {}, {}
    gt, shuffled, pairs, timbre_wav, timbre_pairs = {}, {}, [], {}, []
    truth: dict[str, dict] = {}
    rng = np.random.default_rng(1)
    for c, n in counts.items():
        utts = [f"{c}_{i:02d}" for i in range(n)]
        for i, u in enumerate(utts):
            if c.startswith("tone"):
                timbre = {"kind": "tone", "f0": float(110 * 2 ** (i / 5)), "decay": 0.08}
            else:
                timbre = {"kind": "noise", "seed": i, "bright": i % 2 == 0, "decay": 0.03}
            slots = np.arange(0.2, seconds - 0.2, 0.25)  # past the onset scorer's skipped start
            ev = sorted(float(x) for x in rng.choice(slots, size=min(3, slots.size), replace=False))
            truth[u] = {"events": ev, "timbre": timbre, "duration": seconds}
            wav[u] = str(save_wav(data / "wav" / f"{u}.wav", render(ev, timbre, seconds)))
            gt[u] = str(
                save_wav(
                    exp / "infer_test_gt" / "wav" / f"{u}.wav",
                    render(ev, timbre, seconds, noise=0.006, seed=7),
                )
            )
            cat[u], events[u] = c, " ".join(f"{e:.4f}" for e in ev)
            mp = data / "meta" / f"{u}.json"
            mp.parent.mkdir(parents=True, exist_ok=True)
            mp.write_text(json.dumps(truth[u]), encoding="utf-8")
            meta[u] = str(mp)
            if videos:
                video[u] = str(make_mp4(data / "video" / f"{u}.mp4", seconds))
        for i, v in enumerate(utts):  # shuffled: each video gets the next clip's timbre
            r = utts[(i + 1) % n] if n > 1 else v
            g = f"{v}-{r}"
            shuffled[g] = str(
                save_wav(
                    exp / "infer_test_shuffled" / "wav" / f"{g}.wav",
                    render(truth[v]["events"], truth[r]["timbre"], seconds, noise=0.006, seed=3),
                )
            )
            pairs.append((g, v, r))
        for i, r in enumerate(utts):  # timbre plan: each reference with the next 3 videos
            for k in range(1, min(4, n)):
                v = utts[(i + k) % n]
                g = f"{v}-{r}"
                timbre_wav[g] = shuffled.get(g) or str(
                    save_wav(
                        exp / "infer_test_timbre" / "wav" / f"{g}.wav",
                        render(truth[v]["events"], truth[r]["timbre"], seconds, noise=0.006),
                    )
                )
                timbre_pairs.append((g, v, r))
    for name, table in (
        ("wav.scp", wav),
        ("utt2category", cat),
        ("events", events),
        ("utt2meta", meta),
    ):
        _write_table(data / name, table)
    if videos:
        _write_table(data / "video.scp", video)
    _write_table(exp / "infer_test_gt" / "wav.scp", gt)
    (exp / "infer_test_gt" / "pairs.tsv").write_text(
        "".join(f"{u}\t{u}\t{u}\n" for u in sorted(gt)), encoding="utf-8"
    )
    for d, table, prs in (
        ("infer_test_shuffled", shuffled, pairs),
        ("infer_test_timbre", timbre_wav, timbre_pairs),
    ):
        _write_table(exp / d / "wav.scp", table)
        (exp / d / "pairs.tsv").write_text(
            "".join(f"{g}\t{v}\t{r}\n" for g, v, r in sorted(prs)), encoding="utf-8"
        )
    return {
        "data": data,
        "gt": exp / "infer_test_gt",
        "infer": exp / "infer_test_shuffled",
        "timbre": exp / "infer_test_timbre",
        "truth": truth,
    }


def fake_render_ideal(video_meta: dict, timbre_meta: dict, sample_rate: int = SR) -> np.ndarray:
    """The ideal output in these test sounds' own format (no noise floor)."""
    return render(
        video_meta["events"], timbre_meta["timbre"], video_meta["duration"], sample_rate, noise=0.0
    )
