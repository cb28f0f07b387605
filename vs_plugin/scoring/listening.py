"""Listening-test kits as in the paper's Appendix D, and MOS from the collected ratings.

Per category, with a fixed seed:
- realism: 10 test clips whose video-audio pairing was broken by swapping, generated, mixed
  with the same clips' ground truth (the vocoded ground-truth mel, so the vocoder is not
  judged);
- temporal alignment: the same selection as videos, the audio muxed in with ffmpeg;
- timbre similarity: 5 references x 3 videos = 15 generated clips, each with its reference.
Stimulus files get random names; ``items.csv`` is what raters see, ``key.csv`` (private)
says what each item is. Counts shrink, with a note in ``manifest.json``, when a category has
fewer clips or pairs than the design asks for.
"""

from __future__ import annotations

import csv
import io
import json
import math
import platform
import random
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import ffmpeg
from tqdm import tqdm

from vs_plugin.data.kaldi_dir import SOUND, VIDEO_SCP, read_data_dir
from vs_plugin.errors import InputError
from vs_plugin.interfaces import ScoringItem
from vs_plugin.io.ffmpeg_io import probe, run, sink, source
from vs_plugin.scoring.items import build_items
from vs_plugin.scoring.listening_pages import write_pages
from vs_plugin.scoring.stats import AVERAGE, MeanCI, mean_ci
from vs_plugin.utils.files import atomic_path, write_text_atomic

GROUND_TRUTH = "ground_truth"
TESTS = ("realism", "alignment", "timbre")
ITEM_PREFIX = {"realism": "R", "alignment": "A", "timbre": "T"}
KEY_COLUMNS = [
    "item_id",
    "test",
    "system",
    "category",
    "stimulus",
    "source_utt",
    "video_utt",
    "reference_utt",
    "reference_stimulus",
]

RUBRICS = {
    "realism": (
        "Audio realism (Table 4 of the paper). Listen to the clip and rate how real its sound is.",
        [
            "Completely real sound.",
            "Mostly real sound.",
            "Equally real and unreal sound.",
            "Mostly unreal sound.",
            "Completely unreal sound.",
        ],
    ),
    "alignment": (
        "Temporal alignment (Table 5). Watch the video with its sound and rate how well the "
        "events in the audio line up with the events in the video.",
        [
            "Events in video and events in audio occur simultaneously.",
            "Slight misalignment between events in video and events in audio.",
            "Exist misalignment in some positions.",
            "Exist misalignment in most of the positions.",
            "Completely misalignment, no events in audio can match the video.",
        ],
    ),
    "timbre": (
        "Timbre similarity (Table 6). Listen to the reference clip, then to the test clip, and "
        "rate how similar the test clip's timbre is to the reference's (the target).",
        [
            "Timbre is exactly the same as target.",
            "Timbre has high similarity with the target but not same.",
            "Timbre has similarity with the target, but there are obvious differences.",
            "Timbre has a large gap with the target, but share the same category of the sound.",
            "Timbre is completely different to the target.",
        ],
    ),
}


@dataclass
class KitConfig:
    seed: int = 0
    realism_clips: int = 10  # per category: generated clips (plus as many ground truths)
    timbre_references: int = 5  # per category
    timbre_videos: int = 3  # per reference
    base_url: str = ""  # prefix for stimulus paths in items.csv (crowdsourcing host)


@dataclass
class _Stimulus:
    test: str
    system: str
    category: str
    audio: Path
    source_utt: str
    video_utt: str
    reference_utt: str
    reference_audio: Path | None = None
    fields: dict[str, str] = field(default_factory=dict)


def _candidates(items: Sequence[ScoringItem]) -> dict[str, list[ScoringItem]]:
    """Per category, generated clips of swapped pairs (one per video clip)."""
    out: dict[str, dict[str, ScoringItem]] = defaultdict(dict)
    for it in items:
        if it.extra.get("cross"):
            out[it.category].setdefault(it.extra["video_utt"], it)
    return {c: [v[k] for k in sorted(v)] for c, v in out.items()}


def _by_pair(items: Sequence[ScoringItem]) -> dict[tuple[str, str], ScoringItem]:
    return {(it.extra["video_utt"], it.extra["reference_utt"]): it for it in items}


