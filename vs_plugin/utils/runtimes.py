"""Optional CPU inference runtimes (OpenVINO, ONNX Runtime) and the cache of converted graphs.

Networks that run outside torch on the CPU (the HiFi-GAN vocoder, the video feature CNNs) are
converted from their torch modules once and the graph is cached in a per-user folder
(``VS_PLUGIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/vs_plugin``, else ``~/.cache/vs_plugin``)
under a key made of the weights' hash, the backend, the graph format and the versions of
torch and the backend's package. Nothing is ever downloaded: the graph is built from the
installed packages' weights. The same folder keeps librosa's mel filterbank
(:func:`vs_plugin.audio.mel._mel_basis`), so that a process need not import librosa for it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import numpy as np
import torch

from vs_plugin.errors import ConfigError

log = logging.getLogger("vs_plugin.runtimes")
T = TypeVar("T")

# module to import -> (distribution, pip command that installs it at the tested version)
PACKAGES = {
    "openvino": ("openvino", "pip install openvino==2026.4.1"),
    "onnxruntime": ("onnxruntime", "pip install onnxruntime==1.31.1 onnx==1.23.2"),
    "onnx": ("onnx", "pip install onnx==1.23.2"),
}


_BUILDING = threading.RLock()


def built_once(build: Callable[..., T]) -> Callable[..., T]:
    """``functools.cache`` for network builders, safe to call from several threads at once.

    The first call per arguments builds under one process-wide lock (shared by every builder:
    loading weights with ``torch.serialization.safe_globals`` changes process-wide state);
    later calls return the same object. ``cache_clear`` as ``functools.cache``.
    """
    cached = functools.cache(build)

    @functools.wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with _BUILDING:
            return cached(*args, **kwargs)

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return wrapper


def require(module: str, user: str) -> ModuleType:
    """Import ``module`` for ``user`` (e.g. ``"vocoder backend 'openvino'"``), or raise a
    one-line ConfigError naming the package and the command that installs it."""
    try:
        if module == "openvino":
            return import_openvino()
        return importlib.import_module(module)
    except ImportError:
        dist, command = PACKAGES[module]
        raise ConfigError(
            f"{user} needs the {dist} package, which is not installed: {command}"
        ) from None


def has_module(module: str) -> bool:
    """Whether ``module`` imports (OpenVINO through :func:`import_openvino`)."""
    try:
        require(module, module)
    except ConfigError:
        return False
    return True


def import_openvino() -> ModuleType:
    """``openvino``, imported with its usage reporting off.

    Importing :mod:`vs_plugin` marks ``openvino_telemetry`` unimportable for the whole process
    (see ``vs_plugin/__init__.py``), so OpenVINO and its converter use their no-op stubs and
    never send an event nor fork a sender process. Raises ImportError without OpenVINO.
    """
    import vs_plugin  # noqa: F401  (the process-wide block, should this module load alone)

    return importlib.import_module("openvino")


@functools.lru_cache(maxsize=1)
def openvino_has_bf16() -> bool:
    """Whether OpenVINO's CPU plugin reports bfloat16 arithmetic on this CPU."""
    ov = require("openvino", "openvino")
    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def cache_root() -> Path:
    """The per-user cache folder of converted graphs."""
    env = os.environ.get("VS_PLUGIN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vs_plugin"


def files_digest(paths: list[Path]) -> str:
    """SHA-256 of the files' bytes, in order (e.g. the weights and the network config)."""
    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def graph_folder(network: str, digest: str, backend: str, graph_format: int,
                 dists: list[str]) -> Path:
    """``<cache>/<network>-<backend>-<key>``: key = weights digest, graph format, versions."""
    parts = [digest, backend, f"format{graph_format}", f"torch{torch.__version__}"]
    parts += [f"{d}{_version(d)}" for d in dists]
    key = hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]
    return cache_root() / f"{network}-{backend}-{key}"


