"""Which reference clip conditions which video: the reference policies of stage 3.

- ``same``: the clip's own audio (reconstruction).
- ``shuffled``: a random other clip of the same category (the paper's evaluation).
- ``cross``: a random clip of another category.
- ``pairs``: an explicit list of ``video_utt reference_utt`` lines.
- ``timbre_5x3``: the paper's timbre-similarity design (Appendix D): per category, 5 random
  reference clips, each with 3 random other clips of the category as videos: exactly 15
  pairs per category, ids ``<video>__<reference>``.

Draws come from one seeded generator walked in sorted utterance order, so a seed always
gives the same pairs.

This module is the one reader and writer of an inference folder's ``pairs.tsv``
(:func:`pairs_tsv_path`, :func:`write_pairs_tsv`, :func:`read_pairs_tsv`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vs_plugin.errors import ConfigError, InputError

POLICIES = ("same", "shuffled", "cross", "pairs", "timbre_5x3")
PAIRS_TSV = "pairs.tsv"
TIMBRE_REFERENCES, TIMBRE_VIDEOS = 5, 3  # the paper's "5 references x 3 videos"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pair:
    utt: str  # output id
    video: str  # utterance whose video features drive the timing
    reference: str  # utterance whose audio gives the timbre


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def make_pairs(
    utt2category: dict[str, str],
    policy: str,
    *,
    seed: int = 0,
    pairs_file: str | Path | None = None,
) -> list[Pair]:
    """The (video, reference) pairs of ``policy`` over the utterances of one set."""
    if policy not in POLICIES:
        raise ConfigError(f"unknown reference policy {policy!r}; policies: {', '.join(POLICIES)}")
    if policy == "pairs":
        if pairs_file is None:
            raise ConfigError("policy 'pairs' needs a pairs file")
        return read_pairs(pairs_file, utt2category)
    if policy == "timbre_5x3":
        return references_by_videos(utt2category, TIMBRE_REFERENCES, TIMBRE_VIDEOS, seed=seed)
    utts = sorted(utt2category)
    by_cat: dict[str, list[str]] = {}
    for u in utts:
        by_cat.setdefault(utt2category[u], []).append(u)
    rng = np.random.default_rng(seed)
    out = []
    for u in utts:
        cat = utt2category[u]
        if policy == "same":
            ref = u
        elif policy == "shuffled":
            others = [o for o in by_cat[cat] if o != u]
            if not others:
                log.warning("%s: the only clip of category %r; it is its own reference", u, cat)
                others = [u]
            ref = _pick(rng, others)
        else:
            others = [o for o in utts if utt2category[o] != cat]
            if not others:
                raise InputError(None, "policy 'cross' needs at least two categories in the set")
            ref = _pick(rng, others)
        out.append(Pair(u, u, ref))
    return out


def references_by_videos(
    utt2category: dict[str, str], n_references: int, n_videos: int, *, seed: int = 0
) -> list[Pair]:
    """Per category, ``n_references`` random references x ``n_videos`` random other videos.

    Each reference gets its own draw of distinct videos (never itself), as in the paper's
    timbre test (Appendix D). Output ids are ``<video>__<reference>``. Raises ValueError
    naming the category when it has fewer than ``max(n_references, n_videos + 1)`` clips.
    """
    by_cat: dict[str, list[str]] = {}
    for u in sorted(utt2category):
        by_cat.setdefault(utt2category[u], []).append(u)
    rng = np.random.default_rng(seed)
    out = []
    for cat in sorted(by_cat):
        utts = by_cat[cat]
        need = max(n_references, n_videos + 1)
        if len(utts) < need:
            raise InputError(
                None,
                f"category {cat!r} has {len(utts)} clips; {n_references} references x "
                f"{n_videos} other videos need at least {need}"
            )
        refs = rng.choice(len(utts), size=n_references, replace=False)
        for r in sorted(int(i) for i in refs):
            others = [u for u in utts if u != utts[r]]
            picks = rng.choice(len(others), size=n_videos, replace=False)
            for v in sorted(int(i) for i in picks):
                out.append(Pair(f"{others[v]}__{utts[r]}", others[v], utts[r]))
    return out


def read_pairs(path: str | Path, utt2category: dict[str, str]) -> list[Pair]:
    """``video_utt reference_utt`` per line (``#`` comments); ids must be in the set.

    Output ids are ``<video>__<reference>`` unless a video appears only once.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "pairs file not found")
    raw: list[tuple[str, str]] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 2:
            raise InputError(path, f"line {lineno}: expected 'video_utt reference_utt'")
        for utt in fields:
            if utt not in utt2category:
                raise InputError(path, f"line {lineno}: unknown utterance {utt!r}")
        raw.append((fields[0], fields[1]))
    if not raw:
        raise InputError(path, "no pairs")
    counts: dict[str, int] = {}
    for v, _ in raw:
        counts[v] = counts.get(v, 0) + 1
    out, seen = [], set()
    for v, r in raw:
        utt = v if counts[v] == 1 else f"{v}__{r}"
        if utt in seen:
            raise InputError(path, f"pair {v} {r} is listed twice")
        seen.add(utt)
        out.append(Pair(utt, v, r))
    return out


def pairs_tsv_path(folder: str | Path) -> Path:
    """The ``pairs.tsv`` of an inference folder (``exp/<tag>/infer_<set>_<policy>``)."""
    return Path(folder) / PAIRS_TSV


def write_pairs_tsv(path: str | Path, pairs: list[Pair]) -> None:
    """``utt<TAB>video_utt<TAB>reference_utt`` lines, sorted by utt (atomic)."""
    from vs_plugin.utils.files import write_text_atomic

    lines = [f"{p.utt}\t{p.video}\t{p.reference}\n" for p in sorted(pairs, key=lambda p: p.utt)]
    write_text_atomic(path, "".join(lines))


def read_pairs_tsv(path: str | Path) -> dict[str, Pair]:
    """The pairs of :func:`write_pairs_tsv`, by utt; InputError naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    out = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3 or not all(parts):
            raise InputError(path, f"line {lineno}: expected utt<TAB>video_utt<TAB>reference_utt")
        if parts[0] in out:
            raise InputError(path, f"line {lineno}: utterance {parts[0]!r} is listed twice")
        out[parts[0]] = Pair(*parts)
    return out
