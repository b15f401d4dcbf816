"""The one error a service raises when it refuses something: a stable `code` for machines, a
`message` a person can act on (in their language), and a `kind` that says what sort of refusal
it is. No HTTP here: each API turns the kind into a status in one place
(`core.problems.STATUS_OF_KIND`), and views turn the error into a form error or a message."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    INVALID = "invalid"  # what was asked is wrong in itself; asking again changes nothing
    NOT_FOUND = "not_found"  # no such thing, or not one of the caller's
    CONFLICT = "conflict"  # not in the state it would have to be in, now
    FORBIDDEN = "forbidden"  # known, but not allowed to this caller
    GONE = "gone"  # it was there and is no more
    TOO_LARGE = "too_large"  # more bytes than the service takes
    TOO_MANY = "too_many"  # too many tries lately; `retry_after` says when to try again
    UNAVAILABLE = "unavailable"  # something the service needs is missing or busy


class ServiceError(Exception):
    """A refused request. `title` names the sort of problem when the message alone does not;
    `errors` points at the fields at fault (`{"field", "message", …}`)."""

    def __init__(
        self,
        code: str,
        message: str,
        kind: Kind,
        *,
        title: str = "",
        errors: list[dict[str, Any]] | None = None,
        retry_after: dt.timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind = kind
        self.title = title
        self.errors = errors or []
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"ServiceError({self.code!r}, {self.message!r}, {self.kind})"
