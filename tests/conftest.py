"""Fixtures every test layer may use. Layer-specific fixtures live in the layer's own conftest."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# `tests.support` is imported by absolute name (ruff knows `tests` as first-party); the pytest script does not
# put the repository root on sys.path by itself.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Settings default to production, which refuses the dev secret; tests run in the test environment
# unless a test asks for dev (the dev login) itself.
os.environ.setdefault("KP_ENV", "test")

from kp_cli.nats_server import free_port  # noqa: E402
from tests.support.waiting import eventually as _eventually  # noqa: E402


@pytest.fixture
def unused_port() -> Callable[[], int]:
    """A factory of free TCP ports on 127.0.0.1 (a test never uses a default port such as 4222 or 5432)."""
    return free_port


@pytest.fixture
def eventually() -> Callable[..., object]:
    """`await eventually(condition, timeout=...)`: poll with a deadline instead of sleeping."""
    return _eventually
