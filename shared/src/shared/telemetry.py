"""Tracing and JSON logs, configured by the standard OTEL_* variables.

Spans and log lines carry ids, subjects and counts, never a person's name or address.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_providers: dict[str, TracerProvider] = {}


def tracer_provider(service_name: str) -> TracerProvider:
    """The service's tracer provider; exports OTLP/HTTP when an OTLP endpoint is set."""
    if service_name in _providers:
        return _providers[service_name]
    attributes: dict[str, Any] = {"service.name": os.environ.get("OTEL_SERVICE_NAME_PREFIX", "kp-") + service_name}
    provider = TracerProvider(resource=Resource.create(attributes))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(), schedule_delay_millis=500))
    _providers[service_name] = provider
    return provider


def shutdown_tracing() -> None:
    for provider in _providers.values():
        provider.force_flush(5000)
        provider.shutdown()
    _providers.clear()


_SAVEPOINT_STATEMENTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def instrument_app(app: Any, engines: list[Any], service_name: str) -> None:
    """FastAPI and SQLAlchemy spans for one service."""
    from opentelemetry import metrics
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    provider = tracer_provider(service_name)
    # One server span per request; the per-message receive/send spans would triple the count for nothing.
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="livez,readyz", exclude_spans=["receive", "send"]
    )
    # SQLAlchemyInstrumentor is a process-wide singleton that refuses SQLAlchemy 2.1 and would attach
    # only to the first service's engine; its engine tracer, used per engine, does neither.
    class StatementTracer(EngineTracer):
        """Spans for statements, not for the savepoints that bracket every unit of work on SQLite."""

        def _before_cur_exec(self, conn: Any, cursor: Any, statement: str, *args: Any) -> Any:
            if statement.startswith(_SAVEPOINT_STATEMENTS):
                return statement, args[0]
            return super()._before_cur_exec(conn, cursor, statement, *args)

    for engine in engines:
        StatementTracer(
            provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"),
            engine,
            metrics.get_meter("kp.db").create_up_down_counter("db.client.connections.usage"),
        )


def _add_trace_ids(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    span = trace.get_current_span()
    ctx = span.get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


_logging_configured = False


def configure_logging(level: str | None = None) -> None:
    """JSON lines on stderr, with trace_id and span_id; the standard library's loggers go there too."""
    global _logging_configured
    if _logging_configured:
        return
    _logging_configured = True
    level_name = (level or os.environ.get("KP_LOG_LEVEL", "INFO")).upper()
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level_name)),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=shared_processors,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_name)
    # Access logs would repeat every URL; traces already record requests.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
