"""The shape every service shares, checked: boundaries (import-linter), short functions, module-level routers,
and a domain that loads no framework."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "shared" / "src", ROOT / "cli" / "src", *sorted((ROOT / "services").glob("*/src"))]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_FUNCTION_LINES = 80


def _python_files() -> list[Path]:
    return [f for source in SOURCES for f in source.rglob("*.py")]


def _lint_imports(*source_roots: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in source_roots)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300,
        check=False,
    )


def test_every_import_contract_is_kept() -> None:
    result = _lint_imports(*SOURCES)
    assert result.returncode == 0, result.stdout[-3000:]


def test_a_planted_import_of_another_service_breaks_the_build_with_the_rule_s_name(tmp_path: Path) -> None:
    copies = []
    for source in SOURCES:
        target = tmp_path / source.relative_to(ROOT)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static"))
        copies.append(target)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    planted = tmp_path / "services" / "ordering" / "src" / "ordering" / "planted.py"
    planted.write_text("from intake.app import create_app\n", encoding="utf-8")

    result = _lint_imports(*copies, cwd=tmp_path)

    assert result.returncode != 0
    assert "Services are independent: no service imports another BROKEN" in result.stdout
    assert "ordering.planted -> intake.app" in result.stdout


def test_no_function_is_longer_than_80_lines() -> None:
    long = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_no_function_builds_a_router() -> None:
    built_inside = []
    for path in _python_files():
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in {
                    "APIRouter", "NatsRouter",
                }:
                    built_inside.append(f"{path.relative_to(ROOT)}:{node.lineno} in {function.name}")
    assert built_inside == []


def test_importing_a_feature_model_loads_no_framework() -> None:
    models = sorted(
        ".".join(path.relative_to(source).with_suffix("").parts)
        for source in SOURCES[2:]
        for path in source.rglob("model.py")
    )
    assert "intake.proposals.model" in models and len(models) >= 8
    frameworks = ["fastapi", "starlette", "faststream", "sqlalchemy", "pydantic_settings", "jinja2", "nats"]
    check = (
        f"import importlib, sys\nfor name in {models!r}:\n    importlib.import_module(name)\n"
        f"print(sorted(m for m in {frameworks!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
