"""The paper's timbre-test design as a reference policy: 5 references x 3 videos per category."""

from __future__ import annotations

from collections import Counter

import pytest

from vs_plugin.infer.pairing import make_pairs, references_by_videos


def _utt2cat(per_cat: int) -> dict[str, str]:
    return {f"{c}_{i:02d}": c for c in ("dog", "drum", "gun") for i in range(per_cat)}


@pytest.mark.parametrize("per_cat", [5, 6, 12])
def test_exactly_five_references_by_three_videos_per_category(per_cat):
    utt2cat = _utt2cat(per_cat)
    pairs = make_pairs(utt2cat, "timbre_5x3", seed=3)
    assert Counter(utt2cat[p.video] for p in pairs) == {"dog": 15, "drum": 15, "gun": 15}
    for cat in ("dog", "drum", "gun"):
        mine = [p for p in pairs if utt2cat[p.video] == cat]
        per_ref = Counter(p.reference for p in mine)
        assert len(per_ref) == 5 and set(per_ref.values()) == {3}
        assert all(utt2cat[p.reference] == cat and p.video != p.reference for p in mine)
        for ref in per_ref:  # three distinct videos per reference
            assert len({p.video for p in mine if p.reference == ref}) == 3
    assert len({p.utt for p in pairs}) == len(pairs)  # unique output ids
    assert all(p.utt == f"{p.video}__{p.reference}" for p in pairs)


def test_seeded_and_varied():
    utt2cat = _utt2cat(12)
    assert make_pairs(utt2cat, "timbre_5x3", seed=1) == make_pairs(utt2cat, "timbre_5x3", seed=1)
    assert make_pairs(utt2cat, "timbre_5x3", seed=1) != make_pairs(utt2cat, "timbre_5x3", seed=2)


def test_too_small_a_category_is_named():
    with pytest.raises(ValueError, match="'dog' has 4 clips"):
        references_by_videos({f"dog_{i}": "dog" for i in range(4)}, 5, 3)
