"""One generic, name-keyed registry per component kind.

Components are looked up by name so that recipes and Hydra configs can swap them without code
edits. Entries come from two places: the ``@REGISTRY.register`` decorator (used by vs_plugin's
own modules) and the ``vs_plugin.<kind>`` entry-point groups, which is how any other installed
distribution adds components. Entry points are loaded lazily, one at a time, when their name
is first asked for; built-ins are declared the same way in vs_plugin's own ``setup.cfg``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata as importlib_metadata
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, is_dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

ENTRY_POINT_PREFIX = "vs_plugin."


class RegistryError(LookupError):
    """Raised for unknown names, duplicates, wrong base classes and broken entry points."""


@dataclass(frozen=True)
class Entry:
    """A registered component: its class, its dataclass config and where it comes from."""

    kind: str
    name: str
    cls: type
    config_cls: type
    provider: str

    @property
    def description(self) -> str:
        doc = inspect.getdoc(self.cls) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""


@functools.lru_cache(maxsize=1)
def _packages() -> Mapping[str, list[str]]:
    """Top-level module -> distributions; one scan of the installed metadata per process.

    The scan reads every installed distribution's file list (seconds on a large
    environment), and every registration asks it, so it is made once.
    """
    try:
        return importlib_metadata.packages_distributions()
    except Exception:  # pragma: no cover - broken metadata should not break lookups
        return {}


def _distribution_of(module_name: str) -> str:
    """Name and version of the installed distribution that ships ``module_name``."""
    top = module_name.split(".")[0]
    dists = _packages().get(top, [])
    if not dists:
        return top
    name = dists[0]
    try:
        return f"{name} {importlib_metadata.version(name)}"
    except importlib_metadata.PackageNotFoundError:
        return name


def _config_node(name: str, config_cls: type) -> type:
    """A dataclass that is ``config_cls`` plus a ``name`` field, for Hydra's ConfigStore."""
    return dataclasses.make_dataclass(
        f"{config_cls.__name__}Node",
        [("name", str, dataclasses.field(default=name))],
        bases=(config_cls,),
    )