def _select_timbre(
    items: Sequence[ScoringItem], n_refs: int, n_videos: int, rng: random.Random
) -> list[ScoringItem]:
    by_ref: dict[str, dict[str, ScoringItem]] = defaultdict(dict)
    for it in items:
        if it.extra.get("cross"):
            by_ref[it.extra["reference_utt"]].setdefault(it.extra["video_utt"], it)
    refs = sorted(by_ref)
    rng.shuffle(refs)
    refs.sort(key=lambda r: -min(len(by_ref[r]), n_videos))  # full sets of videos first
    chosen = []
    for ref in refs[:n_refs]:
        videos = sorted(by_ref[ref])
        chosen += [by_ref[ref][v] for v in rng.sample(videos, min(n_videos, len(videos)))]
    return chosen


def mux(video: Path, audio: Path, out: Path) -> None:
    """Video stream of ``video`` + audio of ``audio`` -> ``out`` (mp4, metadata stripped).

    Raises InputError naming the bad input: when ffmpeg fails, each input is probed to find
    it (inputs are not probed beforehand, which would cost two ffprobe runs per stimulus).
    """
    try:
        _mux(video, audio, out)
    except InputError:
        probe(video), probe(audio)  # an error names the bad input, not the kit's file
        raise


def _mux(video: Path, audio: Path, out: Path) -> None:
    with atomic_path(out, suffix=".mp4") as tmp:
        stream = ffmpeg.output(
            source(video).video,
            source(audio).audio,
            sink(tmp),
            vcodec="copy",
            acodec="aac",
            audio_bitrate="192k",
            shortest=None,
            map_metadata=-1,
            movflags="+faststart",
        )
        run(stream, blame=video, what=f"could not mux {audio}")


def _mux_all(muxes: Sequence[tuple[Path, Path, Path]], jobs: int) -> None:
    """Run :func:`mux` on every ``(video, audio, out)``, ``jobs`` at a time, with a progress
    bar; the first failure is raised once the running ones have finished."""
    with (
        ThreadPoolExecutor(max(1, jobs)) as pool,
        tqdm(total=len(muxes), desc="kit: alignment videos", unit="video", leave=False) as bar,
    ):
        futures = [pool.submit(mux, *job) for job in muxes]
        try:
            for future in as_completed(futures):
                future.result()
                bar.update()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _copy(src: Path, dst: Path) -> None:
    if not Path(src).exists():
        raise InputError(src, "file not found")
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


def _versions() -> dict[str, str]:
    import numpy

    import vs_plugin

    try:
        ff = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=False)
        ffv = ff.stdout.splitlines()[0] if ff.stdout else "unknown"
    except OSError:
        ffv = "unavailable"
    return {
        "vs_plugin": vs_plugin.__version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "ffmpeg": ffv,
    }


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Mapping[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())


def instructions_markdown(cfg: KitConfig) -> str:
    lines = [
        "# Listening test instructions",
        "",
        "Use headphones in a quiet room. Rate every item on a 5-point scale using the "
        "descriptions below. Items are shuffled; judge each on its own.",
        "",
    ]
    for test in TESTS:
        intro, meanings = RUBRICS[test]
        lines += [f"## {test.capitalize()}", "", intro, "", "| Score | Meaning |", "|---|---|"]
        lines += [f"| {5 - i} | {m} |" for i, m in enumerate(meanings)]
        lines.append("")
    lines += [
        "## Design (for the experimenter)",
        "",
        f"Per category: {cfg.realism_clips} generated clips of swapped video-audio pairs "
        f"mixed with the same clips' vocoded ground truth (realism; the same as videos for "
        f"alignment), and {cfg.timbre_references} references x {cfg.timbre_videos} videos "
        "for timbre, following Appendix D of the paper. See manifest.json for the counts "
        "actually used.",
        "",
        "## Running it (for the experimenter)",
        "",
        "- In a lab: copy this folder to each listening computer and open `index.html` in a "
        "browser (no server needed). Each listener enters an id, rates every clip (order "
        "shuffled per listener), and the page saves `ratings_<id>.csv`. Collect the files and "
        "run `vs-listening-kit aggregate ratings_*.csv --key key.csv`.",
        "- On Amazon Mechanical Turk: host `stimuli/` at the kit's `--base-url`, paste "
        "`mturk/hit.html` into a custom project's layout, publish `mturk/input.csv` as the "
        "batch, and aggregate the downloaded results CSV the same way.",
        "",
    ]
    return "\n".join(lines)


