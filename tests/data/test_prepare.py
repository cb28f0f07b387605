"""Stage 0 end to end on a VAS-layout folder of odd and broken files."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.media import make_audio_only, make_empty, make_truncated, make_video
from vs_plugin.bin.prepare_data import main
from vs_plugin.data.kaldi_dir import read_data_dir, validate_data_dir
from vs_plugin.utils.files import read_scp

ROOT = Path(__file__).resolve().parents[2]
SMALL = [
    "--duration",
    "1.5",
    "--height",
    "48",
    "--width",
    "64",
    "--valid-size",
    "1",
    "--test-size",
    "1",
]


@pytest.fixture(scope="module")
def vas(tmp_path_factory):
    root = tmp_path_factory.mktemp("vas")
    make_video(root / "dog/videos/bark 1.mp4", 0.8)
    make_video(root / "dog/videos/bärk 2.avi", 0.9, vcodec="mjpeg", acodec="pcm_s16le", sr=8000)
    make_video(
        root / "dog/videos/bark3.webm",
        2.5,
        vcodec="libvpx-vp9",
        acodec="libopus",
        sr=48000,
        channels=2,
        size=(50, 70),
    )
    make_video(root / "drum/videos/d1.mp4", 1.0, size=(49, 63))
    make_video(root / "drum/videos/d2.mp4", 0.7, fps=30)
    clip = make_video(root / "drum/videos/d3.mp4", 1.2)
    Path(f"{clip}.json").write_text(json.dumps({"events": [0.3, 0.9]}))
    # the broken ones
    make_video(root / "drum/videos/mute.mp4", 1.0, audio=False)
    make_empty(root / "dog/videos/empty.mp4")
    make_truncated(make_video(root / "full.mp4", 1.0), root / "dog/videos/cut.mp4")
    make_audio_only(root / "dog/videos/voice.mp4")
    make_video(root / "drum/videos/blip.mp4", 0.3, events=())
    return root


def test_stage0_on_odd_files(vas, tmp_path, capsys):
    out, media = tmp_path / "data", tmp_path / "media"
    args = ["--root", str(vas), "--out-data", str(out), "--out-media", str(media), *SMALL]
    assert main([*args, "--nj", "2", "--job", "0"]) == 0
    assert main([*args, "--nj", "2", "--job", "1"]) == 0
    assert main([*args, "--nj", "2", "--merge"]) == 0
    counts = {s: len(read_data_dir(out / s).records) for s in ("train", "valid", "test")}
    assert counts == {"train": 2, "valid": 2, "test": 2}
    for s in counts:
        assert validate_data_dir(out / s) == []
        res = subprocess.run(
            ["bash", str(ROOT / "recipes/utils/validate_data_dir.sh"), str(out / s)],
            capture_output=True,
            text=True,
        )
        assert res.returncode == 0, res.stderr
    failed = dict(line.split("\t") for line in (out / "failed.list").read_text().splitlines())
    reasons = {Path(p).name: r for p, r in failed.items()}
    assert set(reasons) == {"mute.mp4", "empty.mp4", "cut.mp4", "voice.mp4", "blip.mp4"}
    assert "no audio stream" in reasons["mute.mp4"] and "empty" in reasons["empty.mp4"]
    assert "no video stream" in reasons["voice.mp4"] and "0.5 s" in reasons["blip.mp4"]
    assert (out / "train/failed.list").read_text() == (out / "failed.list").read_text()
    all_utts = {u for s in counts for u in read_data_dir(out / s).records}
    assert "dog-bark_2" in all_utts  # non-ASCII and space folded
    for s in counts:
        events = out / s / "events"
        if events.exists():
            assert read_scp(events) == {"drum-d3": "0.3000 0.9000"}
            assert read_scp(out / s / "utt2meta")["drum-d3"].endswith("d3.mp4.json")
    assert not list(media.glob(".*"))  # no temporary files left
    # a rerun reuses every finished clip: nothing is rewritten
    stamps = {p: p.stat().st_mtime_ns for p in media.iterdir()}
    assert main(args) == 0
    assert {p: p.stat().st_mtime_ns for p in media.iterdir()} == stamps


def test_strict_stops_and_nothing_usable_fails(vas, tmp_path, capsys):
    bad = tmp_path / "bad"
    make_video(bad / "gun/videos/mute.mp4", 1.0, audio=False)
    make_empty(bad / "gun/videos/empty.mp4")
    args = [
        "--root",
        str(bad),
        "--out-data",
        str(tmp_path / "d"),
        "--out-media",
        str(tmp_path / "m"),
        *SMALL,
    ]
    assert main(args) == 2
    assert "no usable clips" in capsys.readouterr().err
    assert len((tmp_path / "d/failed.list").read_text().splitlines()) == 2
    assert main([*args, "--strict", "true", "--out-data", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "empty.mp4: empty file" in err
    assert not (tmp_path / "s/failed.list").exists()


def test_manifest_split_is_kept(tmp_path):
    for i in range(3):
        make_video(tmp_path / f"c{i}.mp4", 0.6)
    manifest = tmp_path / "m.tsv"
    manifest.write_text("c0.mp4\tbell\ttrain\nc1.mp4\tbell\tvalid\nc2.mp4\tbell\ttest\n")
    out = tmp_path / "data"
    assert (
        main(
            [
                "--manifest",
                str(manifest),
                "--out-data",
                str(out),
                "--out-media",
                str(tmp_path / "media"),
                *SMALL,
            ]
        )
        == 0
    )
    assert list(read_data_dir(out / "valid").records) == ["bell-c1"]
    assert list(read_data_dir(out / "test").records) == ["bell-c2"]


def test_validate_script_catches_unsorted_and_mismatch(tmp_path):
    d = tmp_path / "set"
    d.mkdir()
    media = tmp_path / "a.mp4"
    media.write_bytes(b"x")
    (d / "video.scp").write_text(f"b {media}\na {media}\n")
    (d / "wav.scp").write_text(f"b {media}\na {media}\n")
    (d / "utt2category").write_text("b dog\na dog\n")
    (d / "category2utt").write_text("dog a\n")
    res = subprocess.run(
        ["bash", str(ROOT / "recipes/utils/validate_data_dir.sh"), str(d)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 1
    assert "not sorted" in res.stderr and "category2utt does not match" in res.stderr
    assert any("not sorted" in p for p in validate_data_dir(d))


def test_offset_and_cut_short_files_are_used_and_listed_in_warnings(tmp_path):
    from tests.media import make_offset_clip

    root = tmp_path / "corpus"
    make_offset_clip(root / "bell" / "late.mp4", picture_start=1.0, seconds=2.0, event=1.5)
    make_video(root / "bell" / "whole.mp4", 1.5)
    full = make_video(tmp_path / "full.mp4", 4.0, fps=25, size=(96, 128), faststart=True)
    make_truncated(full, root / "bell" / "cut.mp4", keep=0.6)
    make_truncated(full, root / "bell" / "stub.mp4", keep=0.15)
    out = tmp_path / "data"
    args = ["--corpus", "folder", "--corpus-config", f"root={root}", "--out-data", str(out),
            "--out-media", str(tmp_path / "media"), *SMALL]
    assert main(args) == 0
    failed = (out / "failed.list").read_text()
    assert "stub.mp4" in failed and "at least 50%" in failed and "cut.mp4" not in failed
    warned = dict(line.split("\t") for line in (out / "warnings.list").read_text().splitlines())
    assert [Path(p).name for p in warned] == ["cut.mp4"]
    assert "4.00 s the header states" in next(iter(warned.values()))
    assert sum(len(read_data_dir(out / s).records) for s in ("train", "valid", "test")) == 3


def test_a_full_disk_stops_stage0_with_one_line_and_nothing_half_written(
    vas, tmp_path, capsys, full_disk
):
    from tests.disk import temporaries

    media = full_disk / "media"
    args = ["--root", str(vas), "--out-data", str(tmp_path / "data"), "--out-media", str(media),
            *SMALL]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("vs-prepare-data: error: ") and str(full_disk) in err
    assert "no space left on device" in err
    assert temporaries(full_disk) == []
    done = {p.stem for p in media.glob("*.mp4")}
    assert done == {p.stem for p in media.glob("*.wav")}  # pairs only, never half of one
