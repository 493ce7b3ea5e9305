"""Exports of the analysis: XLSX with real numbers, CSV for Norwegian Excel, accessible SVG charts, and the page."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook

from intake.analysis.exports import ExportTable, bar_chart_svg
from intake.analysis.model import Row
from tests.intake.analysis.conftest import BACKENDS, secretariat, token

ROUND = {"region": "vest", "round": "vest-2019-haust"}
SVG = "{http://www.w3.org/2000/svg}"


@BACKENDS
async def test_xlsx_has_one_sheet_per_table_with_numeric_cells_and_a_bold_computed_total(client):
    response = await client.get("/api/intake/v1/analysis.xlsx", params=ROUND, headers=secretariat())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert response.headers["content-disposition"] == 'attachment; filename="analyse-vest-vest-2019-haust.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Enhet", "Etat", "Tema"]
    for sheet, data_rows in (("Enhet", 6), ("Etat", 9), ("Tema", 15)):
        rows = list(workbook[sheet].iter_rows())
        header, data, total = rows[0], rows[1:-1], rows[-1]
        assert header[1].value == "Antall forslag" and header[0].font.bold
        assert len(data) == data_rows
        counts = [row[1].value for row in data]
        assert all(row[1].data_type == "n" for row in data) and all(isinstance(c, int) for c in counts)
        assert total[0].value == "Totalsum" and total[0].font.bold and total[1].font.bold
        assert total[1].data_type == "n" and total[1].value == 66
        assert sum(c for c in counts if isinstance(c, int)) == 66
    assert workbook["Enhet"]["A2"].value == "Bergen" and workbook["Enhet"]["B2"].value == 38


async def test_xlsx_headings_follow_the_language(client):
    response = await client.get("/api/intake/v1/analysis.xlsx", params={**ROUND, "lang": "nn"}, headers=secretariat())
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Eining", "Etat", "Tema"]
    assert workbook["Tema"]["A1"].value == "Tema / føremål" and workbook["Tema"]["B1"].value == "Tal på forslag"


async def test_csv_is_semicolon_separated_utf8_with_a_bom_and_crlf_and_parses_back(client):
    response = await client.get(
        "/api/intake/v1/analysis.csv", params={**ROUND, "table": "by_theme"}, headers=secretariat()
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="analyse-vest-vest-2019-haust-tema.csv"'
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == ["Tema / formål", "Antall forslag", "Kode"]
    parsed = {label: int(count) for label, count, _code in rows[1:]}
    assert parsed["Forebygging/helsefremming"] == 13 and parsed["Ernæring"] == 3
    assert sum(parsed.values()) == 66 and len(parsed) == 15


async def test_csv_needs_a_known_table(client):
    response = await client.get("/api/intake/v1/analysis.csv", params={**ROUND, "table": "nope"}, headers=secretariat())
    assert response.status_code == 422


@pytest.mark.parametrize("table", ["by_unit", "by_service_area", "by_theme"])
async def test_svg_chart_is_well_formed_with_a_title_description_and_one_bar_per_row(client, table):
    response = await client.get(f"/api/intake/v1/analysis/{table}.svg", params=ROUND, headers=secretariat())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.text)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("aria-label")
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text and desc is not None and "66" in (desc.text or "")
    analysis = (await client.get("/api/intake/v1/analysis", params=ROUND, headers=secretariat())).json()
    assert len(root.findall(f".//{SVG}rect")) == len(analysis[table])


def test_svg_escapes_labels_and_copes_with_an_empty_table():
    table = ExportTable("T", "A & B <i>", "Label", "Count", "Total", "Code", [Row("x", "Ost & <brød>", 3)])
    root = ET.fromstring(bar_chart_svg(table, "c", 'desc "quoted" & more'))
    assert root.find(f"{SVG}title").text == "A & B <i>"  # type: ignore[union-attr]
    empty = ExportTable("T", "Empty", "Label", "Count", "Total", "Code", [])
    assert ET.fromstring(bar_chart_svg(empty, "e", "none")).findall(f".//{SVG}rect") == []


async def test_page_shows_each_table_with_its_chart_total_and_downloads(client):
    response = await client.get("/intake/vest/analysis", params={"round": "vest-2019-haust"},
                                cookies={"kp_session": token()})
    assert response.status_code == 200
    page = response.text
    assert page.count('role="img"') == 3 and page.count("<table") == 3
    assert page.count("Totalsum") >= 3 and ">66<" in page and "Meland" in page
    assert "/api/intake/v1/analysis.xlsx?region=vest&amp;round=vest-2019-haust" in page
    assert "table=by_theme" in page


async def test_page_in_nynorsk_and_with_a_bad_date_shows_an_error_summary(client):
    response = await client.get("/intake/vest/analysis", params={"lang": "nn", "from": "15.08.2019"},
                                cookies={"kp_session": token()})
    assert response.status_code == 200
    assert "Tal på forslag" in response.text and 'lang="nn"' in response.text
    assert 'href="#f-from"' in response.text and 'aria-invalid="true"' in response.text


def test_a_chart_of_many_rows_shows_the_largest_and_one_bar_for_the_rest():
    rows = [Row(f"{9000 + i}", f"Kommune {i}", 100 - i) for i in range(30)]
    table = ExportTable("Enhet", "Forslag", "Enhet", "Antall", "Totalsum", "Kode", rows)
    root = ET.fromstring(bar_chart_svg(table, "c", "d", max_bars=25, rest_label="Andre (6 rader)"))
    bars = root.findall(f".//{SVG}g")
    assert len(bars) == 25
    assert bars[-1].find(f"{SVG}title").text == f"Andre (6 rader): {sum(r.count for r in rows[24:])}"  # type: ignore[union-attr]