def build_kit(
    out_dir: str | Path,
    infer_dir: str | Path,
    gt_dir: str | Path,
    data_dir: str | Path,
    cfg: KitConfig | None = None,
    *,
    timbre_infer_dir: str | Path | None = None,
    compare: Mapping[str, str | Path | Sequence[str | Path]] | None = None,
    jobs: int = 1,
) -> dict:
    """Write stimuli/, items.csv, key.csv, instructions.md, manifest.json, the local test page
    index.html and the MTurk HIT (mturk/hit.html, mturk/input.csv); return the manifest.

    ``jobs`` ffmpeg processes mux the alignment test's videos side by side; the kit is the
    same for any ``jobs``. Raises InputError naming a missing or unreadable input.
    """
    cfg = cfg or KitConfig()
    out_dir = Path(out_dir)
    data = read_data_dir(data_dir, required=SOUND)
    ours = build_items(infer_dir, data, gt_dir)
    timbre_items = build_items(timbre_infer_dir, data, gt_dir) if timbre_infer_dir else ours
    others: dict[str, dict[tuple[str, str], ScoringItem]] = {}
    for name, dirs in (compare or {}).items():  # one dir, or several (e.g. shuffled + 5x3)
        for d in [dirs] if isinstance(dirs, (str, Path)) else dirs:
            others.setdefault(name, {}).update(_by_pair(build_items(d, data, gt_dir)))
    systems = ["ours", *others]
    cands = _candidates(ours)
    timbre_by_cat: dict[str, list[ScoringItem]] = defaultdict(list)
    for it in timbre_items:
        timbre_by_cat[it.category].append(it)
    categories = sorted(set(data.category[v] for v in data.category))
    stimuli: list[_Stimulus] = []
    counts: dict[str, dict] = {}
    notes: list[str] = []
    for cat in categories:
        rng = random.Random(f"{cfg.seed}:{cat}")
        pool = [it for it in cands.get(cat, []) if it.target is not None]
        chosen = rng.sample(pool, min(cfg.realism_clips, len(pool)))
        chosen.sort(key=lambda it: it.utt)
        timbre = _select_timbre(
            timbre_by_cat.get(cat, []), cfg.timbre_references, cfg.timbre_videos, rng
        )
        n_refs = len({it.extra["reference_utt"] for it in timbre})
        counts[cat] = {
            "realism": {
                "requested_generated": cfg.realism_clips,
                "generated": len(chosen),
                "ground_truth": len(chosen),
            },
            "alignment": {
                "requested_generated": cfg.realism_clips,
                "generated": len(chosen),
                "ground_truth": len(chosen),
            },
            "timbre": {
                "requested": cfg.timbre_references * cfg.timbre_videos,
                "generated": len(timbre),
                "references": n_refs,
            },
        }
        if len(chosen) < cfg.realism_clips:
            notes.append(
                f"{cat}: only {len(chosen)} swapped test clips with ground truth "
                f"(wanted {cfg.realism_clips}); realism/alignment use {len(chosen)}"
            )
        if len(timbre) < cfg.timbre_references * cfg.timbre_videos:
            notes.append(
                f"{cat}: timbre test has {len(timbre)} pairs from {n_refs} references "
                f"(wanted {cfg.timbre_references} x {cfg.timbre_videos})"
            )
        for it in chosen:
            video, ref = it.extra["video_utt"], it.extra["reference_utt"]
            sources = [("ours", it.generated, it.utt), (GROUND_TRUTH, it.target, video)]
            for name, table in others.items():
                if (video, ref) in table:
                    sources.append((name, table[(video, ref)].generated, table[(video, ref)].utt))
                else:
                    notes.append(f"{cat}: system {name} has no output for pair {video}/{ref}")
            for test in ("realism", "alignment"):
                if test == "alignment" and video not in data.video:
                    raise InputError(data.file(VIDEO_SCP), f"{video}: no video")
                for system, audio, src in sources:
                    stimuli.append(_Stimulus(test, system, cat, Path(audio), src, video, ref))
        for it in timbre:
            video, ref = it.extra["video_utt"], it.extra["reference_utt"]
            sources = [("ours", it.generated, it.utt)]
            sources += [
                (n, t[(video, ref)].generated, t[(video, ref)].utt)
                for n, t in others.items()
                if (video, ref) in t
            ]
            for system, audio, src in sources:
                stimuli.append(
                    _Stimulus(
                        "timbre",
                        system,
                        cat,
                        Path(audio),
                        src,
                        video,
                        ref,
                        reference_audio=it.reference,
                    )
                )
    # anonymous names: random tokens, independent of system, category and source
    namer = random.Random(f"{cfg.seed}:names")
    used: set[str] = set()

    def token() -> str:
        while (t := f"{namer.getrandbits(64):016x}") in used:
            pass
        used.add(t)
        return t

    stim_dir = out_dir / "stimuli"
    ref_names: dict[Path, str] = {}
    order = random.Random(f"{cfg.seed}:order")
    by_test: dict[str, list[_Stimulus]] = defaultdict(list)
    for s in stimuli:
        by_test[s.test].append(s)
    item_rows, key_rows = [], []
    muxes: list[tuple[Path, Path, Path]] = []  # (video, audio, out), run after the loop
    for test in TESTS:
        group = by_test.get(test, [])
        order.shuffle(group)
        for i, s in enumerate(group, 1):
            item_id = f"{ITEM_PREFIX[test]}{i:04d}"
            ext = ".mp4" if test == "alignment" else ".wav"
            name = f"stimuli/{token()}{ext}"
            if test == "alignment":
                if not Path(s.audio).exists():
                    raise InputError(s.audio, "file not found")
                muxes.append((Path(data.video[s.video_utt]), Path(s.audio), out_dir / name))
            else:
                _copy(s.audio, out_dir / name)
            ref_name = ""
            if s.reference_audio is not None:
                if s.reference_audio not in ref_names:
                    ref_names[s.reference_audio] = f"stimuli/{token()}.wav"
                    _copy(s.reference_audio, out_dir / ref_names[s.reference_audio])
                ref_name = ref_names[s.reference_audio]
            url = cfg.base_url
            item_rows.append(
                {
                    "item_id": item_id,
                    "test": test,
                    "stimulus": url + name,
                    "reference": url + ref_name if ref_name else "",
                }
            )
            key_rows.append(
                {
                    "item_id": item_id,
                    "test": test,
                    "system": s.system,
                    "category": s.category,
                    "stimulus": name,
                    "source_utt": s.source_utt,
                    "video_utt": s.video_utt,
                    "reference_utt": s.reference_utt,
                    "reference_stimulus": ref_name,
                }
            )
    _mux_all(muxes, jobs)
    stim_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(out_dir / "items.csv", ["item_id", "test", "stimulus", "reference"], item_rows)
    _write_csv(out_dir / "key.csv", KEY_COLUMNS, key_rows)
    write_text_atomic(out_dir / "instructions.md", instructions_markdown(cfg))
    local = [
        {**row, "stimulus": key["stimulus"], "reference": key["reference_stimulus"]}
        for row, key in zip(item_rows, key_rows, strict=True)
    ]
    write_pages(out_dir, local, item_rows, RUBRICS, TESTS)
    manifest = {
        "seed": cfg.seed,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "design": {
            "realism_clips": cfg.realism_clips,
            "timbre_references": cfg.timbre_references,
            "timbre_videos": cfg.timbre_videos,
            "ground_truth": "vocoded ground-truth mel",
        },
        "sources": {
            "infer": str(infer_dir),
            "gt": str(gt_dir),
            "data": str(data_dir),
            "timbre_infer": str(timbre_infer_dir or infer_dir),
            "compare": {k: str(v) for k, v in (compare or {}).items()},
        },
        "systems": [*systems, GROUND_TRUTH],
        "counts": counts,
        "items": {t: len(by_test.get(t, [])) for t in TESTS},
        "notes": notes,
        "versions": _versions(),
    }
    write_text_atomic(out_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


# -- aggregation --------------------------------------------------------------------------------
def read_key(path: str | Path) -> dict[str, dict[str, str]]:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"item_id", "test", "system", "category"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(path, f"missing column(s) {sorted(missing)}")
        return {row["item_id"]: row for row in reader}


ITEM_COLUMNS = ("item_id", "Input.item_id")  # the local page and the kit's CSV; MTurk results
RATING_COLUMNS = ("rating", "Answer.rating")


def _column(path: Path, fields: Sequence[str], wanted: str | None, known: Sequence[str]) -> str:
    """The column to read: ``wanted``, or the first of ``known`` that the file has."""
    for col in [wanted] if wanted else known:
        if col in fields:
            return col
    raise InputError(
        path, f"no {wanted or ' or '.join(map(repr, known))} column (columns: {list(fields)})"
    )


def read_ratings(
    path: str | Path,
    key: Mapping[str, Mapping[str, str]],
    *,
    item_col: str | None = None,
    rating_col: str | None = None,
) -> list[tuple[str, float]]:
    """(item_id, rating) per row; one-line errors name the file and row for bad ones.

    Columns default to the first present of ``item_id`` / ``Input.item_id`` and ``rating`` /
    ``Answer.rating``: the local page's CSV, a platform export in the kit's columns, and
    Mechanical Turk's results file all read without options.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        item_col = _column(path, fields, item_col, ITEM_COLUMNS)
        rating_col = _column(path, fields, rating_col, RATING_COLUMNS)
        for row in reader:
            n = reader.line_num
            item, raw = (row[item_col] or "").strip(), (row[rating_col] or "").strip()
            if item not in key:
                raise InputError(path, f"row {n}: item {item!r} is not in the key")
            try:
                value = float(raw)
            except ValueError:
                raise InputError(path, f"row {n}: rating {raw!r} is not a number") from None
            if not 1.0 <= value <= 5.0 or math.isnan(value):
                raise InputError(path, f"row {n}: rating {raw} is outside 1-5")
            out.append((item, value))
    if not out:
        raise InputError(path, "no ratings")
    return out


def aggregate(
    ratings: Sequence[tuple[str, float]], key: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, dict[str, MeanCI]]]:
    """test -> system -> category (plus Average) -> MOS with 95 % CI over ratings."""
    groups: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for item, value in ratings:
        row = key[item]
        groups[(row["test"], row["system"], row["category"])].append(value)
        groups[(row["test"], row["system"], AVERAGE)].append(value)
    out: dict[str, dict[str, dict[str, MeanCI]]] = defaultdict(lambda: defaultdict(dict))
    for (test, system, cat), values in sorted(groups.items()):
        out[test][system][cat] = mean_ci(values)
    return out


def mos_tables(mos: Mapping[str, Mapping[str, Mapping[str, MeanCI]]]) -> tuple[str, str]:
    """(TSV, markdown) of MOS per test: a row per category plus the average, like Tables 1-2."""
    tsv = ["test\tsystem\tcategory\tn\tmos\tci95"]
    md = ["# Mean opinion scores (95 % confidence intervals, Student t over ratings)", ""]
    for test in [t for t in TESTS if t in mos] + [t for t in mos if t not in TESTS]:
        systems = sorted(mos[test], key=lambda s: (s != "ours", s == GROUND_TRUTH, s))
        cats = sorted({c for s in systems for c in mos[test][s]} - {AVERAGE}) + [AVERAGE]
        md += [
            f"## {test}",
            "",
            "| Category | " + " | ".join(systems) + " |",
            "|---" * (len(systems) + 1) + "|",
        ]
        for cat in cats:
            cells = [mos[test][s].get(cat, MeanCI(math.nan, math.nan, 0)).format() for s in systems]
            md.append(
                f"| {'**' + cat + '**' if cat == AVERAGE else cat} | " + " | ".join(cells) + " |"
            )
            for s in systems:
                if cat in mos[test][s]:
                    m = mos[test][s][cat]
                    tsv.append(f"{test}\t{s}\t{cat}\t{m.n}\t{m.mean:.6g}\t{m.ci95:.6g}")
        md.append("")
    return "\n".join(tsv) + "\n", "\n".join(md)
