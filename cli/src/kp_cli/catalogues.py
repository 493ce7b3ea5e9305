"""`kp i18n`: the gettext catalogues of every part of the system, their keys extracted from code and templates.

Messages are key-based (`intake.form.title`). `kp i18n extract` finds every literal key used in Python
(`t`, `tn`, `translate`, `translate_plural`, `gettext`, `ngettext`, `_`) and in Jinja templates (the same
names, and jinja2.ext.i18n's `{% trans %}`), and adds the keys no catalogue defines yet to the catalogue of
the package that uses them, empty in nb, nn and en, for a translator to fill. It never removes a key: some
are built at run time (`proposal.state.<code>`). `kp i18n check` (and the test suite) fails on a key that is
used but defined nowhere, or missing, empty or with other `{placeholders}` in nb, nn or en.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from kp_cli.services import SERVICE_NAMES
from shared.i18n import LANGUAGES, po_path

ROOT = Path(__file__).resolve().parents[3]
KEYWORDS = {
    "t": None, "translate": None, "gettext": None, "_": None,
    "tn": (1,), "translate_plural": (1,), "ngettext": (1, 2),
}
METHODS = [("**/templates/**.html", "jinja2"), ("**/templates/**.txt", "jinja2"), ("**.py", "python")]
# Keys look like `section.name`; a literal that is not a key (an English default, a format string) is skipped.
KEY = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class Domain:
    """One catalogue and the source folder whose keys it owns."""

    name: str
    source: Path
    locale: Path
    exclude: tuple[Path, ...] = ()


def domains(root: Path = ROOT) -> list[Domain]:
    shared = root / "shared" / "src" / "shared"
    found = [
        Domain("contracts", shared / "contracts", shared / "contracts" / "locale"),
        Domain("kp", shared, root / "shared" / "locale", exclude=(shared / "contracts",)),
    ]
    for name in SERVICE_NAMES:
        locale = root / "services" / name / "locale"
        found.append(Domain(name, root / "services" / name / "src" / name, locale))
    return found


def _load(domain: Domain, language: str) -> Catalog | None:
    path = po_path(domain.locale, language, domain.name)
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=domain.name)


def used_keys(domain: Domain) -> dict[str, list[str]]:
    """Every literal message key used in the domain's code and templates, with where it is used."""
    found: dict[str, list[str]] = {}
    if not domain.source.exists():
        return found

    def skip(path: str) -> bool:
        full = (domain.source / path).resolve()
        return not any(full == e or e in full.parents for e in domain.exclude)

    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        domain.source, METHODS, options, KEYWORDS, directory_filter=skip,
    ):
        keys = message if isinstance(message, tuple) else (message,)
        for key in keys[:1]:
            if isinstance(key, str) and KEY.match(key):
                found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def defined_keys(root: Path = ROOT) -> set[str]:
    keys: set[str] = set()
    for domain in domains(root):
        catalog = _load(domain, "en")
        if catalog is not None:
            keys |= {str(m.id[0] if isinstance(m.id, tuple) else m.id) for m in catalog if m.id}
    return keys


def _texts(message: object) -> list[str]:
    string = getattr(message, "string", "")
    return [str(s or "") for s in string] if isinstance(string, tuple) else [str(string or "")]


def problems(root: Path = ROOT) -> Iterator[str]:
    """What `kp i18n check` reports: every rule a catalogue breaks, one line each."""
    defined = defined_keys(root)
    for domain in domains(root):
        for key, where in sorted(used_keys(domain).items()):
            if key not in defined:
                yield f"{domain.name}: {key} is used ({where[0]}) but no catalogue defines it"
        catalogs = {language: _load(domain, language) for language in LANGUAGES}
        if all(c is None for c in catalogs.values()):
            continue
        yield from _completeness(domain, catalogs)


def _completeness(domain: Domain, catalogs: dict[str, Catalog | None]) -> Iterator[str]:
    ids: set[str] = set()
    for catalog in catalogs.values():
        if catalog is not None:
            ids |= {str(m.id[0] if isinstance(m.id, tuple) else m.id) for m in catalog if m.id}
    english = catalogs.get("en")
    for key in sorted(ids):
        expected = _placeholders(english, key)
        for language, catalog in catalogs.items():
            message = catalog.get(key) if catalog is not None else None
            if message is None:
                yield f"{domain.name}/{language}: {key} is missing"
                continue
            if any(not text.strip() for text in _texts(message)):
                yield f"{domain.name}/{language}: {key} is empty"
                continue
            found = {name for text in _texts(message) for name in PLACEHOLDER.findall(text)}
            if expected is not None and found != expected:
                yield (f"{domain.name}/{language}: {key} has placeholders {sorted(found)}, "
                       f"English has {sorted(expected)}")


def _placeholders(catalog: Catalog | None, key: str) -> set[str] | None:
    message = catalog.get(key) if catalog is not None else None
    if message is None:
        return None
    return {name for text in _texts(message) for name in PLACEHOLDER.findall(text)}


def extract(root: Path = ROOT) -> dict[str, list[str]]:
    """Add every used-but-undefined key to its domain's catalogues (empty, to translate); returns them."""
    defined = defined_keys(root)
    added: dict[str, list[str]] = {}
    for domain in domains(root):
        missing = sorted(key for key in used_keys(domain) if key not in defined)
        if not missing:
            continue
        for language in LANGUAGES:
            catalog = _load(domain, language) or Catalog(
                locale=language, domain=domain.name, project="Kunnskapsportalen", charset="utf-8", fuzzy=False,
            )
            for key in missing:
                catalog.add(key, "")
            path = po_path(domain.locale, language, domain.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                write_po(handle, catalog, width=120, sort_output=True)
        added[domain.name] = missing
        defined |= set(missing)
    return added
