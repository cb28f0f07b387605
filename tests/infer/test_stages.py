"""Stages 3 and 4 through their CLIs on a small dump: layout, resumability, muxed output."""

from __future__ import annotations

import ffmpeg
import numpy as np
import pytest
import soundfile as sf

from tests.infer.tinymodel import FEATURE_DIM, export_tiny
from tests.media import make_video
from vs_plugin.audio.mel import log_mel
from vs_plugin.bin import infer as infer_cli
from vs_plugin.bin import vocode as vocode_cli
from vs_plugin.utils.files import read_scp, write_scp

UTTS = {"dog_a": "dog", "dog_b": "dog", "gun_a": "gun", "gun_b": "gun"}
T = 20  # video frames per clip (~0.93 s)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("recipe")
    model = export_tiny(root / "exp" / "model")
    rng = np.random.default_rng(0)
    data, dump = root / "data" / "test", root / "dump" / "test"
    tables: dict[str, dict] = {"video.scp": {}, "wav.scp": {}, "mel": {}, "video": {}}
    for i, utt in enumerate(UTTS):
        video = make_video(root / "media" / f"{utt}.mp4", seconds=1.0, fps=21.5, events=(0.4,))
        wav = (0.3 * np.sin(2 * np.pi * (200 + 100 * i) * np.arange(T * 1024) / 22050)).astype(
            np.float32
        )
        sf.write(root / "media" / f"{utt}.wav", wav, 22050)
        for stream, arr in (("mel", log_mel(wav)), ("video", rng.random((T, FEATURE_DIM)))):
            path = dump / stream / "data" / f"{utt}.npy"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, arr.astype(np.float16))
            tables[stream][utt] = path
        tables["video.scp"][utt] = video
        tables["wav.scp"][utt] = root / "media" / f"{utt}.wav"
    data.mkdir(parents=True)
    write_scp(data / "video.scp", tables["video.scp"])
    write_scp(data / "wav.scp", tables["wav.scp"])
    write_scp(data / "utt2category", UTTS)
    write_scp(data / "category2utt", {"dog": "dog_a dog_b", "gun": "gun_a gun_b"})
    for stream in ("mel", "video"):
        write_scp(dump / stream / "feats.scp", tables[stream])
    return root, model, data, dump


def run_infer(setup, out, *extra):
    root, model, data, dump = setup
    argv = ["--model", str(model), "--data", str(data), "--dump", str(dump), "--out", str(out)]
    return infer_cli.main([*argv, "--device", "cpu", *extra])


def test_stage3_shuffled_then_stage4(setup, capsys):
    root, model, data, dump = setup
    out = root / "exp" / "infer_test_shuffled"
    assert run_infer(setup, out, "--policy", "shuffled", "--seed", "1") == 0
    assert "done=4" in capsys.readouterr().out
    pairs = [line.split("\t") for line in (out / "pairs.tsv").read_text().splitlines()]
    assert [p[0] for p in pairs] == sorted(UTTS)
    assert all(v != r and UTTS[v] == UTTS[r] for _, v, r in pairs)
    mels = read_scp(out / "mel.scp")
    assert sorted(mels) == sorted(UTTS)
    mel = np.load(mels["dog_a"])
    assert mel.shape == (4 * T, 80) and mel.dtype == np.float32
    # resumable: a rerun skips everything, --overwrite redoes it
    assert run_infer(setup, out, "--policy", "shuffled", "--seed", "1") == 0
    assert "done=0 skipped=4" in capsys.readouterr().out

    assert (
        vocode_cli.main(
            ["--in", str(out), "--vocoder", "griffin_lim", "--data", str(data), "--device", "cpu"]
        )
        == 0
    )
    wavs = read_scp(out / "wav.scp")
    info = sf.info(wavs["gun_b"])
    assert (info.samplerate, info.subtype, info.frames) == (22050, "PCM_16", 4 * T * 256)
    mp4 = out / "mp4" / "gun_b.mp4"
    kinds = [s["codec_type"] for s in ffmpeg.probe(str(mp4))["streams"]]
    assert sorted(kinds) == ["audio", "video"]
    capsys.readouterr()
    assert vocode_cli.main(["--in", str(out), "--vocoder", "griffin_lim", "--data", str(data)]) == 0
    assert "skipped=4" in capsys.readouterr().out