def cached_export(folder: Path, filename: str, export: Callable[[Path], None]) -> Path:
    """``folder / filename``, made by ``export(path)`` into a temporary folder on a miss.

    The folder appears whole or not at all (renamed into place), so concurrent processes
    and killed ones leave no half-written graph; when the cache cannot be written the graph
    is exported into a private temporary folder instead (a warning, not an error).
    """
    target = folder / filename
    if target.exists():
        return target
    if folder.exists():  # a folder without its graph (removed by hand): export again
        shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp~", dir=folder.parent))
    except OSError as exc:
        log.warning("graph cache %s not writable (%s): exporting to a temporary folder",
                    folder.parent, exc)
        tmp = Path(tempfile.mkdtemp(prefix="vs-graph."))
        export(tmp / filename)
        return tmp / filename
    try:
        export(tmp / filename)
        try:
            os.rename(tmp, folder)
        except OSError:
            if not target.exists():  # not another process's result: a real failure
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


class OpenVINOModule:
    """A torch module run by OpenVINO on the CPU: numpy in, numpy out (first output).

    The module is converted once with every axis dynamic and cached under
    ``graph_folder(network, digest, "openvino", graph_format, ["openvino"])``; each input
    shape is compiled on first use (static shapes run fastest; the ``kept_shapes`` most
    recent are kept). ``precision``: ``fp32`` (the module's values to float rounding) or
    ``bf16`` (bfloat16 arithmetic on AMX / AVX512-BF16 CPUs; fp32 elsewhere). ``threads``:
    OpenVINO's inference threads (default: torch's thread count at compile time). ``export``
    replaces the default conversion (``ov.convert_model``) with the caller's ``export(path)``.
    """

    def __init__(self, module: torch.nn.Module, example: torch.Tensor, *, network: str,
                 digest: str, graph_format: int, precision: str = "fp32",
                 user: str = "openvino", threads: int | None = None, kept_shapes: int = 4,
                 export: Callable[[Path], None] | None = None) -> None:
        if precision not in ("fp32", "bf16"):
            raise ConfigError(f"OpenVINO precision must be fp32 or bf16, not {precision!r}")
        self.ov = require("openvino", user)
        self.precision = precision
        self.threads = threads
        self.kept_shapes = kept_shapes
        folder = graph_folder(network, digest, "openvino", graph_format, ["openvino"])
        export = export or (lambda path: self._export(module, example, path))
        xml = cached_export(folder, "model.xml", export)
        self.core = self.ov.Core()
        self.model = self.core.read_model(xml)
        self.compiled: dict[tuple[int, ...], Any] = {}
        self._lock = threading.Lock()

    def _export(self, module: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
        module = module.float().cpu().eval()
        with torch.no_grad():
            model = self.ov.convert_model(module, example_input=example.float().cpu())
        model.reshape({0: self.ov.PartialShape([-1] * example.dim())})
        self.ov.save_model(model, path, compress_to_fp16=False)

    def compiled_for(self, shape: tuple[int, ...]) -> Any:
        """The compiled model for input ``shape`` (compiled now unless recently used)."""
        compiled = self.compiled.pop(shape, None)
        if compiled is None:
            model = self.model.clone()
            model.reshape({0: self.ov.PartialShape(list(shape))})
            compiled = self.core.compile_model(model, "CPU", {
                "INFERENCE_PRECISION_HINT": {"bf16": "bf16", "fp32": "f32"}[self.precision],
                "INFERENCE_NUM_THREADS": self.threads or torch.get_num_threads(),
                "PERFORMANCE_HINT": "LATENCY",
            })
        self.compiled[shape] = compiled  # most recent last
        while len(self.compiled) > self.kept_shapes:
            self.compiled.pop(next(iter(self.compiled)))
        return compiled

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The first output for ``x``. Callable from several threads: calls run one at a time
        (two inference requests of one compiled model running at once were seen to hang in
        OpenVINO's input dispatch)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        with self._lock:
            return np.array(self.compiled_for(tuple(x.shape))({0: x})[0], np.float32)
