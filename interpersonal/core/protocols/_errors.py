"""Errors raised by the protocols library.

    ProtocolError
    ├── DefinitionError     a protocol file (or a settings override) is malformed;
    │                       the message names the file and the field
    ├── UnknownProtocol     no protocol with that id (also a LookupError)
    ├── UnknownTask         no task with that id in the protocol (also a LookupError)
    └── (ProtocolError)     itself, for a course that does not fit the protocol:
                            a planned session count outside [min, max], a negative
                            attended count
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of every error the protocols library raises."""


class DefinitionError(ProtocolError):
    """A protocol definition (or a settings override) is invalid."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        super().__init__(f"{source}: {field}: {problem}")


class UnknownProtocol(ProtocolError, LookupError):
    """No protocol with the requested id is in the catalogue."""

    def __init__(self, protocol_id: str, known: tuple[str, ...] = ()) -> None:
        self.protocol_id = protocol_id
        hint = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown protocol {protocol_id!r}{hint}")


class UnknownTask(ProtocolError, LookupError):
    """The protocol has no task with the requested id."""

    def __init__(self, protocol_id: str, task_id: str) -> None:
        self.protocol_id = protocol_id
        self.task_id = task_id
        super().__init__(f"protocol {protocol_id!r} has no task {task_id!r}")
