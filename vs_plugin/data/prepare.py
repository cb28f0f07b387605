"""Stage 0: corpus -> conformed media + ``data/{train,valid,test}/``.

Work is split into jobs (job J of N takes every N-th item). Each job conforms its clips with
one ffmpeg run per clip, skips clips already conformed by an earlier (killed) run, logs one
line per failure and records its results in ``<out_data>/.prepare/job.<J>.of.<N>.jsonl``. The
merge step reads every job's results, splits the usable clips per category and writes the
data dirs and ``failed.list`` files (``warnings.list`` lists usable clips with a caveat, such
as a file cut short that was conformed for the picture it holds). Failures of clips whose split is not fixed by the corpus
are listed in ``train/failed.list``; ``<out_data>/failed.list`` lists them all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from vs_plugin.data.kaldi_dir import Record, validate_data_dir, write_data_dir, write_failed
from vs_plugin.data.split import SplitItem, assign_splits
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.interfaces import CorpusItem
from vs_plugin.utils.files import write_text_atomic
from vs_plugin.video.conform import ConformConfig, check_source, conform_clip, is_conformed

log = logging.getLogger("vs_plugin.prepare")
SETS = ("train", "valid", "test")


@dataclass
class PrepareConfig:
    out_data: str = "data"
    out_media: str = "dump/media"
    split: str = "auto"
    valid_size: int = 32
    test_size: int = 32
    seed: int = 0
    strict: bool = False
    conform: ConformConfig = field(default_factory=ConformConfig)


@dataclass
class ClipResult:
    utt: str
    source: str
    category: str
    split: str | None
    ok: bool
    reason: str = ""
    video: str = ""
    wav: str = ""
    meta: str = ""
    events: list[float] | None = None
    timbre: str | None = None
    warning: str = ""  # usable, but e.g. cut short: listed in warnings.list


def find_meta(source: Path) -> Path | None:
    """Ground truth beside a generated clip: ``<video>.json`` (or ``<stem>.json``)."""
    for p in (source.with_name(source.name + ".json"), source.with_suffix(".json")):
        if p.is_file():
            return p
    return None


def timbre_label(data: dict) -> str | None:
    """A clip's sound-source label from its ground-truth JSON, or None.

    ``"timbre_label": "..."`` when given; else ``<category>/<family>`` of a ``timbre`` entry
    (the built-in corpus's families: clearly different spectra; variants of one family are
    one label).
    """
    label = data.get("timbre_label")
    if isinstance(label, str) and label.strip():
        return "_".join(label.split())
    timbre = data.get("timbre")
    if isinstance(timbre, dict) and timbre.get("family"):
        return "_".join(f"{timbre.get('category', '')}/{timbre['family']}".split())
    return None


def _read_meta(meta: Path) -> tuple[list[float] | None, str | None]:
    """Event times and the timbre label of a ground-truth JSON."""
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(meta, f"unreadable ground-truth JSON ({exc})") from None
    if not isinstance(data, dict):
        return None, None
    events = data.get("events")
    return (None if events is None else [float(t) for t in events]), timbre_label(data)


def conform_one(item: CorpusItem, cfg: PrepareConfig) -> ClipResult:
    """Conform one clip (or reuse the finished outputs of an earlier run)."""
    media = Path(cfg.out_media).absolute()
    mp4, wav = media / f"{item.utt}.mp4", media / f"{item.utt}.wav"
    res = ClipResult(item.utt, str(Path(item.path).absolute()), item.category, item.split, False)
    try:
        check = check_source(item.path, cfg.conform)  # cheap (no decoding); also on reruns
        res.warning = check.warning
        if not is_conformed(mp4, wav):
            conform_clip(item.path, mp4, wav, cfg.conform, check)
        meta = find_meta(Path(item.path))
        if meta is not None:
            res.meta = str(meta.absolute())
            res.events, res.timbre = _read_meta(meta)
    except InputError as exc:
        res.reason = exc.problem if exc.path == Path(item.path) else str(exc)
        return res
    res.ok, res.video, res.wav = True, str(mp4), str(wav)
    return res


def job_file(out_data: str | Path, job: int, nj: int) -> Path:
    return Path(out_data) / ".prepare" / f"job.{job}.of.{nj}.jsonl"


def run_job(items: Sequence[CorpusItem], cfg: PrepareConfig, *, nj: int = 1, job: int = 0) -> Path:
    """Conform this job's share of ``items``; returns the job's results file."""
    if not 0 <= job < nj:
        raise ConfigError(f"job {job} is not in 0..{nj - 1}")
    mine = list(items)[job::nj]
    results = []
    for item in tqdm(mine, desc=f"conform job {job}/{nj}", unit="clip", mininterval=2.0):
        res = conform_one(item, cfg)
        if res.warning:
            log.warning("warning: %s\t%s", res.source, res.warning)
        if not res.ok:
            log.warning("failed: %s\t%s", res.source, res.reason)
            if cfg.strict:
                raise InputError(res.source, res.reason)
        results.append(res)
    out = job_file(cfg.out_data, job, nj)
    write_text_atomic(out, "".join(json.dumps(asdict(r)) + "\n" for r in results))
    log.info(
        "job %d/%d: %d usable, %d failed",
        job,
        nj,
        sum(r.ok for r in results),
        sum(not r.ok for r in results),
    )
    return out


def load_results(out_data: str | Path, nj: int) -> list[ClipResult]:
    results = []
    for job in range(nj):
        f = job_file(out_data, job, nj)
        if not f.is_file():
            raise InputError(f, f"job {job} of {nj} has not finished; run it first")
        results += [ClipResult(**json.loads(line)) for line in f.read_text().splitlines() if line]
    return results


def merge(cfg: PrepareConfig, nj: int = 1, results: Iterable[ClipResult] | None = None) -> dict:
    """Split the usable clips and write ``data/<set>/``; returns counts per set."""
    results = list(results) if results is not None else load_results(cfg.out_data, nj)
    good = [r for r in results if r.ok]
    bad = [r for r in results if not r.ok]
    out_data = Path(cfg.out_data)
    write_failed(out_data / "failed.list", [(r.source, r.reason) for r in bad])
    write_failed(out_data / "warnings.list", [(r.source, r.warning) for r in good if r.warning])
    if not good:
        raise InputError(cfg.out_data, f"no usable clips ({len(bad)} failed); see failed.list")
    test_size = cfg.test_size
    splits = assign_splits(
        [SplitItem(r.utt, r.category, Path(r.source).stem, r.split) for r in good],
        cfg.split,
        valid_size=cfg.valid_size,
        test_size=test_size,
        seed=cfg.seed,
    )
    counts = {}
    for s in SETS:
        records = [
            Record(
                utt=r.utt,
                category=r.category,
                video=Path(r.video),
                wav=Path(r.wav),
                source=Path(r.source),
                meta=Path(r.meta) if r.meta else None,
                events=r.events,
                timbre=r.timbre,
            )
            for r in good
            if splits[r.utt] == s
        ]
        write_data_dir(out_data / s, records)
        write_failed(
            out_data / s / "failed.list",
            [(r.source, r.reason) for r in bad if (r.split or "train") == s],
        )
        problems = validate_data_dir(out_data / s)
        if problems:
            raise InputError(None, "; ".join(problems))
        counts[s] = len(records)
    counts["failed"] = len(bad)
    return counts
