"""The whole system (`kp run`: nats-server from the wheel, SQLite, the embedded gateway) on free ports, and
Debian's Chromium driven by Playwright. The browser is never downloaded: without /usr/bin/chromium the
tests are skipped with the command that installs it (`make browser-deps`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kp_cli.nats_server import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def system_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the `kp run` under test, for `kp` commands (seeds) against the same data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KP_", "OTEL_"))}
    env.update(KP_ENV="dev", KP_VAR_DIR=str(tmp_path_factory.mktemp("browser-system")), OTEL_SDK_DISABLED="true")
    return env


@pytest.fixture(scope="session")
def base_url(system_env: dict[str, str]) -> Iterator[str]:
    """`kp run` as a subprocess of ours, on a free port with its own var directory; stopped by its PID."""
    var_dir = Path(system_env["KP_VAR_DIR"])
    port = free_port()
    env = dict(system_env)
    env.update(
        KP_PORT=str(port), KP_HOST="127.0.0.1", KP_NATS_PORT=str(free_port()),
        # The suite posts many forms from one address; the limiter itself is tested in tests/web.
        KP_PAGES_FORM_RATE_LIMIT="1000",
    )
    log_path = var_dir / "kp-run.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "kp_cli.main", "run"], env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"kp run exited: {log_path.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"kp run not ready: {log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Module scope: Playwright's sync API keeps an event loop running in this thread while it is open, which
    # pytest-asyncio's tests that run after the browser tests must not find.
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: run `make browser-deps` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: object, base_url: str) -> Iterator[object]:
    """A fresh context per test: no cookies (language, CSRF) carried from another test."""
    context = browser.new_context(base_url=base_url, locale="en-GB")  # type: ignore[attr-defined]
    # Offline apart from our own server: the pages must not need anything from the internet.
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base_url) else route.abort())
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()
