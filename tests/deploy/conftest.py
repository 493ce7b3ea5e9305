"""Fixtures of the deploy tests: every overlay rendered by the Python resolver and, where one exists, by kustomize."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.deploy.rendering import COMPOSE_DIR, OVERLAYS, Rendered, kustomize_command, rendered

RENDERERS = [
    "python",
    pytest.param(
        "kustomize",
        marks=pytest.mark.skipif(kustomize_command() is None, reason="neither kustomize nor kubectl on PATH"),
    ),
]


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=RENDERERS)
def renderer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def render(overlay: str, renderer: str) -> Rendered:
    """Every overlay, rendered by the Python resolver and, where one exists, by kustomize itself."""
    return rendered(overlay, renderer)


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="session")
def compose_cluster() -> dict[str, Any]:
    document = yaml.safe_load((COMPOSE_DIR / "compose.nats-cluster.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document
