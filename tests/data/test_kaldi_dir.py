"""data/<set> tables: written, read back (whole or in part), and bad input named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vs_plugin.data.kaldi_dir import (
    EVENTS,
    SOUND,
    UTT2CATEGORY,
    UTT2META,
    UTT2TIMBRE,
    VIDEO_SCP,
    WAV_SCP,
    Record,
    copy_labels,
    read_data_dir,
    read_table,
    read_wav_scp,
    validate_data_dir,
    write_data_dir,
    write_wav_scp,
)
from vs_plugin.errors import InputError


def _records(root: Path) -> list[Record]:
    out = []
    for i, (utt, cat) in enumerate((("dog-a", "dog"), ("dog-b", "dog"), ("drum-a", "drum"))):
        media = root / "media"
        media.mkdir(parents=True, exist_ok=True)
        video, wav, meta = media / f"{utt}.mp4", media / f"{utt}.wav", media / f"{utt}.json"
        for f in (video, wav):
            f.write_bytes(b"")
        meta.write_text(json.dumps({"utt": utt, "events": [0.5 * i]}), encoding="utf-8")
        out.append(
            Record(utt, cat, video, wav, meta=meta, events=[1.25, 0.5 * i], timbre=f"{cat}/x")
        )
    return out


@pytest.fixture
def data(tmp_path) -> Path:
    return write_data_dir(tmp_path / "data" / "train", _records(tmp_path))


def test_a_written_set_reads_back_whole(data, tmp_path):
    assert validate_data_dir(data) == []
    got = read_data_dir(data)
    assert got.utts == ["dog-a", "dog-b", "drum-a"]
    want = {r.utt: r for r in _records(tmp_path)}
    for utt, rec in got.records.items():
        assert rec.category == want[utt].category and rec.timbre == want[utt].timbre
        assert rec.video == want[utt].video.absolute() and rec.wav == want[utt].wav.absolute()
        assert rec.events == sorted(want[utt].events)  # event times come back sorted
    assert got.category == {"dog-a": "dog", "dog-b": "dog", "drum-a": "drum"}
    assert got.meta_of("dog-b") == {"utt": "dog-b", "events": [0.5]}
    assert got.file(UTT2META) == data / UTT2META
    assert got.record("drum-a") == got.records["drum-a"]
    with pytest.raises(InputError, match=r"video\.scp: nope: not listed"):
        got.record("nope")


def test_missing_folder_or_required_table_is_named(data, tmp_path):
    with pytest.raises(InputError, match="nowhere: data directory not found"):
        read_data_dir(tmp_path / "nowhere")
    (data / VIDEO_SCP).unlink()
    with pytest.raises(InputError, match=r"video\.scp: file not found") as err:
        read_data_dir(data)
    assert err.value.path == data / VIDEO_SCP


def test_a_set_without_videos_is_read_for_its_sound(data):
    (data / VIDEO_SCP).unlink()
    got = read_data_dir(data, required=SOUND)
    assert sorted(got.wav) == ["dog-a", "dog-b", "drum-a"] and got.video == {}
    assert got.utts == [] and got.records == {}  # the set's ids are those of video.scp
    assert got.timbre["drum-a"] == "drum/x" and got.events["dog-b"] == [0.5, 1.25]


def test_only_the_tables_asked_for_are_read(data):
    (data / EVENTS).write_text("dog-a not-a-time\n")  # never parsed below
    got = read_data_dir(data, required=(UTT2CATEGORY,), optional=())
    assert got.category and not got.wav and not got.events and set(got.files) == {UTT2CATEGORY}
    with pytest.raises(ValueError, match="not tables"):
        read_data_dir(data, required=("utt2nothing",))


def test_malformed_tables_are_named(data):
    (data / EVENTS).write_text("dog-a 0.5 soon\n")
    with pytest.raises(InputError, match=r"events: dog-a: event times must be numbers"):
        read_data_dir(data)
    (data / EVENTS).unlink()
    (data / UTT2TIMBRE).write_text("dog-a x\ndog-a y\n")
    with pytest.raises(InputError, match=r"utt2timbre:2: duplicate key 'dog-a'"):
        read_data_dir(data)
    (data / UTT2TIMBRE).write_bytes(b"dog-a \xff\n")
    with pytest.raises(InputError, match="utt2timbre: not UTF-8 text"):
        read_data_dir(data)


def test_missing_tables_come_from_the_fallback(data, tmp_path):
    dump = tmp_path / "dump" / "train"
    dump.mkdir(parents=True)
    copy_labels(data, dump, {"dog-a", "drum-a"})
    assert read_table(dump / UTT2CATEGORY) == {"dog-a": "dog", "drum-a": "drum"}
    assert read_table(dump / EVENTS)["dog-a"] == "1.2500 0.0000"  # verbatim, as written
    # the sources travel with the dump too: a dump read beside a data dir of another name
    # (--data-dir data_real) still knows them
    assert set(read_table(dump / UTT2TIMBRE)) == {"dog-a", "drum-a"}
    got = read_data_dir(dump, required=(), fallback=data)
    assert got.category == {"dog-a": "dog", "drum-a": "drum"}  # the dump's own copy
    assert got.files[UTT2CATEGORY] == dump / UTT2CATEGORY
    assert got.files[UTT2TIMBRE] == dump / UTT2TIMBRE and len(got.timbre) == 2
    (dump / UTT2TIMBRE).unlink()  # a dump written before: the data dir's table
    got = read_data_dir(dump, required=(), fallback=data)
    assert got.files[UTT2TIMBRE] == data / UTT2TIMBRE and len(got.timbre) == 3


def test_ground_truth_from_a_file_or_inline(data):
    got = read_data_dir(data)
    got.meta["dog-a"] = '{"inline": true}'
    assert got.meta_of("dog-a") == {"inline": True}
    got.meta["dog-b"] = str(data / "gone.json")
    with pytest.raises(InputError, match=r"utt2meta: dog-b: unreadable ground truth"):
        got.meta_of("dog-b")
    with pytest.raises(InputError, match=r"utt2meta: nope: no ground truth"):
        got.meta_of("nope")


def test_wav_scp_of_any_folder(tmp_path):
    out = tmp_path / "infer_test_same"
    out.mkdir()
    assert write_wav_scp(out, {"b": tmp_path / "b.wav", "a": "/x/a.wav"}) == out / WAV_SCP
    assert list(read_wav_scp(out).items()) == [("a", "/x/a.wav"), ("b", str(tmp_path / "b.wav"))]
    with pytest.raises(InputError, match=r"wav\.scp: file not found"):
        read_wav_scp(tmp_path / "missing")
