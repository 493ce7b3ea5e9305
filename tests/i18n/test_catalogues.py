"""The gettext catalogues: complete in nb, nn and en, every key the code uses defined, English as the fallback."""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from kp_cli import catalogues
from shared.i18n import Catalogues, po_path, translate, translate_plural

ROOT = Path(__file__).resolve().parents[2]


def test_every_catalogue_is_complete_and_every_used_key_is_defined() -> None:
    assert list(catalogues.problems()) == []


def test_the_check_fails_on_a_key_missing_in_nynorsk_and_on_an_undefined_key(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "shared", tmp_path / "shared", ignore=shutil.ignore_patterns("*.mo", "vendor"))
    kp = next(d for d in catalogues.domains(tmp_path) if d.name == "kp")
    nynorsk = po_path(kp.locale, "nn", "kp")
    text = nynorsk.read_text(encoding="utf-8")
    nynorsk.write_text(text.replace('msgid "staff.sign-out"\nmsgstr "Logg ut"', ""), encoding="utf-8")
    template = tmp_path / "shared/src/shared/web/templates/kp/extra.html"
    template.write_text("{{ t('staff.no-such-key') }}", encoding="utf-8")

    found = list(catalogues.problems(tmp_path))

    assert "kp/nn: staff.sign-out is missing" in found
    assert any(line.startswith("kp: staff.no-such-key is used") for line in found)


def _catalogue(locale: Path, language: str, messages: dict[str, str | tuple[str, str]]) -> None:
    catalog = Catalog(locale=language, domain="demo", charset="utf-8", fuzzy=False)
    for key, text in messages.items():
        catalog.add((key, key) if isinstance(text, tuple) else key, text)
    path = po_path(locale, language, "demo")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)


def test_a_key_missing_in_bokmal_falls_back_to_english_and_plurals_follow_the_count(tmp_path: Path) -> None:
    _catalogue(tmp_path, "en", {"demo.sign-out": "Sign out", "demo.rows": ("{count} row", "{count} rows")})
    _catalogue(tmp_path, "nb", {"demo.rows": ("{count} rad", "{count} rader")})
    _catalogue(tmp_path, "nn", {"demo.sign-out": "Logg ut"})
    own = Catalogues()
    own.register(tmp_path, "demo")

    assert own.lookup("demo.sign-out", "nb") == "Sign out"
    assert own.lookup("demo.sign-out", "nn") == "Logg ut"
    assert own.lookup_plural("demo.rows", 1, "nb") == "{count} rad"
    assert own.lookup_plural("demo.rows", 7, "nb") == "{count} rader"
    assert own.lookup_plural("demo.rows", 7, "nn") == "{count} rows"
    assert own.lookup("demo.unknown", "en") is None


def test_translate_fills_parameters_and_shows_an_unknown_key_as_itself() -> None:
    assert translate("staff.page.number", "nn", number=3) == "Side 3"
    assert translate("no.such.key", "nn") == "no.such.key"
    assert translate_plural("no.such.plural", 2, "nb") == "no.such.plural"
