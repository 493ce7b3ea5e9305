"""`kp` says what is wrong with the infrastructure in one line, not a traceback; and finds a running `kp run`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kp_cli import run_env
from kp_cli.nats_server import free_port


def kp(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KP_")}
    return subprocess.run(
        [sys.executable, "-m", "kp_cli.main", *args], cwd=cwd, env={**clean, **env}, capture_output=True,
        text=True, timeout=120, check=False,
    )


def test_no_broker_is_one_line_naming_the_url(tmp_path: Path) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    result = kp("nats", "bootstrap", "--url", url, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"kp: no NATS server answers at {url} (is `make run` or nats-server running? set KP_NATS_URL or --url)"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_production_settings_without_a_secret_say_what_to_do(tmp_path: Path) -> None:
    result = kp("seed", "demo", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("kp: the settings were refused: KP_AUTH_SECRET must be set")
    assert "var/kp-run.env" in line and "KP_ENV=dev" in line


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://kp:kp@127.0.0.1:{free_port()}/intake"
    result = kp("seed", "demo", cwd=tmp_path, KP_ENV="dev", KP_INTAKE_DATABASE_URL=url)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("kp: ") and "refused" in line


def test_a_command_beside_kp_run_takes_its_settings_from_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("KP_ENV", "KP_NATS_URL", "KP_VAR_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    run_env.write(tmp_path / "var", {"KP_ENV": "dev", "KP_NATS_URL": "nats://127.0.0.1:1"})
    monkeypatch.setenv("KP_NATS_URL", "nats://set-by-the-user:4222")

    applied = run_env.load()

    assert applied == {"KP_ENV": "dev"}
    assert os.environ["KP_NATS_URL"] == "nats://set-by-the-user:4222"
