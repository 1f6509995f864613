"""Course protocols as data: sessions, cadence, phases, phase tasks and measures.

    >>> from interpersonal.core import protocols
    >>> dit = protocols.get("dit")
    >>> [(p.id, first, last) for p, first, last in dit.phase_ranges(16)]
    [('initial', 1, 4), ('middle', 5, 12), ('ending', 13, 16)]
    >>> dit.phase_for(attended=4, planned_sessions=16).id
    'middle'
    >>> dit.has_feature("ipaf"), dit.letters
    (True, ('goodbye', 'gp_discharge'))
    >>> dit.is_treatment(1, 16)
    True

Definitions live in ``definitions/*.toml`` (schema: definitions/README.md). A service adds
protocols with ``INTERPERSONAL_PROTOCOLS_DIRS`` and changes values (unconfirmed phase
lengths, say) with ``INTERPERSONAL_PROTOCOLS_SETTINGS``; call :func:`reload` after
changing either. Values whose source is unconfirmed are listed by
:meth:`Protocol.unconfirmed`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from interpersonal.core._definitions import deep_merge

from ._errors import DefinitionError, ProtocolError, UnknownProtocol, UnknownTask
from ._loader import (
    BUILTIN_DIR,
    CADENCES,
    STEPS,
    THERAPIES,
    configured_directories,
    load_directories,
    parse,
    read_toml,
)
from ._model import (
    DEFAULT_LETTERS,
    FEATURES,
    LETTERS,
    NOTE_TEMPLATE_MAX,
    REST,
    Cadence,
    Phase,
    PhaseRange,
    Protocol,
    Sourced,
    Task,
)

__all__ = [
    "BUILTIN_DIR",
    "CADENCES",
    "DEFAULT_LETTERS",
    "FEATURES",
    "LETTERS",
    "NOTE_TEMPLATE_MAX",
    "REST",
    "STEPS",
    "THERAPIES",
    "Cadence",
    "DefinitionError",
    "Phase",
    "PhaseRange",
    "Protocol",
    "ProtocolError",
    "Sourced",
    "Task",
    "UnknownProtocol",
    "UnknownTask",
    "catalogue",
    "generation",
    "get",
    "having",
    "load_file",
    "reload",
]

_lock = threading.Lock()
_loaded: dict[str, Protocol] | None = None
_generation = 0


def _catalogue() -> dict[str, Protocol]:
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                dirs, settings = configured_directories()
                _loaded = dict(sorted(load_directories(dirs, settings).items()))
    return _loaded


def reload() -> None:
    """Forget the loaded catalogue; the next call reads the definition files again."""
    global _loaded, _generation
    with _lock:
        _loaded = None
        _generation += 1


def generation() -> int:
    """A number that changes whenever the catalogue is reloaded (for caches of what it holds)."""
    return _generation


def having(feature: str) -> tuple[Protocol, ...]:
    """The protocols whose courses have ``feature`` (a key of :data:`FEATURES`), by id."""
    return tuple(p for p in _catalogue().values() if p.has_feature(feature))


def catalogue() -> tuple[Protocol, ...]:
    """Every protocol, ordered by id."""
    return tuple(_catalogue().values())


def get(protocol_id: str) -> Protocol:
    """The protocol with this id; :class:`UnknownProtocol` if there is none."""
    cat = _catalogue()
    try:
        return cat[protocol_id]
    except (KeyError, TypeError):
        raise UnknownProtocol(str(protocol_id), tuple(cat)) from None


def load_file(path: str | Path, overrides: Mapping[str, object] | None = None) -> Protocol:
    """Load and validate one definition file without adding it to the catalogue;
    ``overrides`` are merged in as a settings file would be."""
    p = Path(path)
    data = read_toml(p)
    if overrides:
        data = deep_merge(data, overrides)
    return parse(data, p.name)
