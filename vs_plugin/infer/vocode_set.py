"""Vocode the mels of an inference folder and mux the sound onto the set's videos.

What recipe stage 4 (``vs-vocode``) runs: ``<dir>/mel.scp`` -> ``<dir>/wav/<utt>.wav`` (22050 Hz
PCM16) + ``wav.scp``, then (with a data dir) ``<dir>/mp4/<utt>.mp4``: the video of
``pairs.tsv``'s video utterance with the generated sound track. ``prepare_ground_truth`` first
fills a folder with the dump's ground-truth mels (raw log-mels: no de-normalisation), so the
ground truth is judged through the same vocoder.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vs_plugin.audio.io import save_wav
from vs_plugin.data.kaldi_dir import VIDEO_SCP, read_data_dir, write_failed, write_wav_scp
from vs_plugin.data.layout import feats_scp, mel_scp
from vs_plugin.errors import InputError, OutputError
from vs_plugin.infer.mux import mux
from vs_plugin.infer.pairing import Pair, pairs_tsv_path, read_pairs_tsv, write_pairs_tsv
from vs_plugin.infer.vocode import vocode
from vs_plugin.interfaces import Vocoder
from vs_plugin.utils.files import read_scp, save_npy_atomic, write_scp

log = logging.getLogger(__name__)


def prepare_ground_truth(dump_dir: str | Path, out_dir: str | Path, overwrite: bool = False) -> int:
    """Copy ``dump/<set>/mel`` into ``out_dir`` in the inference layout; returns the count."""
    out_dir = Path(out_dir)
    scp = read_scp(feats_scp(dump_dir, "mel"))
    mel_dir = out_dir / "mel"
    for utt, path in tqdm(scp.items(), desc="ground-truth mels", unit="utt"):
        dst = mel_dir / f"{utt}.npy"
        if overwrite or not dst.exists():
            save_npy_atomic(dst, np.load(path).astype(np.float32))
    write_scp(mel_scp(out_dir), {u: (mel_dir / f"{u}.npy").resolve() for u in scp})
    write_pairs_tsv(pairs_tsv_path(out_dir), [Pair(u, u, u) for u in scp])
    return len(scp)


def vocode_set(
    in_dir: str | Path,
    vocoder: Vocoder,
    *,
    data_dir: str | Path | None = None,
    do_mux: bool = True,
    overwrite: bool = False,
    strict: bool = False,
) -> dict[str, int]:
    """Vocode (and mux) every utterance of ``in_dir``; returns ``{"done", "skipped", "failed"}``."""
    in_dir = Path(in_dir)
    mels = read_scp(mel_scp(in_dir))
    pairs = read_pairs_tsv(pairs_tsv_path(in_dir)) if pairs_tsv_path(in_dir).exists() else {}
    videos: dict[str, str] = {}
    video_scp: Path | None = None
    if data_dir is not None and do_mux:
        data = read_data_dir(data_dir, required=(VIDEO_SCP,), optional=())
        videos, video_scp = data.video, data.file(VIDEO_SCP)
    wav_dir, mp4_dir = in_dir / "wav", in_dir / "mp4"
    counts = {"done": 0, "skipped": 0, "failed": 0}
    failures: list[tuple[str, str]] = []
    for utt, mel_path in tqdm(mels.items(), desc=f"vocode {in_dir.name}", unit="utt"):
        wav_path, mp4_path = wav_dir / f"{utt}.wav", mp4_dir / f"{utt}.mp4"
        video_utt = pairs[utt].video if utt in pairs else utt
        want_mp4 = bool(videos)
        if not overwrite and wav_path.exists() and (not want_mp4 or mp4_path.exists()):
            counts["skipped"] += 1
            continue
        try:
            if overwrite or not wav_path.exists():
                save_wav(wav_path, vocode(vocoder, np.load(mel_path)), vocoder.sample_rate)
            if want_mp4:
                if video_utt not in videos:
                    raise InputError(video_scp, f"video utterance {video_utt!r} is not there")
                mux(videos[video_utt], wav_path, mp4_path)
            counts["done"] += 1
        except OutputError:  # a full disk stops the set: the next item would fail too
            raise
        except Exception as exc:  # one bad utterance must not stop the set
            if strict:
                raise
            log.warning("%s: %s", utt, exc)
            failures.append((utt, str(exc)))
            counts["failed"] += 1
    wavs = {u: (wav_dir / f"{u}.wav").resolve() for u in mels}
    write_wav_scp(in_dir, {u: p for u, p in wavs.items() if p.exists()})
    write_failed(in_dir / "failed_vocode.list", failures)
    return counts
