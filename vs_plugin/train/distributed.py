"""Multi-process training through ``ignite.distributed``, and a resumable data order.

One process per GPU (or CPU process with gloo), launched either by ``torchrun`` (the
environment says so) or by ``idist.Parallel(nproc_per_node=N)``. The sampler makes the data
order a pure function of (seed, epoch) so an interrupted epoch replays the same batches.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import ignite.distributed as idist
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler


def pick_backend(backend: str | None, nproc_per_node: int | None) -> str | None:
    """None (one plain process) unless several processes are asked for or already running."""
    if backend:
        return backend
    many = (nproc_per_node or 1) > 1 or int(os.environ.get("WORLD_SIZE", "1")) > 1
    if not many:
        return None
    return "nccl" if torch.cuda.is_available() else "gloo"


def launch(
    fn: Callable[..., Any],
    *args: Any,
    backend: str | None = None,
    nproc_per_node: int | None = None,
) -> None:
    """Run ``fn(local_rank, *args)`` in every process of the (possibly single) group."""
    chosen = pick_backend(backend, nproc_per_node)
    spawn = nproc_per_node if chosen and nproc_per_node and nproc_per_node > 1 else None
    if spawn and "WORLD_SIZE" in os.environ:
        spawn = None  # torchrun already started the processes
    with idist.Parallel(backend=chosen, nproc_per_node=spawn) as parallel:
        parallel.run(fn, *args)


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a DistributedDataParallel / DataParallel / compiled wrapper."""
    while True:
        inner = getattr(module, "module", None) or getattr(module, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return module
        module = inner


class ResumableSampler(DistributedSampler):
    """DistributedSampler whose next iteration can start ``skip`` samples into the epoch."""

    def __init__(self, dataset: Dataset, *, shuffle: bool, seed: int) -> None:
        super().__init__(
            dataset,
            num_replicas=idist.get_world_size(),
            rank=idist.get_rank(),
            shuffle=shuffle,
            seed=seed,
        )
        self.skip = 0

    def __iter__(self) -> Iterator[int]:
        indices = list(super().__iter__())[self.skip :]
        self.skip = 0
        return iter(indices)


class EpochData:
    """What the trainer iterates: each pass sets the epoch and replays a partial epoch exactly.

    Ignite restarts its data iterator when a run resumes mid-epoch; this wrapper skips the
    batches that the interrupted run already consumed (by index, without loading them).
    """

    def __init__(self, loader: DataLoader, sampler: ResumableSampler) -> None:
        self.loader = loader
        self.sampler = sampler
        self.epoch = 0  # 0-based epoch of the next pass
        self.skip_batches = 0

    def __len__(self) -> int:
        return len(self.loader)

    def position(self, iteration: int, epoch_length: int) -> None:
        """Set where the next pass starts, from the trainer's global iteration count."""
        self.epoch, self.skip_batches = divmod(iteration, epoch_length)

    def __iter__(self) -> Iterator[Any]:
        self.sampler.set_epoch(self.epoch)
        dataset = self.loader.dataset
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(self.epoch)
        self.sampler.skip = self.skip_batches * (self.loader.batch_size or 1)
        self.skip_batches = 0
        return iter(self.loader)
