"""Errors raised by the measures library.

    MeasuresError
    ├── DefinitionError     a definition file is malformed (the message names the file and field)
    ├── UnknownInstrument   no instrument with that id (also a LookupError)
    └── InvalidAnswers      an answer set cannot be scored as given (also a ValueError);
                            names the item and the values it allows

Too many *missing* answers is not an error: the score comes back with
``complete=False`` and ``total=None``, saying why in ``reason``.
"""

from __future__ import annotations


class MeasuresError(Exception):
    """Base class of every error the measures library raises."""


class DefinitionError(MeasuresError):
    """An instrument definition (or a settings override) is invalid."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        super().__init__(f"{source}: {field}: {problem}")


class UnknownInstrument(MeasuresError, LookupError):
    """No instrument with the requested id is in the catalogue."""

    def __init__(self, instrument_id: str, known: tuple[str, ...] = ()) -> None:
        self.instrument_id = instrument_id
        hint = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown instrument {instrument_id!r}{hint}")


class InvalidAnswers(MeasuresError, ValueError):
    """An answer names an unknown item or holds a value the item does not allow."""

    def __init__(self, instrument_id: str, item: str, problem: str) -> None:
        self.instrument_id = instrument_id
        self.item = item
        self.problem = problem
        super().__init__(f"{instrument_id} item {item}: {problem}")
