"""Stage 1 on a tiny prepared set: mel + video dumps, lengths, stats, resume."""

from pathlib import Path

import numpy as np
import pytest

from tests.media import make_video
from vs_plugin.bin.extract_features import main
from vs_plugin.bin.prepare_data import main as prepare
from vs_plugin.data.normalize import Normalizer
from vs_plugin.utils.files import read_scp


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    for i in range(3):
        make_video(root / "bell" / f"b{i}.mp4", 0.7 + 0.3 * i)
    out = root / "data"
    assert (
        prepare(
            [
                "--corpus",
                "folder",
                "--corpus-config",
                f"root={root}",
                "--out-data",
                str(out),
                "--out-media",
                str(root / "media"),
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
        )
        == 0
    )
    return out


def test_mel_and_video_dumps(data, tmp_path, capsys):
    dump = tmp_path / "dump"
    base = ["--data", str(data / "train"), "--out", str(dump / "train")]
    video_cfg = [
        "--stream",
        "video",
        "--feature-config",
        "image_size=64",
        "flow_height=24",
        "flow_width=32",
        "--device",
        "cpu",
    ]
    assert main([*base, *video_cfg, "--nj", "2", "--job", "1"]) == 0
    assert main([*base, *video_cfg, "--nj", "2", "--fit-stats"]) == 0  # job 0 + merge
    assert main([*base, "--stream", "mel", "--fit-stats"]) == 0
    mel_shape = read_scp(dump / "train/mel/feats_shape")
    vid_shape = read_scp(dump / "train/video/feats_shape")
    (utt,) = read_scp(data / "train/video.scp")
    assert vid_shape == {utt: "32,2560"} and mel_shape == {utt: "128,80"}  # 4 x 32 mel frames
    arr = np.load(read_scp(dump / "train/mel/feats.scp")[utt])
    assert arr.dtype == np.float16 and arr.shape == (128, 80)
    stats = Normalizer.load(dump / "train/mel/stats.npz")
    np.testing.assert_allclose(stats.mean, arr.astype(np.float64).mean(0), rtol=1e-3, atol=1e-3)
    # resume: finished utterances are not recomputed
    npy = Path(read_scp(dump / "train/video/feats.scp")[utt])
    stamp = npy.stat().st_mtime_ns
    assert main([*base, *video_cfg]) == 0
    assert npy.stat().st_mtime_ns == stamp
    # other sets take the training statistics
    vbase = ["--data", str(data / "valid"), "--out", str(dump / "valid")]
    assert main([*vbase, "--stream", "mel", "--stats-from", str(dump / "train")]) == 0
    assert (dump / "valid/mel/stats.npz").read_bytes() == (
        dump / "train/mel/stats.npz"
    ).read_bytes()


def test_length_mismatch_is_reported(data, tmp_path, capsys):
    dump = tmp_path / "dump"
    base = ["--data", str(data / "test"), "--out", str(dump)]
    assert main([*base, "--stream", "mel"]) == 0
    utt = next(iter(read_scp(data / "test/video.scp")))
    (dump / "video/data").mkdir(parents=True)
    np.save(dump / "video/data" / f"{utt}.npy", np.zeros((7, 2560), np.float16))
    assert main([*base, "--stream", "video", "--merge"]) == 2
    assert "mel frames != 4 x video frames" in capsys.readouterr().err


def test_a_full_disk_stops_stage1_with_one_line_and_nothing_half_written(data, capsys, full_disk):
    from tests.disk import temporaries

    out = full_disk / "dump" / "train"
    assert main(["--data", str(data / "train"), "--out", str(out), "--stream", "mel"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert str(full_disk) in err and "no space left on device" in err
    assert temporaries(full_disk) == [] or all(p.suffix == ".log" for p in temporaries(full_disk))
    for npy in out.rglob("*.npy"):
        np.load(npy)  # whatever is there is whole
