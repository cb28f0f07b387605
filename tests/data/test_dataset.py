"""DumpDataset over dump/<set>/{mel,video}: shapes, normalisation, 4x-aligned crops, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vs_plugin.data.dataset import DumpDataset, collate
from vs_plugin.data.normalize import Normalizer
from vs_plugin.errors import InputError
from vs_plugin.utils.files import write_scp

UP = 4
N_MELS, DV = 80, 12


def make_dump(root: Path, clips: dict[str, tuple[str, int]], seed: int = 0) -> Path:
    """A dump set laid out like stage 1 writes it, plus ``data/<set>/utt2category``.

    Video row t holds t in every dim; mel row m holds m / UP, so aligned rows match.
    """
    rng = np.random.default_rng(seed)
    dump = root / "dump" / "train"
    for stream, dim, up in (("mel", N_MELS, UP), ("video", DV, 1)):
        sdir = dump / stream
        (sdir / "data").mkdir(parents=True, exist_ok=True)
        scp, shapes = {}, {}
        for utt, (_, t) in clips.items():
            rows = np.arange(t * up)[:, None] / up
            arr = rows + rng.normal(0, 0.01, size=(t * up, dim))
            np.save(sdir / "data" / f"{utt}.npy", arr.astype(np.float16))
            scp[utt], shapes[utt] = sdir / "data" / f"{utt}.npy", f"{t * up},{dim}"
        write_scp(sdir / "feats.scp", scp)
        write_scp(sdir / "feats_shape", shapes)
        Normalizer.fit(np.load(p).astype(np.float32) for p in scp.values()).save(sdir / "stats.npz")
    data = root / "data" / "train"
    data.mkdir(parents=True)
    write_scp(data / "utt2category", {u: c for u, (c, _) in clips.items()})
    return dump


CLIPS = {
    "dog-a": ("dog", 20),
    "dog-b": ("dog", 20),
    "dog-c": ("dog", 20),
    "drum-a": ("drum", 20),
    "drum-b": ("drum", 18),
}


@pytest.fixture
def dump(tmp_path) -> Path:
    return make_dump(tmp_path, CLIPS)


def dataset(dump: Path, **kw) -> DumpDataset:
    return DumpDataset(dump, dump / "mel" / "stats.npz", dump / "video" / "stats.npz", **kw)


def raw(dump: Path, stream: str, utt: str) -> np.ndarray:
    return np.load(dump / stream / "data" / f"{utt}.npy").astype(np.float32)


def test_shapes_types_and_self_reference(dump):
    ds = dataset(dump)
    assert len(ds) == len(CLIPS) and ds.utts == sorted(CLIPS)
    ex = ds[ds.utts.index("drum-b")]
    assert ex["utt"] == "drum-b" and ex["category"] == "drum" and ex["ref_utt"] == "drum-b"
    assert ex["video"].shape == (DV, 18) and ex["mel"].shape == (N_MELS, UP * 18)
    assert ex["video"].dtype == ex["mel"].dtype == torch.float32
    # self-reconstruction: reference and background input are the target mel
    assert torch.equal(ex["ref_mel"], ex["mel"]) and torch.equal(ex["bg_mel"], ex["mel"])


def test_normalisation_round_trip(dump):
    ds = dataset(dump)
    mel_norm = Normalizer.load(dump / "mel" / "stats.npz")
    video_norm = Normalizer.load(dump / "video" / "stats.npz")
    batch = collate([ds[i] for i in range(3)])
    # normalised: per-bin statistics near 0 / 1 over the training set
    assert abs(float(batch["mel"].mean())) < 0.2
    assert 0.5 < float(batch["video"].std()) < 1.5
    for b, utt in enumerate(batch["utt"]):
        back_mel = mel_norm.inverse(batch["mel"][b : b + 1])[0].T.numpy()
        back_video = video_norm.inverse(batch["video"][b : b + 1])[0].T.numpy()
        np.testing.assert_allclose(back_mel, raw(dump, "mel", utt), atol=1e-3)
        np.testing.assert_allclose(back_video, raw(dump, "video", utt), atol=1e-3)


def test_random_crops_stay_aligned_4x(dump):
    ds = DumpDataset(dump, segment_frames=8, train=True, seed=3)  # no stats: raw values
    starts = set()
    for epoch in range(6):
        ds.set_epoch(epoch)
        for i in range(len(ds)):
            ex = ds[i]
            video, mel = ex["video"].mean(0), ex["mel"].mean(0)  # frame index, index / 4
            assert ex["video"].shape[-1] == 8 and ex["mel"].shape[-1] == UP * 8
            np.testing.assert_allclose(mel[::UP].numpy(), video.numpy(), atol=0.05)
            starts.add(round(float(video[0] - raw(dump, "video", ex["utt"])[0].mean())))
    assert len(starts) > 3, "crops should start at different frames across epochs"
    ds.set_epoch(2)
    a, b = ds[0], ds[0]
    assert torch.equal(a["mel"], b["mel"]), "a crop depends only on (seed, epoch, index)"


def test_evaluation_crop_is_fixed_at_the_start(dump):
    ds = DumpDataset(dump, segment_frames=8, train=False, seed=3)
    for epoch in (0, 5):
        ds.set_epoch(epoch)
        ex = ds[0]
        assert float(ex["video"].mean(0)[0]) == pytest.approx(
            float(raw(dump, "video", ex["utt"])[0].mean()), abs=1e-3
        )


def test_reference_from_another_clip_of_the_category(dump):
    ds = dataset(dump, reference="other_same_category", reference_frames=16, seed=1)
    mel_norm = Normalizer.load(dump / "mel" / "stats.npz")
    seen = set()
    for epoch in range(4):
        ds.set_epoch(epoch)
        for i, utt in enumerate(ds.utts):
            ex = ds[i]
            assert ex["ref_utt"] != utt and CLIPS[ex["ref_utt"]][0] == CLIPS[utt][0]
            assert ex["ref_mel"].shape == (N_MELS, 16)
            ref_raw = mel_norm.inverse(ex["ref_mel"][None])[0].T.numpy()
            full = raw(dump, "mel", ex["ref_utt"])
            start = int(round(ref_raw[0].mean() * UP - full[0].mean() * UP))
            np.testing.assert_allclose(ref_raw, full[start : start + 16], atol=1e-3)
            seen.add((utt, ex["ref_utt"]))
            assert torch.equal(ex["bg_mel"], ex["mel"])
    assert len({r for u, r in seen if u == "dog-a"}) == 2, "draws vary with the epoch"


def test_category_selection_and_collate(dump):
    ds = dataset(dump, categories=["drum"])
    assert ds.utts == ["drum-a", "drum-b"]
    batch = next(iter(DataLoader(ds, batch_size=2, collate_fn=collate)))
    assert batch["category"] == ["drum", "drum"]
    assert batch["video"].shape == (2, DV, 18)  # cropped to the shorter clip
    assert batch["mel"].shape == (2, N_MELS, UP * 18)
    assert batch["ref_mel"].shape == batch["bg_mel"].shape == (2, N_MELS, UP * 18)


def test_mismatched_lengths_name_the_file(tmp_path):
    dump = make_dump(tmp_path, {"dog-a": ("dog", 10)})
    bad = dump / "mel" / "data" / "dog-a.npy"
    np.save(bad, np.zeros((41, N_MELS), dtype=np.float16))  # 41 != 4 x 10
    ds = dataset(dump)  # feats_shape still says 40: caught when read
    with pytest.raises(InputError, match="dog-a.npy.*41 mel frames for 10 video frames"):
        ds[0]
    write_scp(dump / "mel" / "feats_shape", {"dog-a": f"41,{N_MELS}"})
    with pytest.raises(InputError, match="dog-a.npy.*41 mel frames for 10 video frames"):
        dataset(dump)


def test_bad_inputs(tmp_path, dump):
    with pytest.raises(InputError, match="feats.scp: missing"):
        DumpDataset(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="reference must be one of"):
        dataset(dump, reference="random")
    (tmp_path / "data" / "train" / "utt2category").unlink()
    assert dataset(dump).category["dog-a"] == ""  # categories are optional for self-reference
    with pytest.raises(InputError, match="utt2category"):
        dataset(dump, reference="other_same_category")
    np.save(dump / "video" / "data" / "dog-a.npy", np.zeros((20, DV + 1), dtype=np.float16))
    with pytest.raises(InputError, match="dog-a.npy.*statistics"):
        dataset(dump)[0]


def test_reference_from_another_clip_of_the_same_source(dump):
    """``other_same_timbre``: another clip of the clip's source; itself where none is known."""
    write_scp(dump.parent.parent / "data" / "train" / "utt2timbre",
              {"dog-a": "dog/x", "dog-b": "dog/x", "dog-c": "dog/y", "drum-a": "drum/z"})
    ds = dataset(dump, reference="other_same_timbre", reference_frames=16, seed=3)
    for epoch in range(3):
        ds.set_epoch(epoch)
        refs = {utt: ds[i]["ref_utt"] for i, utt in enumerate(ds.utts)}
        assert refs["dog-a"] == "dog-b" and refs["dog-b"] == "dog-a"
        # alone in its source (dog-c, drum-a) or without a source (drum-b): its own clip
        assert refs["dog-c"] == "dog-c" and refs["drum-a"] == "drum-a"
        assert refs["drum-b"] == "drum-b"


