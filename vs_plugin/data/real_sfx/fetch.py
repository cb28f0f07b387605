"""Debian packages as a source of recordings: download, unpack, record where files came from.

Nothing is installed on the system: ``apt-get download <pkg>`` puts the ``.deb`` in a cache
folder and ``dpkg-deb -x`` unpacks it beside it (``<deb_dir>/<deb stem>.tree/``). A ``.deb``
already in the cache is used as it is, so a machine without a package registry works once
the file is copied there. Every external command gets an argument list, never a shell string.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vs_plugin.data.real_sfx.config import check_package
from vs_plugin.errors import ConfigError, InputError
from vs_plugin.utils.files import atomic_path, write_text_atomic

log = logging.getLogger("vs_plugin.real_sfx")
_DONE = ".unpacked"  # written last inside an unpacked tree


@dataclass(frozen=True)
class Package:
    """One fetched package: its name and version, the ``.deb`` and the unpacked tree."""

    name: str
    version: str
    deb: Path
    tree: Path

    @property
    def copyright(self) -> Path:
        """The Debian copyright file inside the tree (``usr/share/doc/<name>/copyright``)."""
        return self.tree / "usr" / "share" / "doc" / self.name / "copyright"

    @property
    def copyright_in_package(self) -> str:
        return f"usr/share/doc/{self.name}/copyright"


@dataclass(frozen=True)
class SourceFileRow:
    """One line of ``SOURCES.tsv``: a recording used by the corpus and where it came from."""

    category: str
    source: str
    package: str
    version: str
    licence: str
    path: str  # inside the package
    shot: str  # the conditioned one-shot, relative to the corpus root


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _command(args: Sequence[str], *, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``args`` (a list; no shell); FileNotFoundError when the program is missing."""
    return subprocess.run(
        list(args), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )


def _last_error(stderr: str) -> str:
    """The line of a tool's stderr that says why it failed (apt's ``E:`` lines first)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E:")]
    return _one_line((errors or lines or ["no message"])[-1])


def deb_field(deb: Path, name: str) -> str:
    """A control field (``Package``, ``Version``...) of a ``.deb``; InputError naming it."""
    try:
        proc = _command(["dpkg-deb", "--field", str(deb), name])
    except FileNotFoundError:
        raise ConfigError(
            "dpkg-deb not found: install dpkg (it unpacks the .deb files of real_sfx)"
        ) from None
    if proc.returncode:
        raise InputError(deb, f"not a readable Debian package ({_last_error(proc.stderr)})")
    return proc.stdout.strip()


def cached_deb(name: str, deb_dir: Path) -> Path | None:
    """A ``.deb`` of package ``name`` already in ``deb_dir`` (the last by file name), or None."""
    if not deb_dir.is_dir():
        return None
    found = sorted(p for p in deb_dir.glob(f"{name}_*.deb") if p.is_file())
    found = [p for p in found if deb_field(p, "Package") == name]
    return found[-1] if found else None


def download_deb(name: str, deb_dir: Path) -> Path:
    """``apt-get download name`` into ``deb_dir``; ConfigError (one line) when that fails.

    The download goes to a private folder first and is moved into place when complete, so
    an interrupted download or a second process never leaves a partial ``.deb`` behind.
    """
    check_package(name)
    deb_dir.mkdir(parents=True, exist_ok=True)
    fix = f"put the .deb of {name} in {deb_dir} and rerun"
    with tempfile.TemporaryDirectory(prefix=f".apt-{name}-", dir=deb_dir) as tmp:
        try:
            proc = _command(["apt-get", "download", name], cwd=Path(tmp))
        except FileNotFoundError:
            raise ConfigError(f"apt-get not found, cannot download {name}; {fix}") from None
        if proc.returncode:
            raise ConfigError(
                f"apt-get download {name} failed (no package registry, or unknown package?): "
                f"{_last_error(proc.stderr)}; {fix}"
            )
        debs = sorted(Path(tmp).glob("*.deb"))
        if len(debs) != 1:
            raise ConfigError(
                f"apt-get download {name} left {len(debs)} .deb files instead of one; {fix}"
            )
        dest = deb_dir / debs[0].name
        shutil.move(str(debs[0]), dest)  # same folder: a rename
    log.info("downloaded %s", dest)
    return dest


def unpack(deb: Path, trees: Path) -> Path:
    """``dpkg-deb -x`` into ``<trees>/<deb stem>.tree`` (reused when already complete)."""
    tree = trees / f"{deb.stem}.tree"
    if (tree / _DONE).is_file():
        return tree
    trees.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{deb.stem}.unpack-", dir=trees))
    try:
        try:
            proc = _command(["dpkg-deb", "-x", str(deb), str(tmp)])
        except FileNotFoundError:
            raise ConfigError(
                "dpkg-deb not found: install dpkg (it unpacks the .deb files of real_sfx)"
            ) from None
        if proc.returncode:
            raise InputError(deb, f"could not unpack ({_last_error(proc.stderr)})")
        (tmp / _DONE).write_text(f"{deb.name}\n", encoding="utf-8")
        if tree.exists():  # an unfinished tree of an interrupted run, or another process's
            if (tree / _DONE).is_file():
                return tree
            shutil.rmtree(tree)
        tmp.rename(tree)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return tree


def fetch_package(name: str, deb_dir: str | Path) -> Package:
    """The package ``name`` downloaded (unless cached) and unpacked under ``deb_dir``.

    Raises ConfigError for a reserved package, a failed download (one line naming the package
    and the fix) or a missing ``dpkg-deb``; InputError naming a ``.deb`` that cannot be read.
    """
    check_package(name)
    deb_dir = Path(deb_dir).absolute()
    deb = cached_deb(name, deb_dir)
    if deb is None:
        log.info("downloading %s with apt-get into %s", name, deb_dir)
        deb = download_deb(name, deb_dir)
        if deb_field(deb, "Package") != name:
            raise InputError(deb, f"apt-get download {name} gave another package")
    else:
        log.info("using the cached %s", deb)
    version = deb_field(deb, "Version")
    return Package(name=name, version=version, deb=deb, tree=unpack(deb, deb_dir))


def copy_licence(pkg: Package, root: Path) -> Path | None:
    """Copy the package's Debian copyright file to ``<root>/LICENSES/<name>.copyright``."""
    if not pkg.copyright.is_file():
        log.warning("%s has no %s", pkg.name, pkg.copyright_in_package)
        return None
    dest = root / "LICENSES" / f"{pkg.name}.copyright"
    with atomic_path(dest) as tmp:
        shutil.copyfile(pkg.copyright, tmp)
    return dest


SOURCES_HEADER = ("category", "source", "package", "version", "licence", "path", "shot")


def write_sources_tsv(root: Path, rows: Iterable[SourceFileRow]) -> Path:
    """``<root>/SOURCES.tsv``: a header, then one line per recording (sorted), tab-separated."""
    lines = ["\t".join(SOURCES_HEADER)]
    for r in sorted(rows, key=lambda r: (r.category, r.source, r.path)):
        fields = (r.category, r.source, r.package, r.version, r.licence, r.path, r.shot)
        lines.append("\t".join(_one_line(f).replace("\t", " ") for f in fields))
    out = root / "SOURCES.tsv"
    write_text_atomic(out, "\n".join(lines) + "\n")
    return out
