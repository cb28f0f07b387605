"""The one "auto" device rule used by every component and CLI."""

from __future__ import annotations

import torch

from vs_plugin.errors import ConfigError


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> the first CUDA device when present, else the CPU; anything else is passed
    to ``torch.device`` (``cpu``, ``cuda:1``...); a name it rejects is a ``ConfigError``."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(f"device {device!r}: {exc}") from None
