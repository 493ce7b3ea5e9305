"""Intake: a region's rounds, the proposals they receive, their screening, ingestion from other regions, analysis."""

from pathlib import Path

from shared.i18n import register_catalogue

register_catalogue(Path(__file__).resolve().parents[2] / "locale", "intake")
