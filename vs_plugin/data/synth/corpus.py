"""The ``vas_synth`` corpus entry (registered under that name) and its command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from vs_plugin.data.generated import (
    check_same_settings,
    clip_index,
    is_done,
    plan_clips,
    write_missing,
)
from vs_plugin.data.synth.clips import (
    clip_stem,
    events_that_fit,
    make_clip_meta,
    write_job,
)
from vs_plugin.data.synth.config import MIN_GAP, SynthCorpusConfig
from vs_plugin.data.synth.sound import CATEGORY_NAMES, FAMILIES
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.interfaces import Corpus, CorpusItem
from vs_plugin.registry import CORPORA
from vs_plugin.utils.files import write_text_atomic

# -- the corpus ------------------------------------------------------------------------------
_COUNT_FIELDS = ("root", "n_train", "n_valid", "n_test", "jobs", "categories")


def _check_config(cfg: SynthCorpusConfig) -> None:
    unknown = [c for c in cfg.categories if c not in FAMILIES]
    if unknown or not cfg.categories:
        raise ConfigError(
            f"vas_synth: unknown categories {unknown}; known: {', '.join(CATEGORY_NAMES)}"
        )
    if cfg.height % 2 or cfg.width % 2 or min(cfg.height, cfg.width) < 16:
        raise ConfigError("vas_synth: height and width must be even and at least 16 (yuv420p)")
    if not 1 <= cfg.min_events <= cfg.max_events:
        raise ConfigError("vas_synth: need 1 <= min_events <= max_events")
    if events_that_fit(cfg.duration) < cfg.min_events:
        raise ConfigError(
            f"vas_synth: {cfg.min_events} events {MIN_GAP} s apart do not fit in "
            f"{cfg.duration} s clips (lower min_events or raise duration)"
        )
    if cfg.variants_per_family < 1 or cfg.fps <= 0 or cfg.sample_rate < 8000:
        raise ConfigError("vas_synth: variants_per_family >= 1, fps > 0, sample_rate >= 8000")
    if min(cfg.n_train, cfg.n_valid, cfg.n_test) < 0:
        raise ConfigError("vas_synth: clip counts must be >= 0")


@CORPORA.register("vas_synth", config=SynthCorpusConfig)
class SynthCorpus(Corpus):
    """Generated VAS-like clips (events, scenes, timbre families) with exact ground truth."""

    def __init__(self, cfg: SynthCorpusConfig) -> None:
        _check_config(cfg)
        self.cfg = cfg
        self.root = Path(cfg.root).absolute()

    def describe(self) -> str:
        c = self.cfg
        return (
            f"vas_synth at {self.root}: {len(c.categories)} categories x "
            f"({c.n_train}/{c.n_valid}/{c.n_test} train/valid/test), {c.duration} s, seed {c.seed}"
        )

    def video_path(self, category: str, split: str, index: int) -> Path:
        return self.root / category / "videos" / f"{clip_stem(split, index)}.mp4"

    def plan(self) -> list[CorpusItem]:
        """The clips this configuration defines, whether written yet or not."""
        counts = {"train": self.cfg.n_train, "valid": self.cfg.n_valid, "test": self.cfg.n_test}
        return plan_clips(self.cfg.categories, counts, self.video_path)

    def _claim_root(self) -> None:
        """Record the content settings; refuse a root generated with different ones."""
        content = {k: v for k, v in dataclasses.asdict(self.cfg).items() if k not in _COUNT_FIELDS}
        record = self.root / "corpus.json"
        if record.exists():
            try:
                old = json.loads(record.read_text(encoding="utf-8"))
            except ValueError:
                raise InputError(record, "unreadable corpus record (not JSON)") from None
            check_same_settings(record, old, content)
            return
        write_text_atomic(record, json.dumps(content, indent=1, sort_keys=True) + "\n")

    is_done = staticmethod(is_done)

    def items(self) -> list[CorpusItem]:
        """Write the missing clips (nothing already there is redone), then list them all."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._claim_root()
        plan = self.plan()
        todo = [
            (str(it.path), make_clip_meta(self.cfg, it.category, it.split, clip_index(it)))
            for it in plan
            if not is_done(it)
        ]
        return write_missing(self.root, plan, todo, write_job, self.cfg.jobs, "vas_synth")

def load_meta(path: str | Path) -> dict:
    """A clip's ground truth, from its ``.json`` or from the ``.mp4`` beside it."""
    path = Path(path).with_suffix(".json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "ground-truth JSON not found") from None
    except ValueError:
        raise InputError(path, "ground-truth JSON is not valid JSON") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Write the corpus under ``--root``; 2 for a bad option."""
    d = SynthCorpusConfig()
    ap = argparse.ArgumentParser(
        prog="python -m vs_plugin.data.synth",
        description="Write the built-in synthetic corpus (vas_synth) in the VAS layout: "
        "<root>/<category>/videos/<id>.mp4 with <id>.json ground truth beside each clip. "
        "Re-running only writes what is missing.",
    )
    ap.add_argument("--root", required=True, help="output folder")
    ap.add_argument("--categories", nargs="+", default=d.categories, choices=CATEGORY_NAMES)
    ap.add_argument("--n-train", type=int, default=d.n_train, help="train clips per category")
    ap.add_argument("--n-valid", type=int, default=d.n_valid, help="valid clips per category")
    ap.add_argument("--n-test", type=int, default=d.n_test, help="test clips per category")
    ap.add_argument("--duration", type=float, default=d.duration, help="seconds per clip")
    ap.add_argument("--fps", type=float, default=d.fps)
    ap.add_argument("--height", type=int, default=d.height)
    ap.add_argument("--width", type=int, default=d.width)
    ap.add_argument("--min-events", type=int, default=d.min_events)
    ap.add_argument("--max-events", type=int, default=d.max_events)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--jobs", type=int, default=d.jobs, help="parallel writer processes")
    a = ap.parse_args(argv)
    cfg = SynthCorpusConfig(
        root=a.root,
        categories=list(a.categories),
        n_train=a.n_train,
        n_valid=a.n_valid,
        n_test=a.n_test,
        duration=a.duration,
        fps=a.fps,
        height=a.height,
        width=a.width,
        min_events=a.min_events,
        max_events=a.max_events,
        seed=a.seed,
        jobs=a.jobs,
    )
    try:
        corpus = SynthCorpus(cfg)
        items = corpus.items()
    except InputError as exc:  # a bad option (ConfigError) or file; a bug keeps its traceback
        print(f"vas_synth: error: {exc}", file=sys.stderr)
        return 2
    print(f"{corpus.describe()}: {len(items)} clips ready")
    return 0
