"""Parse and tidy ``[n]`` citation markers in plain-text answers.

A *marker* is a pair of square brackets holding one or more passage numbers
separated by commas or semicolons: ``[1]``, ``[1, 3]``, ``[2;4]``.  Adjacent
markers (``[1][2]``) are simply several markers.  Brackets holding anything else
(``[Saturday]``, ``[sic]``) are not markers and are never touched.

Passage numbers are 1-based: ``[1]`` is the first passage shown to the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MARKER_RE = re.compile(r"\[\s*(\d{1,4}(?:\s*[,;]\s*\d{1,4})*)\s*\]")
_NUM_RE = re.compile(r"\d+")
_HSPACE = " \t\u00a0"

# Words that end with "." without ending the sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr adm gov sen rep pres rev hon "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "e.g i.e etc vs approx est inc ltd co corp no nos fig al dept univ ave".split()
)
_SENTENCE_END_RE = re.compile(r"[.!?]+[\"”’')]*")
_MARKERS_AFTER_RE = re.compile(r"(?:[ \t]*" + MARKER_RE.pattern + r")+")
_BULLET_RE = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
# Double-quoted spans, and ‘…’ spans (a ’ between letters is an apostrophe, not a closing mark).
_QUOTE_PAIR_RE = re.compile(r"“[^“”\n]*”|\"[^\"\n]*\"|‘(?:[^‘’\n]|’(?=[A-Za-z]))*’(?![A-Za-z])")


def _numbers(marker_body: str) -> list[int]:
    return [int(n) for n in _NUM_RE.findall(marker_body)]


def _unique(values: list[int]) -> list[int]:
    return list(dict.fromkeys(values))


def cited_numbers(text: str) -> list[int]:
    """All passage numbers cited in ``text``, unique, in order of first appearance."""
    found: list[int] = []
    for match in MARKER_RE.finditer(text):
        found.extend(_numbers(match.group(1)))
    return _unique(found)


def _rewrite_markers(text: str, keep: Callable[[list[int]], list[int]]) -> str:
    """Replace every marker by ``keep(numbers)``; an empty result deletes the marker.

    A deleted marker takes the horizontal whitespace before it along (or, at the
    start of a line, the whitespace after it): ``"Iran [9]."`` → ``"Iran."``,
    ``"Russia [0][2]"`` → ``"Russia [2]"``.  Kept markers are written as
    ``[a, b]``.
    """
    out: list[str] = []
    pos = 0
    dropped_space = ""  # whitespace removed with a deleted marker right before `pos`
    for match in MARKER_RE.finditer(text):
        start, end = match.span()
        numbers = _unique(keep(_numbers(match.group(1))))
        gap = text[pos:start]
        if numbers:
            out.append((dropped_space if not gap else "") + gap)
            out.append("[" + ", ".join(str(n) for n in numbers) + "]")
            dropped_space = ""
            pos = end
            continue
        stripped = gap.rstrip(_HSPACE)
        if gap:
            dropped_space = gap[len(stripped):]
        out.append(stripped)
        pos = end
        so_far = "".join(out)
        if not dropped_space and (not so_far or so_far.endswith("\n")):
            while pos < len(text) and text[pos] in _HSPACE:
                pos += 1
    out.append(text[pos:])
    return "".join(out)


def strip_invalid_citations(text: str, n_passages: int) -> tuple[str, list[int]]:
    """Drop citation numbers outside ``1..n_passages``.

    ``"[1, 7]"`` becomes ``"[1]"``; a marker left empty is removed together with
    the space before it.  Duplicate numbers inside one marker are collapsed.
    Returns ``(clean_text, removed_numbers)`` -- removed numbers unique, in order
    of first appearance.
    """
    removed: list[int] = []

    def keep(numbers: list[int]) -> list[int]:
        good = [n for n in numbers if 1 <= n <= n_passages]
        removed.extend(n for n in numbers if not 1 <= n <= n_passages)
        return good

    clean = _rewrite_markers(text, keep)
    return clean, _unique(removed)


def strip_markers(text: str) -> str:
    """``text`` without any citation marker (whitespace tidied around them)."""
    return _rewrite_markers(text, lambda numbers: [])


def _is_boundary(line: str, end_match: re.Match[str], has_markers: bool, after: int) -> bool:
    """Does the sentence-final punctuation in ``end_match`` end a sentence?"""
    rest = line[after:].lstrip()
    if not rest:
        return True
    if has_markers:
        return True
    if after < len(line) and line[after] not in " \t\u00a0":
        return False  # "3.5", "U.S.-made", "example.com"
    if end_match.group(0)[0] == "." and len(end_match.group(0)) == 1:
        word = re.search(r"([A-Za-z][A-Za-z.]*)$", line[: end_match.start()])
        if word:
            token = word.group(1).lower()
            if token in _ABBREVIATIONS or len(token) == 1 or re.fullmatch(r"(?:[a-z]\.)+[a-z]", token):
                return False  # "Dr. Smith", "Oct. 1", "J. Smith", "U.S. officials"
    return not rest[0].islower()


def _split_line(line: str) -> list[tuple[str, list[int]]]:
    quoted = [m.span() for m in _QUOTE_PAIR_RE.finditer(line)]
    pieces: list[tuple[str, list[int]]] = []
    start = 0
    for end_match in _SENTENCE_END_RE.finditer(line):
        if any(qs < end_match.start() and end_match.end() < qe for qs, qe in quoted):
            continue  # sentence punctuation inside a quotation
        after = end_match.end()
        trailing = _MARKERS_AFTER_RE.match(line, after)
        if trailing:
            after = trailing.end()
        if not _is_boundary(line, end_match, trailing is not None, after):
            continue
        pieces.append((line[start:after], cited_numbers(line[start:after])))
        start = after
    if line[start:].strip():
        pieces.append((line[start:], cited_numbers(line[start:])))
    return pieces


def split_answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """Split an answer into sentences, each with the passage numbers it cites.

    * Markers inside a sentence or right after its final punctuation
      (``"... Tuesday. [2]"``) belong to that sentence; a sentence without a
      marker cites nothing (no inheritance from neighbours).
    * Returned sentence texts have their markers removed and whitespace trimmed.
    * Lines are hard boundaries; list bullets (``-``, ``*``, ``1.``) are dropped.
    * Punctuation inside a closed quotation (``“Yes. We will,” he said``) and
      after common abbreviations / initials (``Oct. 1``, ``U.S. officials``) does
      not end a sentence.
    * A line holding only markers is attached to the previous sentence.
    """
    result: list[tuple[str, list[int]]] = []
    for raw_line in text.splitlines():
        line = _BULLET_RE.sub("", raw_line, count=1)
        for piece, numbers in _split_line(line):
            clean = strip_markers(piece).strip()
            if not re.search(r"\w", clean):
                if result and numbers:
                    prev_text, prev_numbers = result[-1]
                    result[-1] = (prev_text, _unique(prev_numbers + numbers))
                continue
            result.append((clean, numbers))
    return result
