"""The MCD ablation table: our numbers per variant beside the paper's, readings stated."""

from __future__ import annotations

import pytest

from vs_plugin.scoring.ablation import VARIANTS, ablation_markdown


def _rows(base: float) -> list[dict[str, object]]:
    return [
        {"utt": f"{c}_{i}", "category": c, "mcd": base + (0.1 if c == "dog" else 0.3) * i}
        for c in ("dog", "drum")
        for i in range(3)
    ]


def test_every_variant_row_with_paper_numbers_and_its_reading():
    md = ablation_markdown({v.key: _rows(4.0 + i) for i, v in enumerate(VARIANTS)})
    lines = [ln for ln in md.splitlines() if ln.startswith("| ")]
    assert lines[0].split(" | ")[2:5] == ["dog", "drum", "**Average**"]
    body = lines[1:]
    assert [ln.split(" | ")[0][2:] for ln in body] == [v.label for v in VARIANTS]
    proposed = body[0].split(" | ")
    assert proposed[2].startswith("4.10") and proposed[3].startswith("4.30")  # category means
    assert proposed[4].startswith("4.20")  # overall mean
    assert "4.14 (±0.07)" in body[0] and "3.60 (±0.07)" in body[1]
    assert "4.25 (±0.08)" in body[6] and "4.43 (±0.08)" in body[7]
    assert "at inference (reading 1)" in body[1] and "retrained" in body[5]
    assert "not reported" in body[5]


def test_only_given_variants_and_unknown_keys_refused():
    md = ablation_markdown({"proposed": _rows(4.0), "no_timbre": _rows(5.0)})
    assert "w/o Ti" in md and "w/o TDAD" not in md
    with pytest.raises(KeyError, match="unknown ablation variants"):
        ablation_markdown({"nope": _rows(1.0)})
