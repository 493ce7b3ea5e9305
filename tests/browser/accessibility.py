"""axe-core (bundled by axe_playwright_python) on a rendered page: WCAG 2.1 A and AA rules."""

from __future__ import annotations

import json
from typing import Any

from axe_playwright_python.sync_playwright import Axe

_AXE = Axe()
OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}


def violations(page: Any) -> list[dict[str, Any]]:
    result = _AXE.run(page, options=OPTIONS)
    return list(result.response.get("violations", []))


def assert_accessible(page: Any) -> None:
    found = violations(page)
    summary = [
        {"id": v["id"], "impact": v.get("impact"), "help": v.get("help"),
         "targets": [node.get("target") for node in v.get("nodes", [])][:5]}
        for v in found
    ]
    assert found == [], f"axe violations on {page.url}:\n{json.dumps(summary, indent=2, ensure_ascii=False)}"
