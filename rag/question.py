"""Question analysis for the extractive answerer: content terms, named entities, answer type.

Hand-written (no LlamaIndex component analyses questions without an LLM). Terms are Snowball stems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

STOPWORDS = frozenset("""
a an the and or but if of at by for with about against between into through during before after above below
to from up down in out on off over under again further then once here there all any both each few more most
other some such no nor not only own same so than too very can will just should now is are was were be been
being have has had having do does did doing i me my we our you your he him his she her it its they them their
this that these those am would could may might must shall what which who whom whose when where why how
as also ever yet than
""".split())
# Words that shape a question without being what it is about.
GENERIC = frozenset("""
say says said tell tells told mention mentions mentioned article text source sources name named describe
described according report reported state stated comment comments think thinks kind type sort way give
gives given exactly actually main called happen happened
""".split())
ROLE_WORDS = frozenset("job role position title occupation profession post".split())
WH_WORDS = frozenset("what who whom whose which when where why how".split())

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'’.\-]*[A-Za-z0-9]|[A-Za-z0-9]+")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def normalise_token(token: str) -> str:
    token = token.replace("’", "'")
    token = re.sub(r"'s$", "", token)
    return token.replace(".", "").replace("'", "").lower()


def tokens(text: str) -> list[str]:
    return [t for t in (normalise_token(m) for m in _TOKEN.findall(text)) if t]


def stem_all(words: list[str]) -> list[str]:
    return _stemmer().stemWords(words)


def content_stems(text: str) -> set[str]:
    words = [t for t in tokens(text) if t not in STOPWORDS]
    return set(stem_all(words))


@dataclass(frozen=True)
class QuestionInfo:
    text: str
    terms: frozenset[str]  # content stems, entities included
    entities: tuple[tuple[str, ...], ...]  # each a phrase of normalised tokens, e.g. ("joe", "biden")
    residual: frozenset[str]  # content stems that are neither entities nor answer-type words
    wants_role: bool


def _entities(question: str) -> list[tuple[str, ...]]:
    raw = _TOKEN.findall(question)
    phrases: list[list[str]] = []
    current: list[str] = []
    for i, tok in enumerate(raw):
        norm = normalise_token(tok)
        capital = tok[0].isupper() and (i > 0 or tok.isupper()) and norm not in WH_WORDS
        if capital and norm not in STOPWORDS:
            current.append(norm)
        elif current:
            phrases.append(current)
            current = []
    if current:
        phrases.append(current)
    return [tuple(p) for p in phrases]


def analyse(question: str) -> QuestionInfo:
    words = [t for t in tokens(question) if t not in STOPWORDS and t not in WH_WORDS]
    terms = {s for w, s in zip(words, stem_all(words)) if w not in GENERIC}
    entities = _entities(question)
    entity_stems = set(stem_all([w for phrase in entities for w in phrase]))
    wants_role = any(w in ROLE_WORDS for w in words) or bool(
        re.match(r"\s*who\s+(is|was)\b", question, re.IGNORECASE)
    )
    role_stems = set(stem_all(list(ROLE_WORDS)))
    residual = terms - entity_stems - role_stems
    return QuestionInfo(question, frozenset(terms), tuple(entities), frozenset(residual), wants_role)
