"""A small test set as stages 0-1 leave it, with an exported tiny model: what
``generate_set`` (``vs-infer``) and ``vocode_set`` (``vs-vocode``) read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from tests.infer.tinymodel import FEATURE_DIM, export_tiny
from tests.media import make_video
from vs_plugin.audio.mel import log_mel
from vs_plugin.bin import infer as infer_cli
from vs_plugin.utils.files import write_scp

UTTS = {"dog_a": "dog", "dog_b": "dog", "gun_a": "gun", "gun_b": "gun"}
T = 20  # video frames per clip (~0.93 s)

SmallSet = tuple[Path, Path, Path, Path]  # root, model, data dir, dump dir


def make_small_set(root: Path) -> SmallSet:
    """Four clips of two categories under ``root``: data dir, raw-feature dump, a model."""
    model = export_tiny(root / "exp" / "model")
    rng = np.random.default_rng(0)
    data, dump = root / "data" / "test", root / "dump" / "test"
    tables: dict[str, dict] = {"video.scp": {}, "wav.scp": {}, "mel": {}, "video": {}}
    for i, utt in enumerate(UTTS):
        video = make_video(root / "media" / f"{utt}.mp4", seconds=1.0, fps=21.5, events=(0.4,))
        wav = (0.3 * np.sin(2 * np.pi * (200 + 100 * i) * np.arange(T * 1024) / 22050)).astype(
            np.float32
        )
        sf.write(root / "media" / f"{utt}.wav", wav, 22050)
        for stream, arr in (("mel", log_mel(wav)), ("video", rng.random((T, FEATURE_DIM)))):
            path = dump / stream / "data" / f"{utt}.npy"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, arr.astype(np.float16))
            tables[stream][utt] = path
        tables["video.scp"][utt] = video
        tables["wav.scp"][utt] = root / "media" / f"{utt}.wav"
    data.mkdir(parents=True)
    write_scp(data / "video.scp", tables["video.scp"])
    write_scp(data / "wav.scp", tables["wav.scp"])
    write_scp(data / "utt2category", UTTS)
    write_scp(data / "category2utt", {"dog": "dog_a dog_b", "gun": "gun_a gun_b"})
    for stream in ("mel", "video"):
        write_scp(dump / stream / "feats.scp", tables[stream])
    return root, model, data, dump


def run_infer(small_set: SmallSet, out: Path, *extra: str) -> int:
    """``vs-infer`` on the small set into ``out`` (CPU), with ``extra`` options."""
    root, model, data, dump = small_set
    argv = ["--model", str(model), "--data", str(data), "--dump", str(dump), "--out", str(out)]
    return infer_cli.main([*argv, "--device", "cpu", *extra])