def test_stage3_ablation_and_pairs(setup, tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("dog_a gun_b\ndog_a dog_b\n")
    out = tmp_path / "infer_pairs"
    assert (
        run_infer(
            setup,
            out,
            "--policy",
            "pairs",
            "--pairs",
            str(pairs),
            "--drop-timbre",
            "zeros",
            "--with-background",
            "true",
        )
        == 0
    )
    mels = read_scp(out / "mel.scp")
    assert sorted(mels) == ["dog_a__dog_b", "dog_a__gun_b"]
    # timbre dropped: the reference no longer matters
    np.testing.assert_allclose(
        np.load(mels["dog_a__dog_b"]), np.load(mels["dog_a__gun_b"]), atol=1e-4
    )


def test_stage4_ground_truth(setup, tmp_path):
    root, model, data, dump = setup
    gt = tmp_path / "infer_test_gt"
    argv = [
        "--gt",
        "--dump",
        str(dump),
        "--in",
        str(gt),
        "--vocoder",
        "griffin_lim",
        "--mux",
        "false",
    ]
    assert vocode_cli.main(argv) == 0
    assert sorted(read_scp(gt / "wav.scp")) == sorted(UTTS)
    assert (gt / "pairs.tsv").read_text().splitlines()[0] == "dog_a\tdog_a\tdog_a"
    # the vocoded ground truth is close to the real audio (the mel was not de-normalised)
    wav, _ = sf.read(read_scp(gt / "wav.scp")["gun_a"], dtype="float32")
    ref = np.load(read_scp(dump / "mel" / "feats.scp")["gun_a"]).astype(np.float32)
    assert np.abs(log_mel(wav) - ref)[4:-4].mean() < 0.5
    assert not (gt / "mp4").exists()


def test_bad_arguments_exit_2(setup, tmp_path, capsys):
    assert run_infer(setup, tmp_path / "x", "--policy", "pairs") == 2
    assert vocode_cli.main(["--gt", "--in", str(tmp_path)]) == 2
    assert (
        run_infer(setup, tmp_path / "y", "--policy", "pairs", "--pairs", str(tmp_path / "nope.txt"))
        == 2
    )
    assert "nope.txt: pairs file not found" in capsys.readouterr().err


def test_stage3_one_model_per_category(setup, tmp_path):
    """``--model .../cat_{category}/model``: each clip is generated by its category's model."""
    root, _, data, dump = setup
    models = {
        c: export_tiny(tmp_path / f"cat_{c}" / "model", seed=s)
        for s, c in enumerate(("dog", "gun"))
    }
    out = tmp_path / "infer_per_cat"
    argv = ["--model", str(tmp_path / "cat_{category}" / "model"), "--data", str(data)]
    argv += ["--dump", str(dump), "--out", str(out), "--device", "cpu", "--policy", "cross"]
    assert infer_cli.main(argv) == 0
    for cat, model in models.items():  # the same pairs with that one model alone
        single = tmp_path / f"single_{cat}"
        assert run_infer((root, model, data, dump), single, "--policy", "cross") == 0
        for utt, c in UTTS.items():
            same = np.allclose(
                np.load(out / "mel" / f"{utt}.npy"), np.load(single / "mel" / f"{utt}.npy")
            )
            assert same == (c == cat), (utt, cat)
    missing = [
        "--model",
        str(tmp_path / "nope_{category}"),
        "--data",
        str(data),
        "--dump",
        str(dump),
    ]
    assert infer_cli.main([*missing, "--out", str(tmp_path / "x"), "--device", "cpu"]) == 2


def test_a_full_disk_stops_stage4_with_one_line_and_nothing_half_written(
    setup, capsys, small_disk
):
    from tests.disk import fill_up, temporaries

    root, model, data, dump = setup
    out = small_disk / "infer_test_shuffled"
    assert run_infer(setup, out, "--policy", "shuffled", "--seed", "1") == 0
    fill_up(small_disk)
    capsys.readouterr()
    argv = ["--in", str(out), "--vocoder", "griffin_lim", "--data", str(data), "--device", "cpu"]
    assert vocode_cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert str(small_disk) in err and "no space left on device" in err
    assert temporaries(small_disk) == []
    for wav in out.rglob("*.wav"):
        assert sf.info(wav).frames == 4 * T * 256  # whatever is there is whole
