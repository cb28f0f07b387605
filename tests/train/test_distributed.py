"""Two CPU processes (gloo) through ignite.distributed end with identical weights."""

from __future__ import annotations

from pathlib import Path

import ignite.distributed as idist
import pytest
import torch
from omegaconf import OmegaConf

from tests.train.conftest import make_dump, tiny_job
from vs_plugin.train.config import TrainJobConfig
from vs_plugin.train.distributed import launch, pick_backend
from vs_plugin.train.engine import run_training


def _worker(local_rank: int, job: dict, out_dir: str) -> None:
    torch.set_num_threads(1)
    result = run_training(local_rank, job)
    params = {k: v.detach().clone() for k, v in result["generator"].named_parameters()}
    torch.save(
        {"params": params, "iteration": result["iteration"], "world": idist.get_world_size()},
        Path(out_dir) / f"rank{idist.get_rank()}.pt",
    )


@pytest.mark.slow  # two spawned interpreters importing torch: ~70 s on the shared CPU
def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    dump = make_dump(tmp_path / "dump", {"train": 8, "valid": 2}, frames=12)
    job = tiny_job(dump, tmp_path / "exp", batch_size=4, epochs=1, checkpoint_every=0)
    job["dist"] = {"backend": "gloo", "nproc_per_node": 2}
    full = OmegaConf.to_container(
        OmegaConf.merge(OmegaConf.structured(TrainJobConfig), job), resolve=True
    )
    assert pick_backend(None, 2) in ("gloo", "nccl") and pick_backend(None, None) is None
    launch(_worker, full, str(tmp_path), backend="gloo", nproc_per_node=2)

    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert r0["world"] == r1["world"] == 2
    # 8 clips, global batch 4 = 2 per process: 2 iterations on each rank.
    assert r0["iteration"] == r1["iteration"] == 2
    differ = [k for k in r0["params"] if not torch.equal(r0["params"][k], r1["params"][k])]
    assert not differ, f"ranks disagree on {differ[:5]}"
    # The run wrote one set of files (rank 0): a checkpoint and the exported model.
    assert (tmp_path / "exp" / "checkpoints" / "checkpoint_2.pt").is_file()
    assert (tmp_path / "exp" / "model" / "model.pt").is_file()
