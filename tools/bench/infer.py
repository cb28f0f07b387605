"""Real-time factors: the generator (eager vs inference_mode), each vocoder, and the whole
vs-generate path (features, generator, vocoder, mux) for one clip."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tools.bench.common import median, timed
from tools.bench.media import synth_clips
from vs_plugin.audio.mel import log_mel
from vs_plugin.models.presets import build_generator, generator_spec
from vs_plugin.registry import VIDEO_FEATURES, VOCODERS


def _export(preset: str, video_feature: str, tmp: Path, device: torch.device,
            feature_options: dict[str, Any] | None = None):
    """A ``preset`` generator with random weights, exported to ``tmp/model`` with the video
    feature ``{"name": video_feature, **feature_options}`` recorded; returns it loaded."""
    from vs_plugin.models.export import export_generator, load_exported

    dims = {"effnet_rgb_flow": 2560, "bn_inception_rgb_flow": 2048}
    spec = generator_spec(preset, video_dim=dims.get(video_feature, 2048))
    gen = build_generator(spec)
    stats = tmp / "mel.npz"
    np.savez(stats, mean=np.full(80, -5.0, np.float32), scale=np.full(80, 2.0, np.float32))
    vstats = tmp / "video.npz"
    d = spec["video_dim"]
    np.savez(vstats, mean=np.zeros(d, np.float32), scale=np.ones(d, np.float32))
    feature = {"name": video_feature, **(feature_options or {})}
    export_generator(gen, spec, tmp / "model", stats, vstats, feature)
    return load_exported(tmp / "model", device)


def bench_infer(preset: str, seconds: float, device: torch.device, vocoders: list[str],
                video_feature: str, repeats: int, end_to_end: bool,
                feature_variants: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Generator and vocoder RTFs, then (``end_to_end``) vs-generate's parts for each of
    ``feature_variants`` (video feature options, e.g. ``{"backend": "torch"}``)."""
    rows = []
    torch.manual_seed(0)
    spec = generator_spec(preset)
    gen = build_generator(spec).to(device).eval()
    frames = int(round(seconds * 21.5))
    video = torch.randn(1, spec["video_dim"], frames, device=device)
    ref = torch.randn(1, spec["n_mels"], frames * spec["upsample"], device=device)
    with torch.no_grad():
        t_plain = median(timed(lambda: gen.generate(video, ref), device, repeats))
    with torch.inference_mode():
        t_inf = median(timed(lambda: gen.generate(video, ref), device, repeats))
    rows.append({"part": "generator (no_grad)", "seconds": t_plain, "rtf": t_plain / seconds,
                 "x_real_time": seconds / t_plain})
    rows.append({"part": "generator (inference_mode)", "seconds": t_inf, "rtf": t_inf / seconds,
                 "x_real_time": seconds / t_inf})
    wav = np.random.default_rng(0).standard_normal(int(seconds * 22050)).astype(np.float32) * 0.1
    mel = log_mel(wav)
    for name in vocoders:
        voc = VOCODERS.build(name).to(device)
        t = median(timed(lambda voc=voc: voc(mel), device, repeats))
        rows.append({"part": f"vocoder {name}", "seconds": t, "rtf": t / seconds,
                     "x_real_time": seconds / t})
    if end_to_end:
        rows += _end_to_end(preset, seconds, device, vocoders[0], video_feature, repeats,
                            feature_variants or [{}])
    return rows


def _end_to_end(preset: str, seconds: float, device: torch.device, vocoder: str,
                video_feature: str, repeats: int,
                variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """vs-generate's four parts per feature variant (runs interleaved: A B A B ...)."""
    from vs_plugin.infer.single import generate_clip

    tmp = Path(tempfile.mkdtemp(prefix="vs-bench-infer."))
    clip = synth_clips(seconds, 1, tmp)[0]
    model = _export(preset, video_feature, tmp, device)
    voc = VOCODERS.build(vocoder).to(device)
    features = [VIDEO_FEATURES.build({"name": video_feature, "device": str(device), **v})
                for v in variants]
    runs: list[list[Any]] = [[] for _ in variants]
    for i in range(repeats + 1):  # the first round warms up (graph compiles, caches)
        for k, feature in enumerate(features):
            report = generate_clip(clip.path, clip.path, tmp / f"out{k}.mp4", model, voc,
                                   feature=feature)
            if i:
                runs[k].append(report)
    rows = []
    for variant, reports in zip(variants, runs):
        label = ",".join(f"{k}={v}" for k, v in variant.items()) or "defaults"
        parts = {part: median([r.timings[part] for r in reports]) for part in reports[0].timings}
        parts["total"] = median([r.total for r in reports])
        parts["after features"] = median([r.total - r.timings["features"] for r in reports])
        for part, t in parts.items():
            rows.append({"part": f"vs-generate [{label}]: {part}", "seconds": t,
                         "rtf": t / seconds, "x_real_time": seconds / t if t else None})
    return rows


#: ``vs-generate``'s report line: "... in T s: features a s, generator b s, vocoder c s, mux d s"
_REPORT = re.compile(r"in ([0-9.]+) s: features ([0-9.]+) s, generator ([0-9.]+) s, "
                     r"vocoder ([0-9.]+) s, mux ([0-9.]+) s.*\(\+ ([0-9.]+) s loading")


def bench_fresh(preset: str, seconds: float, video_feature: str, variants: list[dict[str, Any]],
                runs: int) -> list[dict[str, Any]]:
    """``vs-generate`` as a user runs it: a fresh process per clip, variants in turn.

    Each variant (video feature options recorded in the model, e.g. ``{"precision": "bf16"}``)
    gets a ``preset`` model with random weights; every round runs each variant's process once
    (A B A B ...), after one warm-up round that fills the graph caches. Rows: medians of the
    four timed parts, their total, the loading and the whole process's wall seconds.
    """
    tmp = Path(tempfile.mkdtemp(prefix="vs-bench-fresh."))
    clip = synth_clips(seconds, 1, tmp)[0].path
    models = []
    for k, variant in enumerate(variants):
        folder = tmp / f"variant{k}"
        folder.mkdir()
        _export(preset, video_feature, folder, torch.device("cpu"), variant)
        models.append(folder / "model")
    results: list[list[dict[str, float]]] = [[] for _ in variants]
    for i in range(runs + 1):
        for k, model in enumerate(models):
            cmd = [sys.executable, "-m", "vs_plugin.bin.generate", "--video", str(clip),
                   "--reference", str(clip), "--output", str(tmp / f"out{k}.mp4"),
                   "--model", str(model), "--device", "cpu"]
            t0 = time.perf_counter()
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            wall = time.perf_counter() - t0
            m = _REPORT.search(out.stdout)
            if m is None:
                raise RuntimeError(f"no timing report in vs-generate's output: {out.stdout!r}")
            total, feat, gen, voc, mux, load = map(float, m.groups())
            if i:  # the first round warms the caches
                results[k].append({"features": feat, "generator": gen, "vocoder": voc,
                                   "mux": mux, "timed parts": total, "loading": load,
                                   "wall": wall})
    rows = []
    for variant, runs_k in zip(variants, results):
        label = ",".join(f"{k}={v}" for k, v in variant.items()) or "defaults"
        for part in runs_k[0]:
            values = [r[part] for r in runs_k]
            rows.append({"variant": label, "part": part, "median_s": median(values),
                         "min_s": min(values), "max_s": max(values)})
    return rows
