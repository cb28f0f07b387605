"""Stage 0 (conforming) and stage 1 (mel, video features per extractor and flow method)
seconds per clip, wall and CPU (process time)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from tools.bench.media import synth_clips
from vs_plugin.audio.io import load_audio
from vs_plugin.registry import AUDIO_FEATURES, VIDEO_FEATURES
from vs_plugin.video.conform import ConformConfig, conform_clip
from vs_plugin.video.io import read_frames


def _clock(fn) -> tuple[float, float, Any]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def bench_prep(seconds: float, clips: int, extractors: list[str],
               device: torch.device) -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="vs-bench-prep."))
    items = synth_clips(seconds, clips, tmp)
    cfg = ConformConfig(duration=seconds)
    rows = []
    conformed = []
    wall = cpu = 0.0
    for it in items:
        mp4, wav = tmp / f"{it.utt}.mp4", tmp / f"{it.utt}.wav"
        w, c, _ = _clock(lambda it=it, mp4=mp4, wav=wav: conform_clip(it.path, mp4, wav, cfg))
        wall, cpu = wall + w, cpu + c
        conformed.append((mp4, wav))
    # ffmpeg runs in a child process: its CPU time is not in process_time, so wall is the figure
    rows.append({"step": "stage 0 conform (ffmpeg, 1 pass)", "s_per_clip": wall / len(items),
                 "cpu_s_per_clip": None, "clip_seconds": seconds})
    mel = AUDIO_FEATURES.build("mel")
    wall = cpu = 0.0
    for _, wav in conformed:
        w, c, _ = _clock(lambda wav=wav: mel(load_audio(wav, 22050)))
        wall, cpu = wall + w, cpu + c
    rows.append({"step": "stage 1 mel", "s_per_clip": wall / len(items),
                 "cpu_s_per_clip": cpu / len(items), "clip_seconds": seconds})
    for spec in extractors:
        name, _, flow = spec.partition(":")
        cfg_ = {"name": name, "device": str(device)}
        if flow:
            cfg_["flow_method"] = flow
        feature = VIDEO_FEATURES.build(cfg_)
        wall = cpu = 0.0
        for mp4, _ in conformed:
            frames = read_frames(mp4)
            w, c, _ = _clock(lambda f=feature, x=frames, m=mp4: f(x, source=m))
            wall, cpu = wall + w, cpu + c
        rows.append({"step": f"stage 1 {spec}", "s_per_clip": wall / len(items),
                     "cpu_s_per_clip": cpu / len(items), "clip_seconds": seconds})
    return rows
