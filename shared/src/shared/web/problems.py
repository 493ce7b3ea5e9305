"""Errors as problem details (RFC 9457): a stable `type`, a translated `title`, and the offending fields."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.web.i18n import negotiate_language, translate

PROBLEM_BASE = "https://kunnskapsportalen.no/problems/"
PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """A rule of the domain refused the request. Subclasses set the status, a stable code and a title key."""

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


def problem(status: int, code: str, title: str, detail: str, instance: str, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail, "instance": instance}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def field_errors(errors: list[Any], language: str) -> list[dict[str, str]]:
    """One entry per broken rule: the field's dotted path, the rule's stable id, a translated message."""
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


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        language = negotiate_language(request)
        errors = field_errors(list(exc.errors()), language)
        return problem(
            422, "validation", translate("problem.validation", language),
            "; ".join(f"{e['field']}: {e['message']}" for e in errors), request.url.path, errors=errors,
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        language = negotiate_language(request)
        extra: dict[str, Any] = dict(exc.extra)
        if exc.field:
            extra["errors"] = [{"field": exc.field, "rule": exc.code, "message": exc.detail}]
        return problem(
            exc.status, exc.code, translate(f"problem.{exc.code}", language, default=exc.code), exc.detail,
            request.url.path, **extra,
        )

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
