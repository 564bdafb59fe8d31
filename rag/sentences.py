"""Sentence splitting with exact character offsets.

Uses nltk's untrained Punkt tokenizer (no download needed) seeded with a small
list of common English abbreviations, and additionally treats every line break
as a sentence boundary (news text puts one paragraph per line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

__all__ = ["Span", "split_sentences"]


@dataclass(frozen=True)
class Span:
    start: int  # char offset into the text given
    end: int
    text: str  # == text[start:end]


# Abbreviations Punkt should not split after (lowercase, without final period).
_ABBREVIATIONS = {
    # titles / honorifics
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col", "lt",
    "capt", "sgt", "adm", "maj", "st", "jr", "sr", "rev", "hon", "pres",
    # months
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec",
    # misc
    "inc", "corp", "co", "ltd", "vs", "etc", "no", "approx", "dept", "est",
    "fig", "e.g", "i.e", "a.m", "p.m",
    # countries / bodies written with initials
    "u.s", "u.k", "u.n", "e.u", "u.s.a", "d.c",
}

# "the U.S." at the end of a sentence is common; when such an initialism is
# followed by one of these words we still split.
_SENTENCE_STARTERS = {
    "the", "a", "an", "it", "its", "he", "she", "we", "they", "i", "this",
    "that", "these", "those", "but", "and", "in", "on", "at", "for", "if",
    "when", "while", "after", "before", "there", "his", "her", "their", "our",
    "as", "so", "yet", "however", "meanwhile", "still", "then", "now", "what",
    "who", "why", "how", "analysts", "officials",
}

_NEXT_WORD = re.compile(r"\s*[“‘\"'(\[]*([A-Za-z]+)")


@lru_cache(maxsize=1)
def _tokenizer() -> PunktSentenceTokenizer:
    params = PunktParameters()
    params.abbrev_types = set(_ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_initialisms(line: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split after 'U.S.'-style initialisms followed by a typical sentence starter."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        cut = start
        for m in re.finditer(r"(?:\b[A-Za-z]\.){2,}(?=\s)", line[start:end]):
            pos = start + m.end()
            nxt = _NEXT_WORD.match(line, pos, end)
            if nxt and nxt.group(1)[0].isupper() and nxt.group(1).lower() in _SENTENCE_STARTERS:
                out.append((cut, pos))
                cut = pos
        out.append((cut, end))
    return out


def split_sentences(text: str) -> list[Span]:
    """Split ``text`` into sentences; each Span's offsets index into ``text``.

    Every newline ends a sentence. Whitespace is stripped from the spans and
    empty spans are dropped. Closing quote marks after the final period stay
    with the sentence.
    """
    result: list[Span] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        spans = list(_tokenizer().span_tokenize(line))
        for s, e in _split_initialisms(line, spans):
            a, b = _strip(text, line_start + s, line_start + e)
            if a < b:
                result.append(Span(a, b, text[a:b]))
    return result
