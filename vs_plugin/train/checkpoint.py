"""Training checkpoints: what they hold, how they are written, how a run finds one to resume.

A checkpoint is one ``torch.save`` dict (Ignite's ``Checkpoint`` layout: one entry per object's
``state_dict()``), written atomically (temporary file + rename) so a killed job leaves either
the old or the new file, never half of one. Everything in it loads with
``torch.load(weights_only=True)``: RNG states are stored as tensors and plain Python values.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ignite.distributed as idist
import numpy as np
import torch
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint, DiskSaver

from vs_plugin.errors import InputError
from vs_plugin.utils.files import atomic_path

log = logging.getLogger(__name__)

PREFIX = "checkpoint"
PATTERN = re.compile(rf"^{PREFIX}_(\d+)\.pt$")
#: Keys every training checkpoint must hold to be usable for resuming.
REQUIRED_KEYS = ("trainer", "generator", "opt_g", "rng")


class RNGState:
    """The process's random generators (Python, NumPy, torch CPU and CUDA) as a state dict."""

    def state_dict(self) -> dict[str, Any]:
        np_state = np.random.get_state()
        state: dict[str, Any] = {
            "python": random.getstate(),
            "numpy": {
                "name": np_state[0],
                "keys": torch.from_numpy(np_state[1].astype(np.int64)),
                "pos": int(np_state[2]),
                "has_gauss": int(np_state[3]),
                "cached_gaussian": float(np_state[4]),
            },
            "torch": torch.get_rng_state(),
        }
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        random.setstate(_as_tuple(state["python"]))
        n = state["numpy"]
        np.random.set_state(
            (
                n["name"],
                n["keys"].numpy().astype(np.uint32),
                n["pos"],
                n["has_gauss"],
                n["cached_gaussian"],
            )
        )
        torch.set_rng_state(state["torch"])
        if "cuda" in state and torch.cuda.is_available():
            cuda = state["cuda"]
            if len(cuda) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(cuda)


def _as_tuple(x: Any) -> Any:
    """``random.setstate`` wants tuples back where serialisation may have produced lists."""
    return tuple(_as_tuple(v) for v in x) if isinstance(x, (list, tuple)) else x


def checkpoint_step(path: Path) -> int | None:
    """The iteration number in a training checkpoint's file name, else None."""
    m = PATTERN.match(path.name)
    return int(m.group(1)) if m else None


def training_checkpoints(directory: str | Path) -> list[Path]:
    """Training checkpoints in ``directory``, newest (highest iteration) first."""
    d = Path(directory)
    if not d.is_dir():
        return []
    found = [(s, p) for p in d.iterdir() if (s := checkpoint_step(p)) is not None]
    return [p for _, p in sorted(found, reverse=True)]


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a training checkpoint safely; InputError if it is truncated, foreign or partial."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, pickle error, foreign format
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, f"unreadable checkpoint ({first})") from None
    if not isinstance(ckpt, Mapping):
        raise InputError(path, "not a training checkpoint (not a dict)")
    missing = [k for k in REQUIRED_KEYS if k not in ckpt]
    if missing:
        raise InputError(path, f"not a training checkpoint (missing {', '.join(missing)})")
    return dict(ckpt)


def find_resume(directory: str | Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint that loads; broken ones are skipped with a warning."""
    for path in training_checkpoints(directory):
        try:
            return path, load_checkpoint(path)
        except InputError as exc:
            log.warning("skipping checkpoint: %s", exc)
    return None


def resolve_resume(resume_from: str | None, directory: Path) -> tuple[Path, dict] | None:
    """``resume_from``: None/"none" (fresh start), "auto" (newest valid) or a file path."""
    if resume_from is None or str(resume_from).lower() in ("none", "null", ""):
        return None
    if str(resume_from) == "auto":
        return find_resume(directory)
    path = Path(resume_from)
    return path, load_checkpoint(path)


class AtomicDiskSaver(DiskSaver):
    """Ignite's ``DiskSaver`` writing through :func:`atomic_path`.

    Its temporary files carry the writer's pid, so a rerun after a kill recognises and
    sweeps them (``utils.files.sweep_temporaries``) instead of leaving ``tmpXXXX`` behind.
    """

    def __init__(self, dirname: str | Path) -> None:
        super().__init__(str(dirname), require_empty=False, atomic=True, create_dir=True)

    def __call__(
        self, checkpoint: Mapping, filename: str, metadata: Mapping | None = None
    ) -> None:
        if idist.get_rank() != self.save_on_rank:
            return
        with atomic_path(Path(self.dirname) / filename) as tmp:
            torch.save(checkpoint, tmp, **self.kwargs)

    def remove(self, filename: str) -> None:
        """Delete an old checkpoint; one already gone is fine: a run resumed from an older
        training checkpoint may still list a best file that a later, killed run replaced."""
        if idist.get_rank() == self.save_on_rank:
            (Path(self.dirname) / filename).unlink(missing_ok=True)


def attach_checkpointing(
    trainer: Engine,
    to_save: Mapping[str, Any],
    directory: Path,
    every: int,
    keep: int,
) -> Checkpoint:
    """Save ``to_save`` every ``every`` iterations and at each epoch end, keeping ``keep``."""
    handler = Checkpoint(
        dict(to_save),
        AtomicDiskSaver(directory),
        filename_pattern=PREFIX + "_{global_step}.{ext}",
        global_step_transform=lambda engine, _: engine.state.iteration,
        n_saved=max(1, keep),
        include_self=True,
    )
    event = Events.EPOCH_COMPLETED
    if every and every > 0:
        event = event | Events.ITERATION_COMPLETED(every=every)
    trainer.add_event_handler(event, handler)
    return handler


def restore(to_load: Mapping[str, Any], checkpoint: Mapping[str, Any]) -> None:
    """Load every object of ``to_load`` that the checkpoint holds (all required keys must be)."""
    present = {k: v for k, v in to_load.items() if k in checkpoint}
    Checkpoint.load_objects(present, dict(checkpoint))
