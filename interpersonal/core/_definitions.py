"""Loading definition files (TOML) for the core's catalogues — measures and protocols.

What the two catalogues share: reading a file, finding definitions in the built-in
directory and any a service adds, rejecting duplicate ids, and deep-merging a service's
settings file over the definitions before each catalogue validates its own schema.
Errors are raised as the catalogue's own ``DefinitionError(source, field, problem)``.
"""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class ErrorFactory(Protocol):
    def __call__(self, source: str, field: str, problem: str) -> Exception: ...


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` merged into ``base``: tables key by key, anything else replaced whole."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_toml(path: Path, error: ErrorFactory) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise error(path.name, "(file)", f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise error(str(path), "(file)", f"cannot be read: {exc.strerror or exc}") from exc


def load_directories(
    directories: Iterable[Path], settings: Path | None, *, kind: str, protected: frozenset[str],
    parse: Callable[[Mapping[str, Any], str], T], error: ErrorFactory,
) -> dict[str, T]:
    """Every ``*.toml`` definition in ``directories`` (ids unique), with ``settings`` merged
    over them; ``protected`` keys may not be changed by settings."""
    raw: dict[str, tuple[str, dict[str, Any]]] = {}
    for directory in directories:
        if not directory.is_dir():
            raise error(str(directory), "(directory)", "is not a directory")
        for path in sorted(directory.glob("*.toml")):
            data = read_toml(path, error)
            definition_id = data.get("id")
            if not isinstance(definition_id, str):
                raise error(path.name, "id", "is required")
            if definition_id in raw:
                raise error(path.name, "id", f"{definition_id!r} is already defined in {raw[definition_id][0]}")
            raw[definition_id] = (path.name, data)
    if settings is not None:
        for definition_id, table in read_toml(settings, error).items():
            if definition_id not in raw:
                raise error(settings.name, definition_id, f"is not a known {kind}")
            if not isinstance(table, Mapping):
                raise error(settings.name, definition_id, "must be a table")
            if protected & set(table):
                raise error(settings.name, definition_id, f"settings may not change {', '.join(sorted(protected))}")
            name, data = raw[definition_id]
            raw[definition_id] = (f"{name} + {settings.name}", deep_merge(data, table))
    return {did: parse(data, name) for did, (name, data) in raw.items()}


def configured_directories(builtin: Path, dirs_variable: str, settings_variable: str) -> tuple[list[Path], Path | None]:
    """The built-in directory, then any named in ``dirs_variable`` (os.pathsep-separated);
    the settings file named in ``settings_variable``."""
    dirs = [builtin]
    extra = os.environ.get(dirs_variable, "")
    dirs.extend(Path(p) for p in extra.split(os.pathsep) if p.strip())
    settings = os.environ.get(settings_variable, "").strip()
    return dirs, (Path(settings) if settings else None)


Loaded = TypeVar("Loaded")


class LoadedOnce(Generic[Loaded]):
    """Definitions read from their files once, on first use, by one thread; :meth:`forget` makes
    the next use read them again (after a settings file changed)."""

    def __init__(self, load: Callable[[], Loaded]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._value: Loaded | None = None

    def get(self) -> Loaded:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._load()
                value = self._value
        return value

    def forget(self) -> None:
        with self._lock:
            self._value = None
