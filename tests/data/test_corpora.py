from pathlib import Path

import pytest

from vs_plugin.data.corpora import sanitise
from vs_plugin.errors import InputError
from vs_plugin.registry import CORPORA


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


@pytest.mark.parametrize("layout", ["category_first", "videos_first"])
def test_vas_both_layouts(tmp_path, layout):
    for cat in ("dog", "drum"):
        for i in range(2):
            folder = (
                tmp_path / cat / "videos"
                if layout == "category_first"
                else (tmp_path / "videos" / cat)
            )
            _touch(folder / f"{cat}{i}.mp4")
    _touch(tmp_path / "dog" / "videos" / "notes.txt") if layout == "category_first" else None
    items = CORPORA.build({"name": "vas", "root": str(tmp_path)}).items()
    assert [i.utt for i in items] == ["dog-dog0", "dog-dog1", "drum-drum0", "drum-drum1"]
    assert {i.category for i in items} == {"dog", "drum"}
    only = CORPORA.build({"name": "vas", "root": str(tmp_path), "categories": ["drum"]}).items()
    assert {i.category for i in only} == {"drum"}


def test_vas_missing_categories_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no VAS category folders"):
        CORPORA.build({"name": "vas", "root": str(tmp_path)}).items()


def test_ids_are_ascii_unique_and_sorted(tmp_path):
    _touch(tmp_path / "dog" / "videos" / "a b.mp4")
    _touch(tmp_path / "dog" / "videos" / "a_b.mp4")
    _touch(tmp_path / "dog" / "videos" / "café noël.mp4")
    items = CORPORA.build({"name": "vas", "root": str(tmp_path)}).items()
    utts = [i.utt for i in items]
    assert utts == sorted(utts) and len(set(utts)) == 3
    assert all(u.isascii() and " " not in u for u in utts)
    assert "dog-cafe_noel" in utts and {"dog-a_b", "dog-a_b-2"} <= set(utts)
    assert sanitise("///") == "clip"


def test_folder_corpus(tmp_path):
    _touch(tmp_path / "rain" / "x.mkv")
    _touch(tmp_path / "wind" / "y.mp4")
    items = CORPORA.build({"name": "folder", "root": str(tmp_path)}).items()
    assert [(i.utt, i.category) for i in items] == [("rain-x", "rain"), ("wind-y", "wind")]


@pytest.mark.parametrize("sep,suffix", [(",", ".csv"), ("\t", ".tsv")])
def test_manifest_corpus(tmp_path, sep, suffix):
    _touch(tmp_path / "clips" / "one.mp4")
    manifest = tmp_path / f"list{suffix}"
    manifest.write_text(
        f"path{sep}category{sep}split\nclips/one.mp4{sep}bell{sep}test\n/abs/two.mp4{sep}bell{sep}\n"
    )
    items = CORPORA.build({"name": "manifest", "path": str(manifest)}).items()
    assert [(i.utt, i.split) for i in items] == [("bell-one", "test"), ("bell-two", None)]
    assert items[0].path == tmp_path / "clips" / "one.mp4"


def test_manifest_bad_split_names_the_file(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("a.mp4,bell,dev\n")
    with pytest.raises(InputError, match="m.csv.*split"):
        CORPORA.build({"name": "manifest", "path": str(manifest)}).items()
