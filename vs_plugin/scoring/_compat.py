"""A stand-in for ``pkg_resources`` when the installed setuptools no longer ships it.

Resemblyzer imports ``webrtcvad``, whose module (like ``pyworld`` and ``pysptk``) runs
``import pkg_resources`` only to read its own version string. setuptools 81 removed that
module, so on a fresh environment those imports fail although nothing in them needs it.
The stand-in answers the two calls they make, from ``importlib``; it is installed only when
the real module is missing.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import types
from pathlib import Path


def _get_distribution(name: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        project_name=name, key=name.lower(), version=importlib.metadata.version(name)
    )


def _resource_filename(module: str, resource: str) -> str:
    """A file beside ``module`` (a package or a plain module), as pkg_resources resolves it."""
    mod = importlib.import_module(module)
    return str(Path(mod.__file__ or "").parent / resource)


def ensure_pkg_resources() -> None:
    """Make ``import pkg_resources`` succeed (real module if present, else the stand-in)."""
    if "pkg_resources" in sys.modules:
        return
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        stub = types.ModuleType("pkg_resources")
        stub.__doc__ = "vs_plugin stand-in: get_distribution and resource_filename only."
        stub.get_distribution = _get_distribution  # type: ignore[attr-defined]
        stub.resource_filename = _resource_filename  # type: ignore[attr-defined]
        stub.DistributionNotFound = importlib.metadata.PackageNotFoundError  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = stub
