"""The five services as the composition root sees them: how to build, configure and migrate each."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from shared.settings import ServiceSettings

SERVICE_NAMES = ("intake", "scoring", "ordering", "registry", "notify")


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    create_app: Callable[..., FastAPI]
    settings_class: type[ServiceSettings]
    migrations: Path

    def settings(self, **overrides: Any) -> ServiceSettings:
        return self.settings_class(**overrides)


def service(name: str) -> ServiceEntry:
    """Import one service by name (`<name>.app.create_app`, `<name>.settings.<Name>Settings`)."""
    if name not in SERVICE_NAMES:
        raise KeyError(f"unknown service {name!r}; choose one of {', '.join(SERVICE_NAMES)}")
    app_module = importlib.import_module(f"{name}.app")
    settings_module = importlib.import_module(f"{name}.settings")
    settings_class = getattr(settings_module, f"{name.capitalize()}Settings")
    return ServiceEntry(name, app_module.create_app, settings_class, app_module.MIGRATIONS)


def service_settings(name: str) -> ServiceSettings:
    """One service's settings without importing its app (operators' commands that only read its database)."""
    if name not in SERVICE_NAMES:
        raise KeyError(f"unknown service {name!r}; choose one of {', '.join(SERVICE_NAMES)}")
    settings_class: type[ServiceSettings] = getattr(
        importlib.import_module(f"{name}.settings"), f"{name.capitalize()}Settings"
    )
    return settings_class()


def all_services() -> list[ServiceEntry]:
    return [service(name) for name in SERVICE_NAMES]
