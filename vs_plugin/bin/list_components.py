"""``vs-list``: every registered component, by kind, with its provider and description.

``vs-list --presets`` lists the model presets instead (``vs-train preset=NAME``, the recipe's
``--preset``), each with the GAN system that trains it and its components; ``--system NAME``
keeps the presets of one system and ``--names`` prints names only, one a line, for scripts
(the recipe checks its ``--preset`` with ``vs-list --presets --system varietysound --names``).
"""

from __future__ import annotations

import argparse
import sys

from vs_plugin.bin.cli import command
from vs_plugin.registry import REGISTRIES, SYSTEMS, RegistryError

PROG = "vs-list"


def list_presets(system: str | None, names_only: bool) -> int:
    """Print the model presets (of ``system`` when given); 0."""
    from vs_plugin.models import presets

    if system is not None and system not in SYSTEMS:  # names only: nothing is imported
        raise RegistryError(f"unknown system {system!r}; known: {', '.join(SYSTEMS.names())}")
    chosen = presets.preset_names(system=system)
    if names_only:
        for name in chosen:
            print(name)
        return 0
    print("preset  (model presets, vs_plugin.models.presets; vs-train preset=NAME)")
    if not chosen:
        print("  (none)")
    for name in chosen:
        gen = presets.generator_spec(name)
        discs = " ".join(d["name"] for d in presets.discriminator_specs(name)) or "none"
        print(
            f"  {name:<24} system {presets.system_spec(name)['name']}, generator {gen['name']}, "
            f"discriminators {discs}"
        )
    return 0


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Print the components (or presets); 1 if one fails to load, 2 for an unknown kind."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="List vs_plugin components (built-in and from other installed packages).",
    )
    parser.add_argument("kinds", nargs="*", help="only these kinds (default: all)")
    parser.add_argument(
        "--presets", action="store_true", help="list the model presets instead of components"
    )
    parser.add_argument(
        "--system", metavar="NAME", help="with --presets: only the presets this system trains"
    )
    parser.add_argument(
        "--names", action="store_true", help="names only, one a line (nothing is loaded)"
    )
    args = parser.parse_args(argv)
    if args.presets:
        if args.kinds:
            parser.error("--presets takes no kinds")
        return list_presets(args.system, args.names)
    if args.system is not None:
        parser.error("--system goes with --presets")
    kinds = args.kinds or list(REGISTRIES)
    status = 0
    for kind in kinds:
        reg = REGISTRIES.get(kind)
        if reg is None:
            raise RegistryError(f"unknown kind {kind!r}; kinds: {', '.join(REGISTRIES)}")
        names = reg.names()
        if args.names:
            for name in names:
                print(name)
            continue
        print(f"{kind}  ({reg.description}; entry-point group {reg.group})")
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
