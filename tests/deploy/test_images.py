"""The services' Dockerfiles and the build context they share (the repository root)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.deploy.rendering import BASE, ROOT, SERVICES


def dockerfile(service: str) -> str:
    return (ROOT / "services" / service / "Dockerfile").read_text(encoding="utf-8")


def instructions(text: str, name: str) -> list[str]:
    """Arguments of every instruction `name`, with continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.*)$", joined, re.MULTILINE)]


@pytest.mark.parametrize("service", SERVICES)
def test_image_serves_its_service_on_port_8080(service: str) -> None:
    text = dockerfile(service)
    (cmd,) = instructions(text, "CMD")
    assert json.loads(cmd) == ["kp", "serve", service, "--host", "0.0.0.0", "--port", "8080"]
    assert "HEALTHCHECK" not in re.sub(r"#.*", "", text)


@pytest.mark.parametrize("service", SERVICES)
def test_image_installs_the_locked_workspace_with_pinned_uv(service: str) -> None:
    text = dockerfile(service)
    assert all(base.startswith("python:3.11-slim") for base in instructions(text, "FROM"))
    runs = " ".join(instructions(text, "RUN"))
    assert "pip install --no-cache-dir --disable-pip-version-check uv==0.13.8" in runs
    assert "uv sync --frozen --no-dev" in runs


@pytest.mark.parametrize("service", SERVICES)
def test_image_runs_as_the_non_root_user_kubernetes_expects(service: str) -> None:
    (user,) = instructions(dockerfile(service), "USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0
    deployment = next(
        d for d in yaml.safe_load_all((BASE / "services" / f"{service}.yaml").read_text()) if d["kind"] == "Deployment"
    )
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(uid)


def test_the_five_dockerfiles_differ_only_in_the_service_name() -> None:
    def generic(service: str) -> str:
        # Every Dockerfile copies all five services' pyproject.toml; those lines name each service.
        text = re.sub(r"^COPY services/\w+/pyproject.toml .*$", "", dockerfile(service), flags=re.MULTILINE)
        return text.replace(service, "SERVICE")

    assert len({generic(service) for service in SERVICES}) == 1


def workspace_members() -> list[Path]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    members: list[Path] = []
    for pattern in pyproject["tool"]["uv"]["workspace"]["members"]:
        members += sorted(p for p in ROOT.glob(pattern) if (p / "pyproject.toml").exists())
    return members


@pytest.mark.parametrize("service", SERVICES)
def test_image_copies_every_workspace_member_before_syncing(service: str) -> None:
    """`uv sync --frozen` fails on a workspace member whose pyproject.toml the image lacks."""
    copies = instructions(dockerfile(service), "COPY")
    members = workspace_members()
    assert len(members) >= 7
    for member in members:
        relative = member.relative_to(ROOT).as_posix()
        assert f"{relative}/pyproject.toml {relative}/" in copies, f"{relative}/pyproject.toml not copied"
    assert "pyproject.toml uv.lock ./" in copies


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".tools", "var", "**/__pycache__", ".env"} <= patterns
    # What the Dockerfiles copy must not be ignored.
    for needed in ("shared", "cli", "services", "uv.lock", "pyproject.toml"):
        assert needed not in patterns
