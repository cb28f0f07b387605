"""What the built-in generated corpora (``vas_synth``, ``real_sfx``) share: the plan of their
clips, the check that a root holds clips made with the same settings, and the writer of the
missing clips.

A generated corpus lays out ``<root>/<category>/videos/<split>_<index>.<ext>`` with the
clip's ground-truth JSON beside it (written last: its presence marks a finished clip) and a
settings record in ``<root>``; rerunning writes only what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tqdm import tqdm

from vs_plugin.errors import InputError
from vs_plugin.interfaces import CorpusItem
from vs_plugin.utils.files import write_text_atomic


def plan_clips(
    categories: Iterable[str],
    counts: Mapping[str, int],
    path_of: Callable[[str, str, int], Path],
) -> list[CorpusItem]:
    """Every clip of ``counts[split]`` per category and split, sorted by utterance id."""
    # the clip names are the synthetic corpus's (imported here: that package imports this one)
    from vs_plugin.data.synth.clips import clip_utt
    from vs_plugin.data.synth.config import SPLITS

    out = [
        CorpusItem(clip_utt(c, s, i), path_of(c, s, i), c, s)
        for c in categories
        for s in SPLITS
        for i in range(counts[s])
    ]
    return sorted(out, key=lambda it: it.utt)


def clip_index(item: CorpusItem) -> int:
    """The index of a planned clip (its file name is ``<split>_<index>``)."""
    return int(item.path.stem.rsplit("_", 1)[1])


def is_done(item: CorpusItem) -> bool:
    """Whether a clip is finished: its media and (written last) its ground-truth JSON."""
    return item.path.exists() and item.path.with_suffix(".json").exists()


def check_same_settings(record: Path, old: Mapping, new: Mapping) -> None:
    """InputError naming ``record`` and the differing fields when ``old != new``."""
    if old != new:
        diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        raise InputError(
            record,
            f"corpus was generated with different settings ({', '.join(diff)}); "
            "use another root or delete it",
        )


def write_missing(
    root: Path,
    plan: list[CorpusItem],
    todo: list[tuple[str, dict]],
    write_job: Callable[[tuple[str, dict]], object],
    jobs: int,
    desc: str,
) -> list[CorpusItem]:
    """Write the ``(path, meta)`` jobs (a progress bar; ``jobs`` > 1: that many processes),
    then mark the root finished (``.done``) and return ``plan``."""
    if todo:
        bar = tqdm(total=len(todo), desc=desc, unit="clip", disable=None)
        if jobs > 1:
            with ProcessPoolExecutor(jobs) as pool:
                for _ in pool.map(write_job, todo):
                    bar.update()
        else:
            for job in todo:
                write_job(job)
                bar.update()
        bar.close()
    write_text_atomic(root / ".done", f"{len(plan)} clips\n")
    return plan
