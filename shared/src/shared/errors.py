"""Domain errors and field problems: plain Python, importable by any `model.py`.

Each edge maps them to its own words: the JSON API to RFC 9457 problem details (`shared.web.problems`), the
pages to an error summary, ingestion to a report per row. `status` is the HTTP status an edge should answer
with; it is a number, not a framework type, so the domain stays free of the web.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class DomainError(Exception):
    """A rule of the domain refused the request. Subclasses set the status, a stable code and, if any, the field."""

    status: int = 400
    code: str = "domain-error"
    field: str | None = None

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if field is not None:
            self.field = field
        self.extra = extra


class NotFound(DomainError):
    status = 404
    code = "not-found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload-too-large"


class TooManyRequests(DomainError):
    status = 429
    code = "rate-limited"


@dataclass(frozen=True)
class FieldProblem:
    """One broken rule: the field as the command names it, the rule's stable code, an English message.

    `params` fill the rule's translated message (`rule.<rule>` in the catalogues), e.g. {"min": 1, "max": 5}.
    """

    field: str
    rule: str
    message: str
    # `dataclasses.field`: the attribute named `field` above hides the plain name inside this class body.
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class InvalidInput(DomainError):
    """Every broken rule of a command at once, so a form can show one error summary."""

    status = 422
    code = "validation"

    def __init__(self, problems: list[FieldProblem] | tuple[FieldProblem, ...]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = tuple(problems)


def raise_problems(problems: list[FieldProblem]) -> None:
    """Raise InvalidInput with every problem found, or nothing when there are none."""
    if problems:
        raise InvalidInput(problems)
