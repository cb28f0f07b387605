"""The ``real_sfx`` corpus entry (registered under that name) and its command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vs_plugin.data.generated import (
    check_same_settings,
    clip_index,
    is_done,
    plan_clips,
    write_missing,
)
from vs_plugin.data.real_sfx.clips import FORMATS, clip_ext, make_clip_meta, write_job
from vs_plugin.data.real_sfx.config import (
    CATEGORY_NAMES,
    COUNT_FIELDS,
    RealSFXCorpusConfig,
    check_package,
    deb_dir_of,
    parse_size,
)
from vs_plugin.data.real_sfx.inventory import Inventory, ensure_inventories
from vs_plugin.data.real_sfx.sources import ADAPTERS, category_seed
from vs_plugin.data.synth.clips import clip_stem, events_that_fit
from vs_plugin.data.synth.config import MIN_GAP, SPLITS
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.interfaces import Corpus, CorpusItem
from vs_plugin.registry import CORPORA
from vs_plugin.utils.files import write_text_atomic

log = logging.getLogger("vs_plugin.real_sfx")
RECORD = "corpus.json"


def check_config(cfg: RealSFXCorpusConfig) -> None:
    """ConfigError (one line naming the field) for a setting the corpus cannot use."""
    unknown = [c for c in cfg.categories if c not in CATEGORY_NAMES]
    if unknown or not cfg.categories:
        raise ConfigError(
            f"real_sfx: unknown categories {unknown}; known: {', '.join(CATEGORY_NAMES)}"
        )
    if not cfg.packages:
        raise ConfigError("real_sfx: packages is empty")
    for name in cfg.packages:
        check_package(name)
        if name not in ADAPTERS:
            raise ConfigError(
                f"real_sfx: no adapter for package {name!r}; known: {', '.join(ADAPTERS)}"
            )
    bad = [f for f in cfg.formats if f not in FORMATS]
    if bad or not cfg.formats:
        raise ConfigError(f"real_sfx: unknown formats {bad}; known: {', '.join(FORMATS)}")
    for size in [f"{cfg.width}x{cfg.height}", *cfg.sizes]:
        parse_size(size)
    if min([cfg.fps, *cfg.frame_rates]) <= 0:
        raise ConfigError("real_sfx: fps and frame_rates must be > 0")
    if not 1 <= cfg.min_events <= cfg.max_events:
        raise ConfigError("real_sfx: need 1 <= min_events <= max_events")
    if events_that_fit(cfg.duration) < cfg.min_events:
        raise ConfigError(
            f"real_sfx: {cfg.min_events} events {MIN_GAP} s apart do not fit in "
            f"{cfg.duration} s clips (lower min_events or raise duration)"
        )
    if cfg.sample_rate < 8000 or cfg.shot_seconds <= 0 or cfg.gain_db < 0:
        raise ConfigError("real_sfx: sample_rate >= 8000, shot_seconds > 0, gain_db >= 0")
    if cfg.max_sources < 1 or cfg.max_layers < 1:
        raise ConfigError("real_sfx: max_sources and max_layers must be >= 1")
    if min(cfg.n_train, cfg.n_valid, cfg.n_test) < 0 or cfg.jobs < 1:
        raise ConfigError("real_sfx: clip counts must be >= 0 and jobs >= 1")


def source_pools(cfg: RealSFXCorpusConfig, inventories: dict[str, Inventory]) -> dict:
    """Per category, the sources its clips use: the whole source list, or its first
    ``n_train`` when there are fewer train clips than sources (every source of a pool is
    heard in train, so valid and test clips only use sources known from training)."""
    return {
        c: inv[: cfg.n_train] if 0 < cfg.n_train < len(inv) else inv
        for c, inv in inventories.items()
    }


def assign_source(
    cfg: RealSFXCorpusConfig, pool: Inventory, category: str, split: str, index: int
) -> dict:
    """The source of clip ``index``: a seeded permutation of the pool, cycled per split
    (``n_train >= len(pool)`` puts every source in train)."""
    rng = np.random.default_rng([cfg.seed, category_seed(category), SPLITS.index(split), 5])
    perm = rng.permutation(len(pool))
    return pool[int(perm[index % len(pool)])]


@CORPORA.register("real_sfx", config=RealSFXCorpusConfig)
class RealSFXCorpus(Corpus):
    """Real recorded drum sounds (Debian's hydrogen-drumkits) under synthetic pictures."""

    def __init__(self, cfg: RealSFXCorpusConfig) -> None:
        check_config(cfg)
        self.cfg = cfg
        self.root = Path(cfg.root).absolute()

    def describe(self) -> str:
        c = self.cfg
        return (
            f"real_sfx at {self.root}: {len(c.categories)} categories x "
            f"({c.n_train}/{c.n_valid}/{c.n_test} train/valid/test), {c.duration} s, "
            f"sounds from {', '.join(c.packages)}, seed {c.seed}"
        )

    def video_path(self, category: str, split: str, index: int) -> Path:
        ext = clip_ext(self.cfg, category, split, index)
        return self.root / category / "videos" / f"{clip_stem(split, index)}{ext}"

    def plan(self) -> list[CorpusItem]:
        """The clips this configuration defines, whether written yet or not."""
        counts = {"train": self.cfg.n_train, "valid": self.cfg.n_valid, "test": self.cfg.n_test}
        return plan_clips(self.cfg.categories, counts, self.video_path)

    # -- the root's record ---------------------------------------------------------------
    def _content(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self.cfg).items() if k not in COUNT_FIELDS}

    def _read_record(self) -> dict | None:
        path = self.root / RECORD
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            raise InputError(path, "unreadable corpus record (not JSON)") from None
        if not isinstance(record, dict) or not isinstance(record.get("settings"), dict):
            raise InputError(path, "not a real_sfx corpus record; use another root")
        return record

    def _claim_settings(self) -> dict:
        """Record the content settings; refuse a root generated with different ones."""
        content, record = self._content(), self._read_record()
        if record is None:
            record = {"settings": content, "sources": {}}
            write_text_atomic(self.root / RECORD, json.dumps(record, indent=1) + "\n")
            return record
        check_same_settings(self.root / RECORD, record["settings"], content)
        return record

    def _claim_pools(self, record: dict, pools: dict[str, Inventory]) -> None:
        """Record each category's pool; refuse one that differs from the recorded one."""
        known = dict(record.get("sources") or {})
        for category, pool in pools.items():
            ids = [s["id"] for s in pool]
            old = known.get(category)
            if old is not None and old != ids:
                raise InputError(
                    self.root / RECORD,
                    f"{category} clips were made from {len(old)} sources, these settings give "
                    f"{len(ids)} (n_train below the number of sources limits them); use the "
                    "same n_train, another root, or delete it",
                )
            known[category] = ids
        if known != record.get("sources"):
            record["sources"] = dict(sorted(known.items()))
            write_text_atomic(self.root / RECORD, json.dumps(record, indent=1) + "\n")

    is_done = staticmethod(is_done)

    def items(self) -> list[CorpusItem]:
        """Fetch and condition the sounds if needed, write the missing clips, list them all.

        Raises ConfigError when a package cannot be fetched (one line naming it and the fix),
        InputError when the root was made with other settings.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        record = self._claim_settings()
        inventories = ensure_inventories(self.cfg, self.root)
        pools = source_pools(self.cfg, inventories)
        self._claim_pools(record, pools)
        plan = self.plan()
        todo = []
        for it in plan:
            if is_done(it):
                continue
            split, index = it.split or "train", clip_index(it)
            src = assign_source(self.cfg, pools[it.category], it.category, split, index)
            meta = make_clip_meta(self.cfg, self.root, it.category, split, index, src)
            todo.append((str(it.path), meta))
        return write_missing(self.root, plan, todo, write_job, self.cfg.jobs, "real_sfx")

    def sources(self) -> tuple[dict[str, Inventory], dict[str, Inventory]]:
        """(every category's sources, the pool its clips use), building them if needed."""
        inventories = ensure_inventories(self.cfg, self.root)
        return inventories, source_pools(self.cfg, inventories)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the corpus under ``--root``; 2 for a bad option, a failed download or bad file."""
    d = RealSFXCorpusConfig()
    ap = argparse.ArgumentParser(
        prog="python -m vs_plugin.data.real_sfx",
        description="Write the built-in corpus of real recorded sounds (real_sfx) in the VAS "
        "layout: <root>/<category>/videos/<id>.<ext> with <id>.json ground truth beside "
        "each clip. The sounds come from Debian packages (apt-get download, no install); "
        "re-running only writes what is missing.",
    )
    ap.add_argument("--root", required=True, help="output folder")
    ap.add_argument("--categories", nargs="+", default=d.categories, choices=CATEGORY_NAMES)
    ap.add_argument("--packages", nargs="+", default=d.packages, help="Debian packages")
    ap.add_argument("--deb-dir", default=d.deb_dir, help="download cache (default: ROOT/../debs)")
    ap.add_argument("--n-train", type=int, default=d.n_train, help="train clips per category")
    ap.add_argument("--n-valid", type=int, default=d.n_valid, help="valid clips per category")
    ap.add_argument("--n-test", type=int, default=d.n_test, help="test clips per category")
    ap.add_argument("--duration", type=float, default=d.duration, help="seconds per clip")
    ap.add_argument("--fps", type=float, default=d.fps, help="the first of the frame rates")
    ap.add_argument("--height", type=int, default=d.height, help="the first picture height")
    ap.add_argument("--width", type=int, default=d.width, help="the first picture width")
    ap.add_argument("--min-events", type=int, default=d.min_events)
    ap.add_argument("--max-events", type=int, default=d.max_events)
    ap.add_argument("--max-sources", type=int, default=d.max_sources, help="per category")
    ap.add_argument("--formats", nargs="+", default=d.formats, choices=list(FORMATS))
    ap.add_argument("--background-db", type=float, default=d.background_db, help="0: none")
    ap.add_argument("--category-pictures", action="store_true", help="a look per category")
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--jobs", type=int, default=d.jobs, help="parallel writer processes")
    a = ap.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cfg = RealSFXCorpusConfig(
        root=a.root,
        categories=list(a.categories),
        packages=list(a.packages),
        deb_dir=a.deb_dir,
        n_train=a.n_train,
        n_valid=a.n_valid,
        n_test=a.n_test,
        duration=a.duration,
        fps=a.fps,
        height=a.height,
        width=a.width,
        min_events=a.min_events,
        max_events=a.max_events,
        max_sources=a.max_sources,
        formats=list(a.formats),
        background_db=a.background_db,
        category_pictures=a.category_pictures,
        seed=a.seed,
        jobs=a.jobs,
    )
    try:
        corpus = RealSFXCorpus(cfg)
        items = corpus.items()
        inventories, pools = corpus.sources()
    except InputError as exc:  # a bad option (ConfigError), download or file
        print(f"real_sfx: error: {str(exc).removeprefix('real_sfx: ')}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{c} {len(pools[c])}/{len(inv)}" for c, inv in inventories.items())
    print(f"{corpus.describe()}: {len(items)} clips ready")
    print(f"sources per category (used/available): {counts}")
    print(f"sounds cached in {deb_dir_of(cfg)}; provenance in {corpus.root / 'SOURCES.tsv'}")
    return 0
