"""`kp intake validate` lets a region test its adapter offline: a report per row, exit code 1 if any is invalid."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kp_cli.main import app as kp
from tests.intake.ingestion.conftest import EXAMPLE_CSV, EXAMPLE_EVENT, event


def run(*args: str):
    return CliRunner().invoke(kp, ["intake", "validate", *args])


def test_the_example_csv_has_three_valid_and_two_invalid_rows():
    result = run(str(EXAMPLE_CSV), "--region", "vest", "--json")

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [(r["row"], r["status"]) for r in report] == [
        (2, "valid"), (3, "valid"), (4, "valid"), (5, "invalid"), (6, "invalid"),
    ]
    reasons = {(x["field"], x["rule"]) for x in report[3]["reasons"]}
    assert reasons == {("title", "missing"), ("proposer_email", "value_error")}


def test_the_table_names_rows_and_reasons():
    result = run(str(EXAMPLE_CSV), "--region", "vest")
    assert result.exit_code == 1
    assert "3 valid, 2 invalid" in result.output
    assert "BGO-2026-0105" in result.output and "unknown-municipality" in result.output


def test_the_example_event_is_valid():
    result = run(str(EXAMPLE_EVENT))
    assert result.exit_code == 0, result.output
    assert "1 valid" in result.output


def test_a_batch_with_one_bad_event_fails_naming_its_field(tmp_path: Path):
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([event("A-1"), event("A-2", question={"population": "x"}), event("A-1")]))

    result = run(str(batch), "--json")

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [r["status"] for r in report] == ["valid", "invalid", "duplicate"]
    fields = {x["field"] for x in report[1]["reasons"]}
    assert {"data.question.population", "data.question.intervention", "data.question.outcome"} <= fields


def test_a_submission_for_another_region_is_invalid(tmp_path: Path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event("A-3")))
    result = run(str(path), "--region", "nord", "--json")
    assert result.exit_code == 1
    assert {x["rule"] for x in json.loads(result.output)[0]["reasons"]} == {"region_mismatch"}


def test_an_unreadable_file_fails_with_the_reason(tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"external_id;title\n\xff\xfe")
    result = run(str(path))
    assert result.exit_code == 1
    assert "UTF-8" in result.output


def test_a_row_for_another_region_names_the_region_column(tmp_path: Path):
    text = EXAMPLE_CSV.read_text(encoding="utf-8-sig").splitlines()
    path = tmp_path / "nord.csv"
    path.write_text("\n".join([text[0] + ";region", text[1] + ";nord"]), encoding="utf-8")

    result = run(str(path), "--region", "vest", "--json")

    assert result.exit_code == 1
    [reason] = json.loads(result.output)[0]["reasons"]
    assert (reason["field"], reason["rule"]) == ("region", "region_mismatch") and "'nord'" in reason["message"]
