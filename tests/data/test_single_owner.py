"""One owner per on-disk table: no module but its owner opens the file by name.

The tables of ``data/<set>`` (also copied into dump sets, and ``wav.scp`` of an inference
folder) are read and written by ``vs_plugin.data.kaldi_dir``, ``pairs.tsv`` by
``vs_plugin.infer.pairing`` and ``feats_shape`` by ``vs_plugin.data.layout``, which also
names every ``feats.scp`` and an inference folder's ``mel.scp``
(docs/CONTRACTS.md). Every other module reaches them through those modules' functions and
constants, so a second parser, with its own idea of the format and its own errors, cannot
creep in unnoticed: this test fails on any string in the package, outside docstrings, that
is one of these file names or a path ending in one (``"utt2meta"``, ``f"{d}/wav.scp"``).
Prose that merely mentions a file (a help text, an error message) is not a path and passes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "vs_plugin"

OWNERS = {
    "vs_plugin/data/kaldi_dir.py": (
        "video.scp",
        "wav.scp",
        "utt2category",
        "category2utt",
        "utt2meta",
        "utt2timbre",
        "utt2source",
    ),
    "vs_plugin/infer/pairing.py": ("pairs.tsv",),
    "vs_plugin/data/layout.py": ("feats_shape", "feats.scp", "mel.scp"),
}
# ``events`` (a kaldi_dir table) is left out: the word is also a ground-truth JSON key and
# an option value of the onset scorer, so the name alone says nothing about the file.

# (module, file name) pairs that may name a file as a path outside its owner, each with why.
# Keep it empty where possible: a module that needs a path should ask the owner for it.
ALLOWED: dict[tuple[str, str], str] = {}

NAMES = sorted({n for names in OWNERS.values() for n in names})
OWNER_OF = {n: m for m, names in OWNERS.items() for n in names}
PATH_RE = re.compile(r"(?:.*[/\\])?(" + "|".join(re.escape(n) for n in NAMES) + r")")


def _docstrings(tree: ast.AST) -> set[int]:
    """``id`` of every docstring constant of a module, class or function."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                out.add(id(first.value))
    return out


def names_as_paths(source: str) -> list[tuple[int, str]]:
    """``(line, name)`` for each string of ``source`` that is a table's name or ends in one.

    Strings inside f-strings count by their literal parts (``f"{d}/utt2meta"``).
    """
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            m = PATH_RE.fullmatch(node.value.strip())
            if m:
                found.append((node.lineno, m.group(1)))
    return sorted(found)


def test_the_scan_finds_a_second_parser():
    planted = '''
"""A module docstring may mention utt2meta and wav.scp."""
from pathlib import Path

def read_meta(d: Path) -> str:
    """So may a function's: it reads utt2meta."""
    raise ValueError("utt2meta is malformed")  # prose: not a path

def parse(d):
    return (d / "utt2meta").read_text(), open(f"{d}/wav.scp"), Path("data/x/pairs.tsv")
'''
    assert names_as_paths(planted) == [(10, "pairs.tsv"), (10, "utt2meta"), (10, "wav.scp")]


def test_owners_own_their_names():
    for module, names in OWNERS.items():
        source = (REPO / module).read_text(encoding="utf-8")
        assert {n for _, n in names_as_paths(source)} >= set(names), module


def test_no_module_but_the_owner_opens_a_table_by_name():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(REPO).as_posix()
        for line, name in names_as_paths(path.read_text(encoding="utf-8")):
            if OWNER_OF[name] != module and (module, name) not in ALLOWED:
                offenders.append(f"{module}:{line}: {name!r} (owner: {OWNER_OF[name]})")
    assert not offenders, "read these through their owner:\n" + "\n".join(offenders)


def test_allowed_entries_are_still_needed():
    for module, name in ALLOWED:
        source = (REPO / module).read_text(encoding="utf-8")
        assert name in {n for _, n in names_as_paths(source)}, f"{module}: {name} no longer needed"