def test_event_crop_holds_a_loud_frame(tmp_path):
    """``reference_crop="event"`` windows always hold one of the clip's loudest frames, at
    varying places; random crops of the same sparse clip often miss it."""
    dump = make_dump(tmp_path, {"a-1": ("a", 40), "a-2": ("a", 40)})
    loud = {"a-1": 37, "a-2": 101}  # one event frame per clip (mel frames of 160)
    for utt, frame in loud.items():
        path = dump / "mel" / "data" / f"{utt}.npy"
        arr = np.full((160, N_MELS), -5.0, dtype=np.float16)
        arr[frame : frame + 3] = 5.0
        np.save(path, arr)
    kw = {"reference_frames": 24, "seed": 0}
    event = DumpDataset(dump, reference_crop="event", reference="other_same_category", **kw)
    rand = DumpDataset(dump, reference_crop="random", reference="other_same_category", **kw)
    starts, missed = set(), 0
    for epoch in range(30):
        for ds in (event, rand):
            ds.set_epoch(epoch)
        for i in range(2):
            ex, ex_r = event[i], rand[i]
            assert float(ex["ref_mel"].max()) == 5.0, "an event crop without the event"
            missed += float(ex_r["ref_mel"].max()) < 5.0
            starts.add(int(torch.argmax(ex["ref_mel"][0])))
    assert missed > 10 and len(starts) > 5
    with pytest.raises(Exception, match="reference_crop must be one of"):
        DumpDataset(dump, reference_crop="loudest")
