"""Argument helpers shared by the stage CLIs: ``k=v`` config overrides, booleans, logging."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from vs_plugin.errors import ConfigError


def str2bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parse_overrides(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``["a=1", "b=[x,y]", "c=text"]`` -> typed dict (values parsed as YAML scalars/lists)."""
    out: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected key=value, got {pair!r}")
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = value
        if isinstance(out[key.strip()], (dict, type(None))) and value.strip():
            out[key.strip()] = value  # keep "a: b" or "null"-looking text as given
    return out


def component_spec(name: str, pairs: Sequence[str] | None) -> str | dict[str, Any]:
    """A registry spec from a name and ``k=v`` overrides: the bare name when there are none."""
    overrides = parse_overrides(pairs)
    return {"name": name, **overrides} if overrides else name


VOCODER_CONFIG_HELP = (
    "vocoder config overrides, e.g. backend=torch precision=fp32 (HiFi-GAN's CPU default is "
    "OpenVINO in bfloat16; BENCHMARKS.md)"
)


def setup_logging(log_file: str | Path | None) -> None:
    """Log to stderr and, when given, to a per-job file (appended, one line per event)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.raiseExceptions = False  # a log line that cannot be written must not bury the error
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def attach_dash_values(
    parser: argparse.ArgumentParser, argv: Sequence[str], options: Sequence[str]
) -> list[str]:
    """``--video -clip.mp4`` -> ``--video=-clip.mp4`` for the path ``options``.

    argparse takes any word that starts with ``-`` for an option, so a file named
    ``-clip.mp4`` after ``--video`` reads as a missing value. A word that follows one of
    ``options`` and is not one of ``parser``'s own option strings (nor ``--``) is joined to
    it, so such names work as typed. Returns the new argument list.
    """
    known = set(parser._option_string_actions) | {"--"}
    out: list[str] = []
    words = list(argv)
    i = 0
    while i < len(words):
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else None
        if word in options and nxt is not None and nxt.startswith("-") and nxt not in known:
            out.append(f"{word}={nxt}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out
