"""Train/valid/test assignment per category.

- ``paper``: VarietySound's split, 32 valid and 32 test clips per category, the rest train;
  chosen by a seeded permutation of the sorted ids, so it is the same on every machine.
- ``regnet``: REGNET's list split: clips sorted by the numbers in their names, the last
  ``test_size`` (REGNET used 128 or 64) are test, the ``valid_size`` before them valid.
- ``manifest``: the split each item carries (a manifest column or a generated corpus).
- ``auto``: ``manifest`` when every item carries a split, else ``paper``.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vs_plugin.errors import ConfigError, InputError

MODES = ("auto", "paper", "regnet", "manifest")


@dataclass(frozen=True)
class SplitItem:
    utt: str
    category: str
    name: str  # the source file's stem (for numeric ordering)
    split: str | None = None


def _numeric_key(item: SplitItem) -> tuple:
    numbers = tuple(int(x) for x in re.findall(r"\d+", item.name))
    return (numbers, item.name, item.utt)


def _check_sizes(category: str, n: int, valid: int, test: int) -> None:
    if n < valid + test + 1:
        raise ConfigError(
            f"category {category!r} has {n} usable clips, too few for {valid} valid + {test} "
            f"test + at least 1 train; pass smaller --valid-size/--test-size"
        )


def assign_splits(
    items: Sequence[SplitItem],
    mode: str = "auto",
    *,
    valid_size: int = 32,
    test_size: int = 32,
    seed: int = 0,
) -> dict[str, str]:
    """utt -> train/valid/test."""
    if mode not in MODES:
        raise ConfigError(f"split mode must be one of {MODES}, not {mode!r}")
    if mode == "auto":
        mode = "manifest" if items and all(i.split for i in items) else "paper"
    if mode == "manifest":
        missing = [i.utt for i in items if not i.split]
        if missing:
            raise InputError(
                None,
                f"split 'manifest': {len(missing)} clips have no split, e.g. {missing[0]}"
            )
        return {i.utt: str(i.split) for i in items}
    by_cat: dict[str, list[SplitItem]] = {}
    for i in items:
        by_cat.setdefault(i.category, []).append(i)
    out: dict[str, str] = {}
    for cat, members in sorted(by_cat.items()):
        _check_sizes(cat, len(members), valid_size, test_size)
        if mode == "paper":
            ordered = sorted(members, key=lambda i: i.utt)
            rng = np.random.default_rng([seed, zlib.crc32(cat.encode())])
            ordered = [ordered[k] for k in rng.permutation(len(ordered))]
            valid, test = ordered[:valid_size], ordered[valid_size : valid_size + test_size]
        else:
            ordered = sorted(members, key=_numeric_key)
            n = len(ordered)
            test = ordered[n - test_size :] if test_size else []
            valid = ordered[n - test_size - valid_size : n - test_size] if valid_size else []
        for i in members:
            out[i.utt] = "train"
        out.update({i.utt: "valid" for i in valid})
        out.update({i.utt: "test" for i in test})
    return out
