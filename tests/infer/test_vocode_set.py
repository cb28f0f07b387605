"""``vocode_set`` through ``vs-vocode`` on a small dump: wav and muxed mp4 layout, resumability,
the vocoded ground truth, a full disk."""

from __future__ import annotations

import ffmpeg
import numpy as np
import soundfile as sf

from tests.infer.smallset import UTTS, T, run_infer
from vs_plugin.audio.mel import log_mel
from vs_plugin.bin import vocode as vocode_cli
from vs_plugin.utils.files import read_scp


def test_generated_set_is_vocoded_and_muxed(small_set, capsys):
    root, model, data, dump = small_set
    out = root / "exp" / "infer_test_shuffled"
    assert run_infer(small_set, out, "--policy", "shuffled", "--seed", "1") == 0
    argv = ["--in", str(out), "--vocoder", "griffin_lim", "--data", str(data)]
    assert vocode_cli.main([*argv, "--device", "cpu"]) == 0
    wavs = read_scp(out / "wav.scp")
    info = sf.info(wavs["gun_b"])
    assert (info.samplerate, info.subtype, info.frames) == (22050, "PCM_16", 4 * T * 256)
    mp4 = out / "mp4" / "gun_b.mp4"
    kinds = [s["codec_type"] for s in ffmpeg.probe(str(mp4))["streams"]]
    assert sorted(kinds) == ["audio", "video"]
    capsys.readouterr()
    assert vocode_cli.main(argv) == 0
    assert "skipped=4" in capsys.readouterr().out


def test_ground_truth(small_set, tmp_path):
    root, model, data, dump = small_set
    gt = tmp_path / "infer_test_gt"
    argv = ["--gt", "--dump", str(dump), "--in", str(gt), "--vocoder", "griffin_lim"]
    assert vocode_cli.main([*argv, "--mux", "false"]) == 0
    assert sorted(read_scp(gt / "wav.scp")) == sorted(UTTS)
    assert (gt / "pairs.tsv").read_text().splitlines()[0] == "dog_a\tdog_a\tdog_a"
    # the vocoded ground truth is close to the real audio (the mel was not de-normalised)
    wav, _ = sf.read(read_scp(gt / "wav.scp")["gun_a"], dtype="float32")
    ref = np.load(read_scp(dump / "mel" / "feats.scp")["gun_a"]).astype(np.float32)
    assert np.abs(log_mel(wav) - ref)[4:-4].mean() < 0.5
    assert not (gt / "mp4").exists()


def test_bad_arguments_exit_2(tmp_path, capsys):
    assert vocode_cli.main(["--gt", "--in", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "vs-vocode: error: --gt needs --dump DIR"


def test_a_full_disk_stops_with_one_line_and_nothing_half_written(small_set, capsys, small_disk):
    from tests.disk import fill_up, temporaries

    root, model, data, dump = small_set
    out = small_disk / "infer_test_shuffled"
    assert run_infer(small_set, out, "--policy", "shuffled", "--seed", "1") == 0
    fill_up(small_disk)
    capsys.readouterr()
    argv = ["--in", str(out), "--vocoder", "griffin_lim", "--data", str(data), "--device", "cpu"]
    assert vocode_cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert str(small_disk) in err and "no space left on device" in err
    assert temporaries(small_disk) == []
    for wav in out.rglob("*.wav"):
        assert sf.info(wav).frames == 4 * T * 256  # whatever is there is whole
