"""Translations from gettext catalogues (Babel): Bokmål, Nynorsk and English, with plural forms.

Messages are identified by stable keys (`intake.form.title`), so a wording can change without touching the
code. Each part of the system keeps its catalogue in `locale/<language>/LC_MESSAGES/<domain>.po`:
`shared/locale` (domain `kp`: the page kit, problems, rules), `shared/src/shared/contracts/locale` (domain
`contracts`: the labels of contract codes, shared by every service) and `services/<name>/locale`.
`make` compiles them to `.mo`; a catalogue whose `.mo` is missing or older than its `.po` is compiled in memory
when it is loaded, so a fresh checkout and an edited `.po` both work at once.

A key missing in nb or nn falls back to English (a test keeps nb and nn complete); a key missing everywhere
is shown as the key, so a forgotten message is visible rather than silently wrong.
"""

from __future__ import annotations

import gettext
import io
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("nb", "nn", "en")
FALLBACK_LANGUAGE = "en"
DEFAULT_LANGUAGE = "nb"

SHARED_LOCALE = Path(__file__).resolve().parents[2] / "locale"
CONTRACTS_LOCALE = Path(__file__).resolve().parent / "contracts" / "locale"


def po_path(locale_dir: Path, language: str, domain: str) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{domain}.po"


def compile_catalogue(po_file: Path) -> bytes:
    """The `.mo` bytes of a `.po` file (what `pybabel compile` writes)."""
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=po_file.parents[1].name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _load(po_file: Path) -> gettext.GNUTranslations:
    mo_file = po_file.with_suffix(".mo")
    if mo_file.exists() and mo_file.stat().st_mtime >= po_file.stat().st_mtime:
        data = mo_file.read_bytes()
    else:
        data = compile_catalogue(po_file)
    return gettext.GNUTranslations(io.BytesIO(data))


class Catalogues:
    """Every registered catalogue, merged per language, with English behind nb and nn."""

    def __init__(self) -> None:
        self._sources: list[tuple[Path, str]] = []
        self._merged: dict[str, gettext.NullTranslations] | None = None
        self._lock = threading.Lock()

    def register(self, locale_dir: Path, domain: str) -> None:
        """Add a catalogue (idempotent); the first registered wins when two define the same key."""
        source = (locale_dir.resolve(), domain)
        with self._lock:
            if source not in self._sources:
                self._sources.append(source)
                self._merged = None

    @property
    def sources(self) -> tuple[tuple[Path, str], ...]:
        return tuple(self._sources)

    def _translations(self) -> dict[str, gettext.NullTranslations]:
        merged = self._merged
        if merged is not None:
            return merged
        with self._lock:
            per_language: dict[str, list[gettext.GNUTranslations]] = {language: [] for language in LANGUAGES}
            for locale_dir, domain in self._sources:
                for language in LANGUAGES:
                    po_file = po_path(locale_dir, language, domain)
                    if po_file.exists():
                        per_language[language].append(_load(po_file))
            english = _chain(per_language[FALLBACK_LANGUAGE], None)
            merged = {
                language: english if language == FALLBACK_LANGUAGE else _chain(per_language[language], english)
                for language in LANGUAGES
            }
            self._merged = merged
            return merged

    def lookup(self, key: str, language: str) -> str | None:
        translations = self._translations().get(language) or self._translations()[FALLBACK_LANGUAGE]
        text = translations.gettext(key)
        return None if text == key else text

    def lookup_plural(self, key: str, count: int, language: str) -> str | None:
        translations = self._translations().get(language) or self._translations()[FALLBACK_LANGUAGE]
        text = translations.ngettext(key, key, count)
        return None if text == key else text


def _chain(
    catalogues: Iterable[gettext.GNUTranslations], last: gettext.NullTranslations | None
) -> gettext.NullTranslations:
    """One translations object: each catalogue falls back to the next, the last one to `last`."""
    head: gettext.NullTranslations = gettext.NullTranslations()
    current = head
    for catalogue in catalogues:
        current.add_fallback(catalogue)
        current = catalogue
    if last is not None:
        current.add_fallback(last)
    return head


CATALOGUES = Catalogues()
CATALOGUES.register(SHARED_LOCALE, "kp")
CATALOGUES.register(CONTRACTS_LOCALE, "contracts")


def register_catalogue(locale_dir: Path, domain: str) -> None:
    """A service adds its own catalogue when its package is imported."""
    CATALOGUES.register(locale_dir, domain)


def _format(text: str, params: dict[str, Any]) -> str:
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def translate(key: str, language: str, default: str | None = None, **params: Any) -> str:
    """The message `key` in `language` (English when nb or nn lacks it), with `{name}` parameters filled."""
    text = CATALOGUES.lookup(key, language)
    if text is None:
        return _format(default, params) if default is not None else key
    return _format(text, params)


def translate_plural(key: str, count: int, language: str, **params: Any) -> str:
    """The plural form of `key` that fits `count` (`{count}` is filled with it)."""
    text = CATALOGUES.lookup_plural(key, count, language)
    return _format(text if text is not None else key, {"count": count, **params})


def compile_all(root: Path) -> list[Path]:
    """Compile every `locale/<language>/LC_MESSAGES/*.po` under `root` to its `.mo` (the build's step)."""
    written = []
    for po_file in sorted(root.glob("**/locale/*/LC_MESSAGES/*.po")):
        if any(part in {".venv", "node_modules", ".tools"} for part in po_file.parts):
            continue
        po_file.with_suffix(".mo").write_bytes(compile_catalogue(po_file))
        written.append(po_file.with_suffix(".mo"))
    return written


if __name__ == "__main__":  # python -m shared.i18n [root]: what `make` and the images run
    import sys

    for path in compile_all(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(f"compiled {path}")
