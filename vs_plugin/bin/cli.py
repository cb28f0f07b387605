"""What every ``vs-*`` command does with an exception, in one place.

* A user-facing error is one line on stderr, ``<prog>: error: <message>``, and exit status 2
  (argparse's own status and format for a bad command line). User-facing are:
  :class:`~vs_plugin.errors.InputError` (with its :class:`~vs_plugin.errors.ConfigError`),
  :class:`~vs_plugin.errors.OutputError`, :class:`~vs_plugin.registry.RegistryError`, and an
  operating-system error about a named file (not found, a directory, a non-directory, no
  permission) or a full disk.
* Ctrl-C exits with status 130 (128 + SIGINT) and no traceback; SIGTERM (``kill``,
  ``timeout``) with 143 (128 + SIGTERM), after the same clean-up: temporary files removed,
  child ffmpeg processes stopped, finished outputs kept.
* Anything else is a bug: it keeps its traceback (exit status 1).

``command(prog)`` wraps an argparse ``main(argv) -> int``; ``exit_on_user_errors(prog)`` does
the same inside the Hydra app ``vs-train``. ``load_model`` is the one place a command turns a
model that will not load into an ``InputError``.
"""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from vs_plugin.errors import InputError, OutputError, is_disk_full
from vs_plugin.registry import RegistryError

if TYPE_CHECKING:
    import torch

    from vs_plugin.models.varietysound import VarietySoundModel

USAGE_ERROR = 2  # argparse's status for a bad command line
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C so that every ``finally`` runs.

    A ``KeyboardInterrupt`` subclass: ``except Exception`` does not swallow it.
    """


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` in the main thread (when SIGTERM
    still has its default action there; otherwise nothing changes)."""
    install = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    )
    if install:
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if install:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

USER_ERRORS: tuple[type[BaseException], ...] = (InputError, OutputError, RegistryError)
FILE_ERRORS: tuple[type[OSError], ...] = (
    FileNotFoundError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)

Main = Callable[[list[str] | None], int]


def user_message(exc: BaseException) -> str | None:
    """The one-line message of a user-facing error; None for anything else (a bug)."""
    if isinstance(exc, USER_ERRORS):
        text = str(exc)
    elif isinstance(exc, OSError) and (
        (isinstance(exc, FILE_ERRORS) and exc.filename is not None) or is_disk_full(exc)
    ):
        text = f"{exc.filename}: {exc.strerror}" if exc.filename is not None else str(exc)
    else:
        return None
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def exit_status(prog: str, exc: BaseException) -> int | None:
    """Report ``exc`` as ``prog`` would and return the exit status; None: not ours to report.

    A user-facing error is printed as one line on stderr (status 2); Ctrl-C is quiet (130).
    """
    if isinstance(exc, Terminated):
        return TERMINATED
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    message = user_message(exc)
    if message is None:
        return None
    print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
    return USAGE_ERROR


def command(prog: str) -> Callable[[Main], Main]:
    """Decorate an argparse ``main(argv) -> int`` so that errors end it as described above.

    The decorated function still returns the status (tests call it in-process); argparse's
    own ``SystemExit`` for a bad command line passes through unchanged.
    """

    def decorate(main: Main) -> Main:
        @functools.wraps(main)
        def wrapper(argv: list[str] | None = None) -> int:
            try:
                with sigterm_unwinds():
                    return main(argv)
            except (Exception, KeyboardInterrupt) as exc:
                status = exit_status(prog, exc)
                if status is None:
                    raise
                return status

        return wrapper

    return decorate


@contextmanager
def exit_on_user_errors(prog: str) -> Iterator[None]:
    """The same rules for code that cannot return a status (a Hydra task): ``sys.exit``."""
    try:
        with sigterm_unwinds():
            yield
    except (Exception, KeyboardInterrupt) as exc:
        status = exit_status(prog, exc)
        if status is None:
            raise
        sys.exit(status)


def load_model(source: str | Path, device: str | torch.device) -> VarietySoundModel:
    """``load_exported`` for a command: a model that will not load is an ``InputError``.

    ``load_exported`` names the file for the problems it knows; anything else it meets (a
    card name fairseq2 cannot resolve, a foreign file) is reported against ``source``.
    """
    from vs_plugin.models.export import load_exported

    try:
        return load_exported(source, device)
    except (InputError, OutputError):
        raise
    except Exception as exc:  # whatever else the loader meets, the model is unusable
        raise InputError(source, f"cannot load the model ({exc})") from None
