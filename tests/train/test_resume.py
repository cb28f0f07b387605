"""Checkpoints: exact resume after a crash, corrupt files skipped, NaN stops cleanly."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.train.conftest import tiny_job
from vs_plugin.errors import InputError
from vs_plugin.train import checkpoint as ck
from vs_plugin.train import engine as engine_mod
from vs_plugin.train import losses
from vs_plugin.train.engine import GANStep, NonFiniteLossError, train


def _weights(ckpt_path):
    state = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    return state["generator"], state["discriminators"], state["trainer"]


def test_crash_and_resume_matches_an_uninterrupted_run(tiny_dump, tmp_path, monkeypatch):
    # 6 clips, batch 2: 3 iterations per epoch, 2 epochs; checkpoints every 2 iterations.
    full = train(tiny_job(tiny_dump, tmp_path / "full"))
    assert full["iteration"] == 6

    original = GANStep.__call__

    def crash_at_5(self, engine, batch):
        if engine.state.iteration == 5:
            raise RuntimeError("simulated kill")
        return original(self, engine, batch)

    monkeypatch.setattr(GANStep, "__call__", crash_at_5)
    with pytest.raises(RuntimeError, match="simulated kill"):
        train(tiny_job(tiny_dump, tmp_path / "cut"))
    cut_dir = tmp_path / "cut" / "checkpoints"
    assert ck.checkpoint_step(ck.training_checkpoints(cut_dir)[0]) == 4  # mid-epoch 2
    assert not (tmp_path / "cut" / "model").exists()  # no export after a crash

    monkeypatch.setattr(GANStep, "__call__", original)
    resumed = train(tiny_job(tiny_dump, tmp_path / "cut"))  # resume_from=auto
    assert resumed["iteration"] == 6

    g_full, d_full, t_full = _weights(tmp_path / "full" / "checkpoints" / "checkpoint_6.pt")
    g_cut, d_cut, t_cut = _weights(cut_dir / "checkpoint_6.pt")
    assert t_full["iteration"] == t_cut["iteration"] == 6
    for a, b in ((g_full, g_cut), (d_full, d_cut)):
        assert a.keys() == b.keys()
        diff = [k for k in a if not torch.equal(a[k], b[k])]
        assert not diff, f"weights differ after resume: {diff[:5]}"
    # The exported generator is the final one.
    exported = torch.load(tmp_path / "cut" / "model" / "model.pt", weights_only=True)
    assert all(torch.equal(exported[f"generator.{k}"], g_full[k]) for k in g_full)


def _fake_checkpoint(path, iteration: int) -> None:
    torch.save({"trainer": {"iteration": iteration}, "generator": {}, "opt_g": {}, "rng": {}}, path)


def test_truncated_checkpoint_is_skipped_with_a_warning(tmp_path, caplog):
    _fake_checkpoint(tmp_path / "checkpoint_4.pt", 4)
    _fake_checkpoint(tmp_path / "checkpoint_8.pt", 8)
    data = (tmp_path / "checkpoint_8.pt").read_bytes()
    (tmp_path / "checkpoint_8.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "best_checkpoint_9_neg_val_mel_l1=-0.1.pt").write_bytes(b"")  # never resumed

    with pytest.raises(InputError, match="checkpoint_8.pt: unreadable checkpoint"):
        ck.load_checkpoint(tmp_path / "checkpoint_8.pt")
    with caplog.at_level(logging.WARNING):
        path, state = ck.find_resume(tmp_path)
    assert path.name == "checkpoint_4.pt" and state["trainer"]["iteration"] == 4
    assert "checkpoint_8.pt" in caplog.text
    torch.save({"generator": {}}, tmp_path / "checkpoint_12.pt")  # readable, but incomplete
    with pytest.raises(InputError, match="missing trainer"):
        ck.load_checkpoint(tmp_path / "checkpoint_12.pt")
    assert ck.find_resume(tmp_path)[0].name == "checkpoint_4.pt"
    assert ck.find_resume(tmp_path / "absent") is None


def test_rng_state_round_trip():
    state = ck.RNGState().state_dict()
    a = (torch.rand(3), __import__("numpy").random.rand(3), __import__("random").random())
    ck.RNGState().load_state_dict(state)
    b = (torch.rand(3), __import__("numpy").random.rand(3), __import__("random").random())
    assert torch.equal(a[0], b[0]) and (a[1] == b[1]).all() and a[2] == b[2]


def test_nan_loss_stops_naming_the_iteration_and_keeps_the_last_good_checkpoint(
    tiny_dump, tmp_path, monkeypatch
):
    calls = {"n": 0}
    real_mel_loss = losses.mel_loss

    def nan_on_third_training_call(fake, real):
        if fake.requires_grad:
            calls["n"] += 1
            if calls["n"] == 3:
                return fake.sum() * float("nan")
        return real_mel_loss(fake, real)

    monkeypatch.setattr(losses, "mel_loss", nan_on_third_training_call)
    with pytest.raises(NonFiniteLossError, match=r"iteration 3 .*checkpoint_2\.pt") as err:
        train(tiny_job(tiny_dump, tmp_path / "exp"))
    assert "\n" not in str(err.value)
    kept = ck.training_checkpoints(tmp_path / "exp" / "checkpoints")
    assert [ck.checkpoint_step(p) for p in kept] == [2]
    g = ck.load_checkpoint(kept[0])["generator"]
    assert all(torch.isfinite(v).all() for v in g.values() if v.is_floating_point())
    assert engine_mod.NonFiniteLossError is NonFiniteLossError


def test_removing_a_checkpoint_that_is_already_gone_is_not_an_error(tmp_path):
    from vs_plugin.train.checkpoint import AtomicDiskSaver

    saver = AtomicDiskSaver(tmp_path)
    saver({"x": 1}, "best_1.pt")
    saver.remove("best_1.pt")
    assert not (tmp_path / "best_1.pt").exists()
    saver.remove("best_1.pt")  # listed by a resumed run's record, replaced since
