"""The settings of a running `kp run`, shared with the `kp` commands started beside it.

`kp run` writes `var/kp-run.env` (its broker URL, data folder and dev environment) while it runs and removes
it when it stops. Any other `kp` command started in the same folder (or with the same KP_VAR_DIR) reads it
first, so `kp seed demo-2019` in a second terminal works on the running system without setting anything.
Variables already set in the environment win.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

FILE_NAME = "kp-run.env"


def path(var_dir: Path | None = None) -> Path:
    return (var_dir or Path(os.environ.get("KP_VAR_DIR", "var"))) / FILE_NAME


def write(var_dir: Path, values: Mapping[str, str]) -> Path:
    target = path(var_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# Written by `kp run` (pid {os.getpid()}); removed when it stops."]
    lines += [f"{key}={value}" for key, value in values.items()]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def load(var_dir: Path | None = None) -> dict[str, str]:
    """Set the running system's values that the environment does not set already; returns those it set."""
    target = path(var_dir)
    if not target.is_file():
        return {}
    applied: dict[str, str] = {}
    for line in target.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if not sep or line.startswith("#") or not key.startswith("KP_"):
            continue
        if key not in os.environ:
            os.environ[key] = value
            applied[key] = value
    return applied
