"""Infrastructure errors as one clear line: what is missing, and what to do about it."""

from __future__ import annotations

import errno
import os

from pydantic import ValidationError


def _settings_problem(error: ValidationError) -> str:
    reasons = "; ".join(
        (".".join(str(p) for p in e["loc"]) + ": " if e["loc"] else "") + str(e["msg"]).removeprefix("Value error, ")
        for e in error.errors(include_url=False, include_input=False)
    )
    hint = ""
    if os.environ.get("KP_ENV", "prod") == "prod":
        hint = (" (KP_ENV is prod. Beside a running `make run`, start kp from the same folder so it reads "
                "var/kp-run.env; for a local try-out set KP_ENV=dev)")
    return f"the settings were refused: {reasons}{hint}"


def explain(error: BaseException) -> str | None:
    """One line for an error a user can fix outside the code, or None for a bug (shown as a traceback)."""
    from nats.errors import NoServersError
    from nats.errors import TimeoutError as NatsTimeout
    from sqlalchemy.exc import OperationalError

    if isinstance(error, ValidationError) and error.title.endswith("Settings"):
        return _settings_problem(error)
    if isinstance(error, NoServersError | NatsTimeout):
        notes = [n.removeprefix("nats servers: ") for n in getattr(error, "__notes__", []) if n.startswith("nats")]
        where = notes[0] if notes else os.environ.get("KP_NATS_URL", "nats://127.0.0.1:4222")
        return f"no NATS server answers at {where} (is `make run` or nats-server running? set KP_NATS_URL or --url)"
    if isinstance(error, OperationalError):
        return f"the database cannot be opened: {str(error.orig or error).splitlines()[0]}"
    if isinstance(error, ConnectionRefusedError) or (isinstance(error, OSError) and error.errno == errno.ECONNREFUSED):
        return f"connection refused: {error} (is the service running?)"
    if isinstance(error, FileNotFoundError):
        return f"no such file: {error.filename}"
    return None