class Registry(Generic[T]):
    """Name -> component class for one kind, with a typed dataclass config per entry."""

    def __init__(self, kind: str, base: type, description: str = "") -> None:
        self.kind = kind
        self.base = base
        self.description = description
        self._entries: dict[str, Entry] = {}
        self._loading: set[str] = set()

    # -- registration -------------------------------------------------------------------
    @property
    def group(self) -> str:
        """The entry-point group other packages use to add entries of this kind."""
        return ENTRY_POINT_PREFIX + self.kind

    def register(
        self, name: str, *, config: type | None = None, provider: str | None = None
    ) -> Callable[[type[T]], type[T]]:
        """Class decorator: ``@REGISTRY.register("name", config=MyConfig)``."""

        def decorator(cls: type[T]) -> type[T]:
            self.add(name, cls, config=config, provider=provider)
            return cls

        return decorator

    def add(
        self, name: str, cls: type, *, config: type | None = None, provider: str | None = None
    ) -> Entry:
        """Register ``cls`` under ``name``; rejects duplicates and wrong base classes."""
        if not name or not isinstance(name, str):
            raise RegistryError(f"{self.kind}: a component name must be a non-empty string")
        if not inspect.isclass(cls) or not issubclass(cls, self.base):
            raise RegistryError(
                f"{self.kind} {name!r}: {getattr(cls, '__qualname__', cls)!r} is not a subclass "
                f"of {self.base.__module__}.{self.base.__qualname__}"
            )
        config = config if config is not None else getattr(cls, "config_class", None)
        if config is None or not is_dataclass(config):
            raise RegistryError(
                f"{self.kind} {name!r}: needs a dataclass config (register(..., config=Cfg) "
                "or a `config_class` attribute)"
            )
        existing = self._entries.get(name)
        if existing is not None:
            if existing.cls is cls:
                return existing
            raise RegistryError(
                f"{self.kind} {name!r} is already registered by {existing.provider} "
                f"({existing.cls.__module__}.{existing.cls.__qualname__})"
            )
        for other in self._entries.values():
            if other.cls is cls:
                raise RegistryError(
                    f"{self.kind}: {cls.__qualname__} is already registered as {other.name!r}"
                )
        entry = Entry(
            kind=self.kind,
            name=name,
            cls=cls,
            config_cls=config,
            provider=provider or _distribution_of(cls.__module__),
        )
        self._entries[name] = entry
        cls.config_class = config  # type: ignore[attr-defined]
        cls.registered_name = name  # type: ignore[attr-defined]
        _store_config(self.kind, name, config)
        return entry

    # -- discovery ----------------------------------------------------------------------
    def _entry_points(self) -> dict[str, importlib_metadata.EntryPoint]:
        eps = importlib_metadata.entry_points(group=self.group)
        return {ep.name: ep for ep in eps}

    def _load_entry_point(self, ep: importlib_metadata.EntryPoint) -> Entry:
        dist = getattr(ep, "dist", None)
        provider = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
        self._loading.add(ep.name)
        try:
            target = ep.load()
        except Exception as exc:
            raise RegistryError(
                f"{self.kind} {ep.name!r}: entry point {ep.value!r} from {provider} failed to "
                f"load: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            self._loading.discard(ep.name)
        entry = self._entries.get(ep.name)
        if entry is not None:
            if entry.cls is not target:
                raise RegistryError(
                    f"{self.kind} {ep.name!r}: entry point {ep.value!r} from {provider} names "
                    f"a different class than the one registered by {entry.provider}"
                )
            return entry
        try:
            return self.add(ep.name, target, provider=provider)
        except RegistryError as exc:
            raise RegistryError(f"{exc} (entry point from {provider})") from exc

    def names(self) -> list[str]:
        """Every known name, registered or declared by an entry point (nothing is loaded)."""
        return sorted(set(self._entries) | set(self._entry_points()))

    def providers(self) -> dict[str, str]:
        """name -> providing distribution, without importing anything."""
        out = {}
        for name, ep in self._entry_points().items():
            dist = getattr(ep, "dist", None)
            out[name] = f"{dist.name} {dist.version}" if dist is not None else "unknown"
        out.update({name: e.provider for name, e in self._entries.items()})
        return dict(sorted(out.items()))

    def get(self, name: str) -> Entry:
        """The entry called ``name``, loading its entry point on first use."""
        if name in self._entries:
            return self._entries[name]
        ep = self._entry_points().get(name)
        if ep is not None:
            return self._load_entry_point(ep)
        known = ", ".join(f"{n} ({p})" for n, p in self.providers().items()) or "none"
        raise RegistryError(f"unknown {self.kind} {name!r}; known: {known}")

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def __iter__(self) -> Iterator[Entry]:
        for name in self.names():
            yield self.get(name)

    # -- construction -------------------------------------------------------------------
    def make_config(self, spec: Any) -> tuple[Entry, Any]:
        """Resolve ``spec`` (a name, a mapping with ``name``, or a config) to a typed config."""
        from omegaconf import DictConfig, OmegaConf

        if isinstance(spec, str):
            return (entry := self.get(spec)), entry.config_cls()
        if isinstance(spec, DictConfig):
            spec = OmegaConf.to_container(spec, resolve=True)
        if isinstance(spec, Mapping):
            spec = dict(spec)
            name = spec.pop("name", None)
            if name is None:
                raise RegistryError(f"{self.kind} config has no 'name' field: {spec}")
            entry = self.get(name)
            known = {f.name for f in dataclasses.fields(entry.config_cls)}
            unknown = sorted(set(spec) - known)
            if unknown:
                raise RegistryError(
                    f"{self.kind} {name!r}: unknown config field(s) {unknown}; "
                    f"fields are {sorted(known)}"
                )
            merged = OmegaConf.merge(OmegaConf.structured(entry.config_cls), spec)
            cfg = OmegaConf.to_object(merged)
            if not isinstance(cfg, entry.config_cls):  # a Node subclass from the store
                cfg = entry.config_cls(
                    **{f.name: getattr(cfg, f.name) for f in dataclasses.fields(entry.config_cls)}
                )
            return entry, cfg
        if is_dataclass(spec) and not isinstance(spec, type):
            name = getattr(spec, "name", None) or getattr(type(spec), "registered_name", None)
            for entry in self._entries.values():
                if isinstance(spec, entry.config_cls) and (name is None or name == entry.name):
                    return entry, spec
            raise RegistryError(f"{self.kind}: no entry takes a {type(spec).__name__} config")
        raise RegistryError(f"{self.kind}: cannot build from {spec!r}")

    def build(self, spec: Any, *args: Any, **kwargs: Any) -> T:
        """Instantiate the entry that ``spec`` names: ``cls(cfg, *args, **kwargs)``."""
        entry, cfg = self.make_config(spec)
        return entry.cls(cfg, *args, **kwargs)


def config_to_dict(name: str, cfg: Any) -> dict[str, Any]:
    """A plain ``{"name": ..., **fields}`` dict, the form stored in experiment configs."""
    out = {"name": name}
    out.update(dataclasses.asdict(cfg))
    return out


def _store_config(kind: str, name: str, config_cls: type) -> None:
    """Make ``kind=name`` usable as a Hydra config-group choice."""
    try:
        from hydra.core.config_store import ConfigStore
    except ImportError:  # pragma: no cover - hydra is a hard dependency, but stay importable
        return
    ConfigStore.instance().store(group=kind, name=name, node=_config_node(name, config_cls))


# -- the kinds ------------------------------------------------------------------------------
from vs_plugin import interfaces as _i  # noqa: E402  (after Registry, to avoid a cycle)

AUDIO_FEATURES: Registry[_i.AudioFeature] = Registry(
    "audio_feature", _i.AudioFeature, "waveform -> audio features (mel)"
)
VIDEO_FEATURES: Registry[_i.VideoFeature] = Registry(
    "video_feature", _i.VideoFeature, "frames -> per-frame video features"
)
TEMPORAL_ENCODERS: Registry[_i.TemporalEncoder] = Registry(
    "temporal_encoder", _i.TemporalEncoder, "video features -> temporal code"
)
ACOUSTIC_ENCODERS: Registry[_i.AcousticEncoder] = Registry(
    "acoustic_encoder", _i.AcousticEncoder, "reference mel -> timbre code"
)
BACKGROUND_ENCODERS: Registry[_i.BackgroundEncoder] = Registry(
    "background_encoder", _i.BackgroundEncoder, "background mel -> background code"
)
DECODERS: Registry[_i.Decoder] = Registry("decoder", _i.Decoder, "codes -> mel")
GENERATORS: Registry[_i.Generator] = Registry(
    "generator", _i.Generator, "video + reference (+ background) -> mel"
)
DISCRIMINATORS: Registry[_i.Discriminator] = Registry(
    "discriminator", _i.Discriminator, "mel (+ video) -> real/fake scores"
)
VOCODERS: Registry[_i.Vocoder] = Registry("vocoder", _i.Vocoder, "mel -> waveform")
SCORERS: Registry[_i.Scorer] = Registry("scorer", _i.Scorer, "generated audio -> metrics")
CORPORA: Registry[_i.Corpus] = Registry("corpus", _i.Corpus, "a corpus -> list of clips")
SYSTEMS: Registry[_i.GANSystem] = Registry(
    "system", _i.GANSystem, "a model family's training forward pass and losses"
)

REGISTRIES: dict[str, Registry[Any]] = {
    r.kind: r
    for r in (
        AUDIO_FEATURES,
        VIDEO_FEATURES,
        TEMPORAL_ENCODERS,
        ACOUSTIC_ENCODERS,
        BACKGROUND_ENCODERS,
        DECODERS,
        GENERATORS,
        DISCRIMINATORS,
        VOCODERS,
        SCORERS,
        CORPORA,
        SYSTEMS,
    )
}


def registry(kind: str) -> Registry[Any]:
    """The registry of ``kind``, with an error listing the kinds if it does not exist."""
    try:
        return REGISTRIES[kind]
    except KeyError:
        known = ", ".join(REGISTRIES)
        raise RegistryError(f"unknown component kind {kind!r}; kinds: {known}") from None
