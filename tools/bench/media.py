"""A real clip for the benchmarks: one built-in-corpus video with sound, written by ffmpeg."""

from __future__ import annotations

import tempfile
from pathlib import Path

from vs_plugin.registry import CORPORA


def synth_clips(seconds: float, clips: int, root: Path | None = None) -> list:
    """``clips`` built-in-corpus items of ``seconds`` each (mp4 with sound + JSON truth)."""
    root = root or Path(tempfile.mkdtemp(prefix="vs-bench."))
    per_cat = max(1, -(-clips // 2))
    corpus = CORPORA.build({"name": "vas_synth", "root": str(root / "synth"),
                            "categories": ["drum", "bell"], "n_train": per_cat, "n_valid": 0,
                            "n_test": 0, "duration": seconds, "seed": 3})
    return list(corpus.items())[:clips]
