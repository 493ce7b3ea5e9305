"""The secretariat's analysis page in Chromium: the 2019 round as the seed reports it, with computed totals,
charts beside their tables, working exports, and no accessibility violations."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.browser.accessibility import assert_accessible

ANALYSIS_2019 = "/intake/vest/analysis?round=vest-2019-haust"


@pytest.fixture(scope="module")
def seeded_2019(base_url: str, system_env: dict[str, str]) -> None:
    seeded = subprocess.run(
        [sys.executable, "-m", "kp_cli.main", "seed", "demo-2019"],
        env=system_env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert seeded.returncode == 0, seeded.stderr


def sign_in_as_secretariat(page: Any) -> None:
    response = page.request.post("/api/registry/v1/dev/login", data={"user": "sekretariat-vest"})
    assert response.status == 200


def test_analysis_requires_the_secretariat(page: Any, seeded_2019: None) -> None:
    response = page.goto(ANALYSIS_2019)
    assert response is not None and response.status == 401


def test_the_2019_analysis_shows_the_seed_rows_and_the_computed_total(page: Any, seeded_2019: None) -> None:
    sign_in_as_secretariat(page)
    page.goto(ANALYSIS_2019 + "&lang=nb")
    tables = page.locator("table")
    assert tables.count() == 3
    unit_rows = {
        row.locator("th, td").first.inner_text().strip(): row.locator("td").last.inner_text().strip()
        for row in tables.nth(0).locator("tbody tr").all()
    }
    assert unit_rows == {
        "Bergen": "38", "Osterøy": "9", "Meland": "8", "USHT Hordaland": "5", "Vaksdal": "5", "Os": "1",
    }
    for index in range(3):
        assert "66" in tables.nth(index).locator("tfoot").inner_text()
    assert page.locator("svg[role=img]").count() == 3
    assert_accessible(page)


def test_the_xlsx_export_holds_real_numbers(page: Any, seeded_2019: None) -> None:
    sign_in_as_secretariat(page)
    page.goto(ANALYSIS_2019 + "&lang=nn")
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="XLSX", exact=False).first.click()
    # Playwright saves downloads without an extension, which openpyxl refuses as a path: read the bytes.
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    counts = [row[1] for row in workbook.worksheets[1].iter_rows(min_row=2, values_only=True) if row[0] != "Totalsum"]
    assert all(isinstance(count, int) for count in counts)
    assert sum(counts) == 66
