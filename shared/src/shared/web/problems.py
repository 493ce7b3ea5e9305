"""Errors as problem details (RFC 9457): a stable `type`, a translated `title`, and the offending fields.

The domain raises `shared.errors` (plain Python); this module is the JSON edge's mapping of them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
)
from shared.web.i18n import negotiate_language, translate

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_JSON",
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "TooManyRequests",
    "Unauthorized",
    "domain_problem",
    "field_errors",
    "install_problem_handlers",
    "problem",
    "problem_errors",
]

PROBLEM_BASE = "https://kunnskapsportalen.no/problems/"
PROBLEM_JSON = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str, instance: str, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail, "instance": instance}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def field_errors(errors: list[Any], language: str) -> list[dict[str, str]]:
    """One entry per broken rule of a pydantic error list: the field's dotted path, the rule, a translated message."""
    result = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
        rule = str(error.get("type", "invalid"))
        context = error.get("ctx") or {}
        result.append(
            {
                "field": ".".join(location) or "<body>",
                "rule": rule,
                "message": translate(f"rule.{rule}", language, default=str(error.get("msg", rule)), **context),
            }
        )
    return result


def problem_errors(problems: tuple[FieldProblem, ...] | list[FieldProblem], language: str) -> list[dict[str, str]]:
    """The domain's field problems as the API's `errors`, each message in the caller's language."""
    return [
        {"field": p.field, "rule": p.rule,
         "message": translate(f"rule.{p.rule}", language, default=p.message, **dict(p.params))}
        for p in problems
    ]


async def domain_problem(request: Request, exc: DomainError) -> JSONResponse:
    """A domain error as problem details in the caller's language."""
    language = negotiate_language(request)
    extra: dict[str, Any] = dict(exc.extra)
    if isinstance(exc, InvalidInput):
        extra["errors"] = problem_errors(exc.problems, language)
    elif exc.field:
        extra["errors"] = [{"field": exc.field, "rule": exc.code, "message": exc.detail}]
    return problem(
        exc.status, exc.code, translate(f"problem.{exc.code}", language, default=exc.code), exc.detail,
        request.url.path, **extra,
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        language = negotiate_language(request)
        errors = field_errors(list(exc.errors()), language)
        return problem(
            422, "validation", translate("problem.validation", language),
            "; ".join(f"{e['field']}: {e['message']}" for e in errors), request.url.path, errors=errors,
        )

    app.add_exception_handler(DomainError, domain_problem)  # type: ignore[arg-type]

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        language = negotiate_language(request)
        code = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, f"http-{exc.status_code}"
        )
        return problem(
            exc.status_code, code, translate(f"problem.{code}", language, default=str(exc.detail)),
            str(exc.detail), request.url.path,
        )
