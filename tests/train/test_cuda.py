"""A few bf16 iterations of the paper preset on a GPU (skipped without one)."""

from __future__ import annotations

import math

import pytest
import torch

from tests.train.conftest import make_dump, tiny_job
from vs_plugin.train.engine import train

pytestmark = pytest.mark.cuda


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_paper_preset_bf16_iterations(tmp_path):
    dump = make_dump(tmp_path / "dump", {"train": 8, "valid": 2}, frames=64)
    job = tiny_job(dump, tmp_path / "exp", batch_size=4, max_iters=4, checkpoint_every=0)
    job.update(device="auto", model={"preset": "paper"})
    job["train"].update(amp="bf16")
    out = train(job)
    assert out["iteration"] == 4
    assert all(math.isfinite(h["val_mel_l1"]) for h in out["history"])
    assert next(out["generator"].parameters()).is_cuda
