"""The one "auto" device rule used by every component and CLI."""

from __future__ import annotations

import torch


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> the first CUDA device when present, else the CPU; anything else is passed
    to ``torch.device`` (``cpu``, ``cuda:1``...), which raises RuntimeError for a bad name."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
