"""Quote extraction and speaker attribution ("who said what").

Pipeline (pure text, no model):

1. find top-level quotation spans (“…”, "…", ‘…’, '…'); quotes nested inside
   another quote are part of it and are not reported; a quote running over
   several paragraphs (each continuation paragraph re-opens with a mark) is one
   quote;
2. take the sentence(s) the quote sits in (``rag.sentences``) as its context;
3. look for a speech verb after the quote ("…,” he said / said X), else before
   it ("X told CNBC that Russia “…”", "he labeled an “…”"), and find its
   subject: a pronoun (resolved with ``rag.speakers``), a person mention, a
   "the <title>" phrase, an inverted subject ("said Maria Lopez",
   "according to X") or, failing that, a capitalised institution ("the
   Kremlin");
4. unattributed quotes inherit the speaker of the previous quote in the same
   or the preceding paragraph (newspaper convention);
5. classify: "term" (≤ 4 words, no speaker), "partial" (embedded in running
   text), "direct" (whole clause/sentence).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rag.sentences import Span, split_sentences
from rag.speakers import ROLE_WORDS, SPEECH_VERBS, PersonIndex, index_persons

__all__ = ["Quote", "extract_quotes", "speaker_matches"]


@dataclass(frozen=True)
class Quote:
    speaker: str | None  # full name, or None for a term / unattributed
    quote: str  # text inside the quotation marks, verbatim
    start: int  # offset of the quote text (inside the marks) in the document
    end: int
    sentence: str  # the sentence(s) the quote sits in (verbatim)
    sentence_start: int
    sentence_end: int
    kind: str  # "direct" | "partial" | "term"


@dataclass(frozen=True)
class _Mark:
    open: int  # index of the opening mark
    close: int  # index of the closing mark (== end of paragraph if unterminated)
    terminated: bool

    @property
    def inner(self) -> tuple[int, int]:
        return self.open + 1, self.close


_TERM_MAX_WORDS = 4
_WORD = re.compile(r"[^\W_](?:[\w\-]|[’'](?=\w))*")
_PRONOUNS = {"he", "she"}
_ADVERBS = {"also", "later", "then", "reportedly", "previously", "once", "had", "has", "have", "recently", "further"}
_RELATIVE = re.compile(r",\s*(?:who|whom|whose|which)\b[^,;:.“”\"]*,")
_OPEN_CONTEXT = set(" \t\n([{—–-/“‘\"'")


def _is_letter(ch: str) -> bool:
    return ch.isalnum()


def _at(text: str, i: int) -> str:
    return text[i] if 0 <= i < len(text) else ""


def _continues(text: str, nl: int, marks: str) -> int | None:
    """If the paragraph after newline ``nl`` opens with one of ``marks``, its index."""
    k = nl
    while k < len(text) and text[k].isspace():
        k += 1
    return k if k < len(text) and text[k] in marks else None


def _find_close(text: str, i: int) -> _Mark | None:
    """Closing mark for the opening mark at ``i`` (None if ``i`` opens nothing)."""
    o = text[i]
    if o == "“":
        is_close = lambda j: text[j] == "”"  # noqa: E731
        reopen, lenient = "“", True
    elif o == '"':
        is_close = lambda j: text[j] == '"'  # noqa: E731
        reopen, lenient = '"', True
    elif o == "‘":
        is_close = lambda j: text[j] == "’" and not (  # noqa: E731
            _is_letter(_at(text, j - 1)) and _is_letter(_at(text, j + 1))
        ) and not _at(text, j - 1).isspace()
        reopen, lenient = "‘", False
    else:  # straight single quote
        is_close = lambda j: text[j] == "'" and not _is_letter(_at(text, j + 1)) and not _at(  # noqa: E731
            text, j - 1
        ).isspace()
        reopen, lenient = "'", False
    j = i + 1
    while j < len(text):
        if text[j] == "\n":
            k = _continues(text, j, reopen)
            if k is not None and (lenient or text[k] == reopen):
                j = k + 1
                continue
            if not lenient:
                return None
            end = j
            while end > i + 1 and text[end - 1].isspace():
                end -= 1
            return _Mark(i, end, False) if end > i + 1 else None
        if is_close(j):
            return _Mark(i, j, True) if j > i + 1 else None
        j += 1
    if lenient and len(text) > i + 1:
        end = len(text.rstrip())
        return _Mark(i, end, False) if end > i + 1 else None
    return None


def _opens(text: str, i: int) -> bool:
    c = text[i]
    if c in "“‘":
        return True
    if c in "\"'":
        prev, nxt = _at(text, i - 1), _at(text, i + 1)
        if c == "'" and not nxt.isalpha():
            return False
        return (prev == "" or prev in _OPEN_CONTEXT) and nxt != "" and not nxt.isspace()
    return False


def find_quote_marks(text: str) -> list[_Mark]:
    """Top-level quotation spans in ``text`` (nested quotes are skipped)."""
    marks: list[_Mark] = []
    i = 0
    while i < len(text):
        if _opens(text, i):
            m = _find_close(text, i)
            if m is not None:
                marks.append(m)
                i = m.close + 1
                continue
        i += 1
    return marks


def _context(sents: list[Span], m: _Mark, text: str) -> tuple[int, int, int | None]:
    """(start, end, index of last sentence) of the sentences overlapping mark ``m``."""
    hit = [k for k, s in enumerate(sents) if s.start <= m.close and s.end > m.open]
    if not hit:
        return m.open, min(m.close + 1, len(text)), None
    return sents[hit[0]].start, sents[hit[-1]].end, hit[-1]


def _words(text: str, lo: int, hi: int) -> list[re.Match[str]]:
    return list(_WORD.finditer(text, lo, hi))


class _Attributor:
    def __init__(self, text: str, marks: list[_Mark]) -> None:
        self.text = text
        self.index: PersonIndex = index_persons(text)
        self.quote_spans = [(m.open, m.close + 1) for m in marks]
        # person mentions outside quotations
        self.mentions = [
            mm for mm in self.index.mentions if not any(a <= mm.start < b for a, b in self.quote_spans)
        ]

    def _resolve(self, offset: int) -> str | None:
        return self.index.resolve(offset, self.quote_spans)

    def _verbs(self, lo: int, hi: int) -> list[tuple[int, int, bool]]:
        """(start, end, inverted_only) of speech verbs in [lo, hi)."""
        out = []
        ws = _words(self.text, lo, hi)
        for k, w in enumerate(ws):
            low = w.group()
            if low.lower() == "according" and k + 1 < len(ws) and ws[k + 1].group() == "to":
                out.append((w.start(), ws[k + 1].end(), True))
            elif low in SPEECH_VERBS:
                nxt = ws[k + 1].group().lower() if k + 1 < len(ws) else ""
                if low.startswith("call") and nxt in {"for", "on", "off", "in", "up"}:
                    continue  # "called for a review" is not reported speech
                out.append((w.start(), w.end(), False))
        return out

    def _subject_before(self, lo: int, v: int) -> str | None:
        """Subject of a verb starting at ``v``; searched in [lo, v)."""
        ws = _words(self.text, lo, v)
        # pronoun right before the verb (allowing an adverb): "he said", "she also noted"
        for w in reversed(ws[-3:]):
            if w.group().lower() in _PRONOUNS:
                return self._resolve(w.start())
            if w.group().lower() not in _ADVERBS:
                break
        # skip people inside a relative clause: "X, who met Y last week, called ..."
        rel = [(r.start(), r.end()) for r in _RELATIVE.finditer(self.text, lo, v)]
        persons = [
            m
            for m in self.mentions
            if lo <= m.start and m.end <= v and not any(a <= m.start < b for a, b in rel)
        ]
        if persons:
            return persons[-1].name
        # "the mayor said", "the Kremlin spokesman added"
        tail = self.text[lo:v]
        tm = re.search(r"\b[Tt]he\s+((?:[\w’'\-]+\s+){0,3}?)([\w\-]+)\s*,?\s*$", tail)
        if tm and tm.group(2).lower() in ROLE_WORDS:
            return self._resolve(lo + tm.start())
        # institution: "the Kremlin said", "Hezbollah claimed"
        im = re.search(r"((?:\b[Tt]he\s+)?(?:[A-Z][\w\-]*\s+){0,3}[A-Z][\w\-]*)[\s,]*$", tail)
        if im and im.group(1).split()[-1].lower() not in {"he", "she", "it", "they", "we", "i"}:
            name = im.group(1)
            if name.split()[0].lower() == "the":
                name = "the " + name.split(None, 1)[1]
            if name.lower() not in {"the", "but", "and"}:
                return name
        return None

    def _subject_after(self, v_end: int, hi: int) -> str | None:
        """Inverted subject: "said Maria Lopez", "according to the mayor"."""
        persons = [m for m in self.mentions if v_end <= m.start < hi]
        if persons:
            gap = _words(self.text, v_end, persons[0].start)
            if len(gap) <= 4:
                return persons[0].name
        ws = _words(self.text, v_end, hi)
        if ws and ws[0].group().lower() in _PRONOUNS:
            return self._resolve(ws[0].start())
        tm = re.match(r"\s*the\s+((?:[\w’'\-]+\s+){0,3}?)([\w\-]+)", self.text[v_end:hi], re.IGNORECASE)
        if tm and tm.group(2).lower() in ROLE_WORDS:
            return self._resolve(v_end + tm.start() + len(tm.group(0)) - len(tm.group(0).lstrip()))
        return None

    def attribute(self, lo: int, open_: int, close_end: int, hi: int) -> str | None:
        """Speaker for a quote occupying [open_, close_end) in context [lo, hi)."""
        after = self._verbs(close_end, hi)
        if after:
            vs, ve, inverted = after[0]
            who = None if inverted else self._subject_before(close_end, vs)
            if who is None and (inverted or not _words(self.text, close_end, vs)):
                who = self._subject_after(ve, hi)
            if who is not None:
                return who
        before = self._verbs(lo, open_)
        if before:
            vs, ve, inverted = before[-1]
            who = None if inverted else self._subject_before(lo, vs)
            if who is None:  # "according to X, …" / “A,” said X, “B.”
                who = self._subject_after(ve, open_)
            if who is not None:
                return who
        if self.text[lo:open_].rstrip().endswith(":"):
            # "Ms Marovic was unconvinced: ‘Useful for whom?’"
            return self._subject_before(lo, len(self.text[:open_].rstrip()) - 1)
        return None


def _paragraph_index(text: str, offset: int) -> int:
    """Number of non-empty lines (paragraphs) that start before ``offset``."""
    return sum(1 for line in text[:offset].split("\n")[:-1] if line.strip())


def _kind(text: str, m: _Mark, ctx_start: int, speaker: str | None) -> str:
    inner = text[m.open + 1 : m.close]
    if speaker is None and len(_WORD.findall(inner)) <= _TERM_MAX_WORDS:
        return "term"
    j = m.open - 1
    while j >= ctx_start and text[j].isspace():
        j -= 1
    if j < ctx_start or not _is_letter(text[j]):
        return "direct"
    return "partial"


def _extend_after(text: str, sents: list[Span], last: int | None, m: _Mark, hi: int) -> int:
    """Include a following short attribution sentence: “… win.” Smith said."""
    if last is None or text[m.close + 1 : hi].strip() or last + 1 >= len(sents):
        return hi
    nxt = sents[last + 1]
    if "\n" in text[hi : nxt.start]:
        return hi
    ws = [w.group() for w in _words(text, nxt.start, nxt.end)]
    if 2 <= len(ws) <= 8 and any(w in SPEECH_VERBS for w in ws[:5]):
        return nxt.end
    return hi


def extract_quotes(text: str) -> list[Quote]:
    """All top-level quotations in ``text`` with speaker, context and kind."""
    marks = find_quote_marks(text)
    sents = split_sentences(text)
    attr = _Attributor(text, marks)
    quotes: list[Quote] = []
    prev: tuple[_Mark, str | None] | None = None
    for k, m in enumerate(marks):
        lo, hi, last = _context(sents, m, text)
        hi = _extend_after(text, sents, last, m, hi)
        close_end = m.close + 1 if m.terminated else m.close
        # stop the regions at neighbouring quotes in the same context
        nxt_open = marks[k + 1].open if k + 1 < len(marks) and marks[k + 1].open < hi else hi
        prv_close = marks[k - 1].close + 1 if k > 0 and marks[k - 1].close + 1 > lo else lo
        speaker = attr.attribute(prv_close, m.open, close_end, nxt_open)
        n_words = len(_WORD.findall(text[m.open + 1 : m.close]))
        if speaker is None and prev is not None and n_words > _TERM_MAX_WORDS:
            para, prev_para = _paragraph_index(text, m.open), _paragraph_index(text, prev[0].close)
            starts_para = not text[text.rfind("\n", 0, m.open) + 1 : m.open].strip()
            if para == prev_para or (para == prev_para + 1 and starts_para):
                speaker = prev[1]
        a, b = m.inner
        quotes.append(
            Quote(
                speaker=speaker,
                quote=text[a:b],
                start=a,
                end=b,
                sentence=text[lo:hi],
                sentence_start=lo,
                sentence_end=hi,
                kind=_kind(text, m, lo, speaker),
            )
        )
        if n_words > _TERM_MAX_WORDS or speaker:
            prev = (m, speaker)
    return quotes


def _norm(s: str) -> list[str]:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = re.sub(r"[’']s\b", "", s)
    words = re.findall(r"[a-z0-9\-]+", s)
    honorifics = {"mr", "mrs", "ms", "dr", "prof", "the", "miss", "sir"}
    return [w for w in words if w not in honorifics]


def speaker_matches(query: str, speaker: str) -> bool:
    """Case/accent-insensitive: full name, surname, first name or any contiguous part."""
    q, s = _norm(query), _norm(speaker)
    if not q or not s:
        return False
    return any(s[i : i + len(q)] == q for i in range(len(s) - len(q) + 1))
