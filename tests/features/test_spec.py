"""feature_spec.yaml: stage 1 records the extractor's options, the export keeps them, and
inference rebuilds that exact extractor; other options on a rerun are refused."""

from __future__ import annotations

import logging

import pytest
import soundfile as sf
import yaml

from tests.infer.tinymodel import FrameStatsConfig, export_tiny, export_tiny_legacy
from tests.media import make_video, tone
from vs_plugin.audio.mel import MelConfig
from vs_plugin.bin.extract_features import main
from vs_plugin.data.kaldi_dir import Record, write_data_dir
from vs_plugin.errors import InputError
from vs_plugin.features.spec import SPEC_FILE, dump_specs, make_spec, spec_differences
from vs_plugin.infer.single import recorded_video_feature
from vs_plugin.models.export import SPEC_FILE as GENERATOR_YAML
from vs_plugin.models.export import load_exported
from vs_plugin.registry import config_to_dict
from vs_plugin.utils.files import write_text_atomic

FPS, SECONDS, SR = 21.5, 2.0, 22050  # 43 video frames, 172 = 4 x 43 mel frames


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A conformed training set of two 2 s clips (21.5 fps video, 22050 Hz wav)."""
    root = tmp_path_factory.mktemp("clips")
    records = []
    for i in range(2):
        video = make_video(root / f"c{i}.mp4", SECONDS, fps=FPS, size=(48, 64), audio=False)
        wav = root / f"c{i}.wav"
        sf.write(wav, tone(SECONDS, SR, (0.5 + i,)), SR)
        records.append(Record(f"bell_{i:02d}", "bell", video, wav))
    return write_data_dir(root / "data" / "train", records)


def video_args(data, out, *extra):
    return ["--data", str(data), "--out", str(out), "--stream", "video",
            "--feature", "test_frame_stats", *extra]  # fmt: skip


def last_line(capsys) -> str:
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_recorded_options_reach_the_rebuilt_extractor(data, tmp_path):
    dump = tmp_path / "dump" / "train"
    assert main([*video_args(data, dump, "--feature-config", "step=4"), "--nj", "2",
                 "--fit-stats"]) == 0  # fmt: skip
    assert main(["--data", str(data), "--out", str(dump), "--stream", "mel",
                 "--feature-config", "fmax=7600", "--fit-stats"]) == 0  # fmt: skip
    on_disk = yaml.safe_load((dump / "video" / SPEC_FILE).read_text(encoding="utf-8"))
    recorded = {"name": "test_frame_stats", "fps": FPS, "step": 4}
    assert on_disk == make_spec("video", recorded, FPS, 4)
    mel_spec = yaml.safe_load((dump / "mel" / SPEC_FILE).read_text(encoding="utf-8"))
    assert mel_spec["feature"] == {"name": "mel", **vars(MelConfig(fmax=7600.0))}

    # training reads the dump's specs; the export stores them; vs-generate rebuilds from it
    specs = dump_specs(dump)
    model = load_exported(export_tiny(tmp_path / "model", video_feature=specs.video_feature,
                                      mel=specs.mel))  # fmt: skip
    assert model.video_feature == on_disk["feature"]
    assert model.mel == MelConfig(fmax=7600.0)
    rebuilt = recorded_video_feature(model)
    assert config_to_dict("test_frame_stats", rebuilt.cfg) == on_disk["feature"]
    assert rebuilt.cfg.step == 4 != FrameStatsConfig().step


def test_other_options_on_a_rerun_are_refused(data, tmp_path, capsys):
    dump = tmp_path / "dump"
    spec_file = dump / "video" / SPEC_FILE
    assert main([*video_args(data, dump, "--feature-config", "step=4"), "--nj", "2",
                 "--job", "0"]) == 0  # fmt: skip
    before = spec_file.read_bytes()
    assert main([*video_args(data, dump), "--nj", "2", "--job", "1"]) == 2  # default step
    line = last_line(capsys)
    assert line.startswith(f"vs-extract-features: error: {spec_file}: features there were made")
    assert "feature.step: 4 on disk, 8 now" in line
    assert not (dump / "video" / "data" / "bell_01.npy").exists()  # nothing was extracted
    assert main([*video_args(data, dump, "--feature-config", "step=4"), "--fps", "15",
                 "--merge"]) == 2  # fmt: skip
    assert f"{spec_file}: " in (line := last_line(capsys)) and "fps: 21.5 on disk, 15.0" in line
    assert spec_file.read_bytes() == before
    # a video feature's fps must be the clips' fps
    assert main([*video_args(data, tmp_path / "other", "--feature-config", "fps=15")]) == 2
    assert "video feature fps=15.0 differs from the clips' fps=21.5" in last_line(capsys)
    # the same options go through (job 1, then the merge)
    assert main([*video_args(data, dump, "--feature-config", "step=4"), "--nj", "2"]) == 0


def test_runtime_fields_are_not_compared():
    a = make_spec("video", {"name": "x", "image_size": 112, "device": "cuda"}, FPS, 4)
    b = make_spec("video", {"name": "x", "image_size": 112, "device": "cpu"}, FPS, 4)
    assert spec_differences(a, b) == []
    c = make_spec("video", {"name": "x", "image_size": 224, "device": "cpu"}, FPS, 4)
    assert spec_differences(a, c) == ["feature.image_size: 112 on disk, 224 now"]


def test_training_checks_and_older_dumps(tmp_path, caplog):
    train, valid = tmp_path / "train", tmp_path / "valid"
    video = {"name": "test_frame_stats", "fps": FPS, "step": 4}
    mel = {"name": "mel", **vars(MelConfig())}
    for d, step in ((train, 4), (valid, 8)):
        write_text_atomic(d / "video" / SPEC_FILE, yaml.safe_dump(
            make_spec("video", {**video, "step": step}, FPS, 4)))  # fmt: skip
        write_text_atomic(d / "mel" / SPEC_FILE, yaml.safe_dump(make_spec("mel", mel, FPS, 4)))
    assert dump_specs(train).video_feature == video
    with pytest.raises(InputError, match=r"valid/video/feature_spec\.yaml: differs from .*step"):
        dump_specs(train, [valid])
    with pytest.raises(InputError, match=r"extracted with name='test_frame_stats', but data\."):
        dump_specs(train, video_feature={"name": "effnet_rgb_flow"})
    with caplog.at_level(logging.WARNING, logger="vs_plugin.features.spec"):
        old = dump_specs(tmp_path / "old", video_feature={"name": "precomputed"})
    assert old.video_feature == {"name": "precomputed"} and old.mel == MelConfig()
    assert "feature_spec.yaml: missing" in caplog.text


def test_older_export_without_specs_still_loads(tmp_path, caplog):
    model_dir = export_tiny_legacy(tmp_path / "model", recorded_specs=False)
    meta = yaml.safe_load((model_dir / GENERATOR_YAML).read_text(encoding="utf-8"))
    with caplog.at_level(logging.WARNING, logger="vs_plugin.export"):
        model = load_exported(model_dir)
    assert "older export without the features' recorded options" in caplog.text
    assert f"{model_dir / GENERATOR_YAML}" in caplog.text
    assert model.video_feature == {"name": "test_frame_stats"} and model.mel == MelConfig()
    assert recorded_video_feature(model).cfg == FrameStatsConfig()  # today's defaults
    del meta["video_feature"]  # older still: the default extractor's name
    (model_dir / GENERATOR_YAML).write_text(yaml.safe_dump(meta), encoding="utf-8")
    assert load_exported(model_dir).video_feature == {"name": "effnet_rgb_flow"}


def test_vs_generate_makes_stage_1s_features_for_a_conformed_clip(tmp_path):
    """Stage 1 on a conformed clip (256 x 340 at 21.5 fps) and vs-generate's streamed
    extractor, rebuilt from the exported spec, give the same features for the same video."""
    import numpy as np

    from vs_plugin.infer.single import FRAME_SIZE, extract_video_features

    video = make_video(tmp_path / "c.mp4", SECONDS, fps=FPS, size=FRAME_SIZE, audio=False,
                       events=(0.4, 1.2))
    wav = tmp_path / "c.wav"
    sf.write(wav, tone(SECONDS, SR, (0.5,)), SR)
    data = write_data_dir(tmp_path / "data" / "train", [Record("bell_00", "bell", video, wav)])
    dump = tmp_path / "dump" / "train"
    assert main([*video_args(data, dump, "--feature-config", "step=4"), "--fit-stats"]) == 0
    assert main(["--data", str(data), "--out", str(dump), "--stream", "mel", "--fit-stats"]) == 0
    specs = dump_specs(dump)
    model = load_exported(export_tiny(tmp_path / "model", video_feature=specs.video_feature,
                                      mel=specs.mel))  # fmt: skip
    streamed = extract_video_features(video, recorded_video_feature(model))
    stage1 = np.load(dump / "video" / "data" / "bell_00.npy")  # float16 on disk
    assert streamed.shape == stage1.shape
    np.testing.assert_allclose(streamed.astype(np.float16), stage1, rtol=1e-3, atol=1e-3)
