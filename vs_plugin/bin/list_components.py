"""``vs-list``: every registered component, by kind, with its provider and description."""

from __future__ import annotations

import argparse
import sys

from vs_plugin.bin.cli import command
from vs_plugin.registry import REGISTRIES, RegistryError

PROG = "vs-list"


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Print the components; 1 if one of them fails to load, 2 for an unknown kind."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="List vs_plugin components (built-in and from other installed packages).",
    )
    parser.add_argument("kinds", nargs="*", help="only these kinds (default: all)")
    args = parser.parse_args(argv)
    kinds = args.kinds or list(REGISTRIES)
    status = 0
    for kind in kinds:
        reg = REGISTRIES.get(kind)
        if reg is None:
            raise RegistryError(f"unknown kind {kind!r}; kinds: {', '.join(REGISTRIES)}")
        print(f"{kind}  ({reg.description}; entry-point group {reg.group})")
        names = reg.names()
        if not names:
            print("  (none)")
        for name in names:
            try:
                entry = reg.get(name)
                print(f"  {name:<24} {entry.provider:<24} {entry.description}")
            except RegistryError as exc:  # listed, not raised: the others still show
                print(f"  {name:<24} ERROR: {exc}")
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
