"""The core works on machines where fairseq2 cannot be imported (other torch versions)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def test_every_module_but_the_extension_imports_without_fairseq2():
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("fairseq2", "fairseq2n"):
                    raise ImportError(f"{name} is hidden for this test")
                return None

        sys.meta_path.insert(0, Block())
        import vs_plugin
        failures = []
        names = [m.name for m in pkgutil.walk_packages(vs_plugin.__path__, "vs_plugin.")]
        for name in names:
            if name == "vs_plugin.fairseq2_ext":
                continue
            try:
                importlib.import_module(name)
            except Exception as exc:
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
        try:
            importlib.import_module("vs_plugin.fairseq2_ext")
            failures.append("vs_plugin.fairseq2_ext imported although fairseq2 is hidden")
        except ImportError:
            pass
        assert not any(m.startswith("fairseq2") for m in sys.modules), "fairseq2 leaked in"
        from vs_plugin.registry import REGISTRIES
        for reg in REGISTRIES.values():
            for name in reg.names():
                reg.get(name)
        print(len(names), "modules")
        if failures:
            print("\\n".join(failures))
            sys.exit(1)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600, check=False)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_the_core_never_imports_the_extension(tmp_path):
    """Loading models (a folder, or a card name with fairseq2 missing) leaves it alone."""
    code = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys

        asked = []

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "vs_plugin.fairseq2_ext":
                    asked.append(name)
                    raise ImportError("the extension is blocked for this test")
                if name.split(".")[0] in ("fairseq2", "fairseq2n"):
                    raise ImportError(f"{{name}} is hidden for this test")
                return None

        sys.meta_path.insert(0, Block())
        import vs_plugin
        for m in pkgutil.walk_packages(vs_plugin.__path__, "vs_plugin."):
            if m.name != "vs_plugin.fairseq2_ext":
                importlib.import_module(m.name)
        from tests.infer.tinymodel import export_tiny
        from vs_plugin.bin.cli import load_model
        from vs_plugin.errors import InputError
        from vs_plugin.models.export import load_exported

        folder = export_tiny(__import__("pathlib").Path(r"{tmp_path}") / "model")
        load_exported(folder)
        load_model(folder / "card.yaml", "cpu")
        try:
            load_exported("varietysound_no_such_card")
        except InputError as exc:
            message = str(exc)
        else:
            raise AssertionError("a card name loaded without fairseq2")
        assert "\\n" not in message and "fairseq2 is unavailable" in message, message
        assert not asked, asked
        assert "vs_plugin.fairseq2_ext" not in sys.modules
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600, check=False, cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
