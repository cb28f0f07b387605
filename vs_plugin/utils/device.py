"""The one "auto" device rule used by every component and CLI."""

from __future__ import annotations

import torch

from vs_plugin.errors import ConfigError


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> the first CUDA device when present, else the CPU; anything else is passed
    to ``torch.device`` (``cpu``, ``cuda:1``...); a name it rejects, or a CUDA device this
    machine does not have, is a ``ConfigError``."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        picked = torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(f"device {device!r}: {exc}") from None
    if picked.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(f"device {device!r}: no CUDA GPU is available here "
                              "(use cpu, or auto to take a GPU only when there is one)")
        if picked.index is not None and picked.index >= count:
            raise ConfigError(f"device {device!r}: this machine has {count} CUDA GPU(s), "
                              f"cuda:0 to cuda:{count - 1}")
    return picked
