"""Similar questions by normalized token overlap: proposers see earlier proposals and delivered summaries first.

Plain Python, apart from the model because ranking is an algorithm of its own, not a rule of proposals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")

# Words that say nothing about a question's subject, in Bokmål and Nynorsk (and a little English).
STOP_WORDS = frozenset(
    (
        "og", "i", "på", "til", "for", "med", "av", "som", "er", "det", "den", "de", "dei", "en", "et", "ei", "eit",
        "ein", "at", "å", "om", "fra", "frå", "ved", "har", "hadde", "kan", "skal", "vil", "blir", "bli", "vert",
        "vere", "være", "vore", "vært", "var", "ikke", "ikkje", "eller", "men", "så", "seg", "sin", "sitt", "sine",
        "hva", "kva", "hvordan", "korleis", "hvilke", "hvilken", "kor", "hvor", "mot", "etter", "under", "over", "enn",
        "også", "jeg", "eg", "vi", "me", "du", "han", "hun", "ho", "dere", "oss", "meg", "deg", "mer", "meir", "mest",
        "mange", "noen", "nokon", "noe", "noko", "alle", "andre", "anna", "annen", "denne", "dette", "disse", "desse",
        "der", "her", "når", "då", "da", "uten", "utan", "inn", "ut", "opp", "ned", "mellom", "hos", "per", "samt",
        "både", "bør", "må", "kunne", "skulle", "ville", "sjølv", "selv", "slik", "slike", "effekt", "effekten",
        "tiltak", "tiltaket", "tiltakene", "tiltaka", "the", "of", "and", "to", "in", "on", "with", "what", "which",
        "how", "does", "do", "is", "are"
    )
)

_WORD = re.compile(r"[^\W_]+")


def tokens(text: str) -> frozenset[str]:
    """Lowercase words without punctuation, stop words and one-letter or two-letter fragments."""
    # Set difference first: a text repeats words, and this runs for thousands of candidates per query.
    return frozenset(w for w in set(_WORD.findall(text.lower())) - STOP_WORDS if len(w) > 2)


def overlap(query: frozenset[str], candidate: frozenset[str]) -> float:
    """Shared words over the geometric mean of both sizes (0..1): long texts do not win by length alone."""
    if not query or not candidate:
        return 0.0
    return len(query & candidate) / math.sqrt(len(query) * len(candidate))


@dataclass(frozen=True)
class Ranked(Generic[Item]):
    item: Item
    score: float


def rank(query: str, candidates: Iterable[tuple[Item, str]], limit: int, minimum: float = 0.1) -> list[Ranked[Item]]:
    """The `limit` candidates most similar to `query`, best first; ties keep the candidates' order (newest first)."""
    wanted = tokens(query)
    if not wanted:
        return []
    scored = []
    for position, (item, text) in enumerate(candidates):
        found = tokens(text)
        if wanted.isdisjoint(found):
            continue
        score = overlap(wanted, found)
        if score >= minimum:
            scored.append((-score, position, item))
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    return [Ranked(item, round(-negative, 3)) for negative, _, item in scored[:limit]]
