"""Notify: tells proposers what happened to their proposals (receipts, status notices), in nb, nn or en."""

from pathlib import Path

from shared.i18n import register_catalogue

register_catalogue(Path(__file__).resolve().parents[2] / "locale", "notify")
