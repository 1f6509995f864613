"""Validated questionnaires as data, scored by one engine.

    >>> from interpersonal.core import measures
    >>> s = measures.score("phq9", {"1": 2, "2": 1, "3": 1, "4": 2, "5": 0, "6": 1, "7": 1, "8": 0, "9": 0})
    >>> s.total, s.severity, s.caseness
    (8, 'Mild', False)

Definitions live in ``definitions/*.toml`` (schema: docs/measures.md). A service adds
instruments with ``INTERPERSONAL_MEASURES_DIRS`` and changes documented settings with
``INTERPERSONAL_MEASURES_SETTINGS``; call :func:`reload` after changing either.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from interpersonal.core._definitions import deep_merge

from ._engine import Answers, Compiled, change_between, score_compiled, total_score
from ._errors import DefinitionError, InvalidAnswers, MeasuresError, UnknownInstrument
from ._loader import BUILTIN_DIR, configured_directories, load_directories, parse, read_toml
from ._model import (
    Band,
    Change,
    Codes,
    Direction,
    Group,
    Instrument,
    Item,
    ItemVariant,
    JacobsonTruax,
    Licence,
    MissingRule,
    Option,
    ReliableChange,
    Respondent,
    RiskItem,
    Score,
    Scoring,
    Sourced,
    Subscale,
    Threshold,
)
from ._serialize import instrument_dict, missing_summary, scoring_summary

__all__ = [
    "BUILTIN_DIR",
    "Answers",
    "Band",
    "Change",
    "Codes",
    "DefinitionError",
    "Direction",
    "Group",
    "Instrument",
    "InvalidAnswers",
    "Item",
    "ItemVariant",
    "JacobsonTruax",
    "Licence",
    "MeasuresError",
    "MissingRule",
    "Option",
    "ReliableChange",
    "Respondent",
    "RiskItem",
    "Score",
    "Scoring",
    "Sourced",
    "Subscale",
    "Threshold",
    "UnknownInstrument",
    "catalogue",
    "change",
    "change_totals",
    "get",
    "instrument_dict",
    "load_file",
    "missing_summary",
    "reload",
    "score",
    "scoring_summary",
]

_lock = threading.Lock()
_compiled: dict[str, Compiled] | None = None


def _catalogue() -> dict[str, Compiled]:
    global _compiled
    if _compiled is None:
        with _lock:
            if _compiled is None:
                dirs, settings = configured_directories()
                _compiled = {i: Compiled(inst) for i, inst in sorted(load_directories(dirs, settings).items())}
    return _compiled


def reload() -> None:
    """Forget the loaded catalogue; the next call reads the definition files again."""
    global _compiled
    with _lock:
        _compiled = None


def catalogue() -> tuple[Instrument, ...]:
    """Every instrument, ordered by id."""
    return tuple(c.instrument for c in _catalogue().values())


def _compiled_for(instrument_id: str) -> Compiled:
    cat = _catalogue()
    try:
        return cat[instrument_id]
    except (KeyError, TypeError):
        raise UnknownInstrument(str(instrument_id), tuple(cat)) from None


def get(instrument_id: str) -> Instrument:
    """The instrument with this id; :class:`UnknownInstrument` if there is none."""
    return _compiled_for(instrument_id).instrument


def score(instrument_id: str, answers: Answers) -> Score:
    """Score one answer set: ``{"1": 2, "2": 0, ...}``; a missing key or None is a missing item."""
    return score_compiled(_compiled_for(instrument_id), answers)


def change(instrument_id: str, before: Answers | Score, after: Answers | Score) -> Change:
    """Change from ``before`` to ``after`` (answer sets, or Scores of this instrument)."""
    compiled = _compiled_for(instrument_id)

    def as_score(x: Answers | Score) -> Score:
        if isinstance(x, Score):
            if x.instrument != instrument_id:
                raise InvalidAnswers(instrument_id, "(all)", f"a score of {x.instrument} is not a score of {instrument_id}")
            return x
        return score_compiled(compiled, x)

    return change_between(compiled.instrument, as_score(before), as_score(after))


def change_totals(instrument_id: str, before: float, after: float) -> Change:
    """Change between two stored totals of one instrument."""
    inst = get(instrument_id)
    return change_between(inst, total_score(inst, before), total_score(inst, after))


def load_file(path: str | Path, overrides: Mapping[str, object] | None = None) -> Instrument:
    """Load and validate one definition file without adding it to the catalogue.

    ``overrides`` are merged into the definition as a settings file would be: nested
    tables key by key (``{"missing": {"rounding": "none"}}`` changes only the rounding).
    """
    p = Path(path)
    data = read_toml(p)
    if overrides:
        data = deep_merge(data, overrides)
    return parse(data, p.name)
