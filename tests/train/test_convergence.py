"""The tiny preset learns: validation mel L1 falls clearly below its starting value.

Each clip of this dump has its own spectral colour, which only its own reference tells, so
learning is measured under the reconstruction condition (the clip as its own reference);
the inference-condition validation is tested in test_validation.py.
"""

from __future__ import annotations

import pytest

from tests.train.conftest import make_dump, tiny_job
from vs_plugin.train.engine import train


@pytest.mark.slow  # a few hundred iterations: minutes on a shared 2-core CPU
def test_tiny_preset_lowers_validation_mel_l1(tmp_path):
    dump = make_dump(tmp_path / "dump", {"train": 8, "valid": 4}, frames=16)
    job = tiny_job(
        dump, tmp_path / "exp", batch_size=4, epochs=150, hold_epochs=100,
        checkpoint_every=0, image_every=50, validate_every=25, log_every=50,
        validation="reconstruction",
    )  # fmt: skip
    out = train(job)
    history = out["history"]
    start, end = history[0]["val_mel_l1"], history[-1]["val_mel_l1"]
    print("val_mel_l1 by epoch:", [(h["epoch"], round(h["val_mel_l1"], 4)) for h in history])
    assert history[0]["epoch"] == 0 and out["iteration"] == 300
    assert end < 0.6 * start, history
    assert history[-1]["val_mcd"] < history[0]["val_mcd"]
