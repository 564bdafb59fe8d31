"""Answer "what did X say (about Y)?" from the quote index, quoting verbatim with citations.

Hand-written (no library parses this question shape or selects quotations): a few regular expressions
recognise the question, ``QuoteIndex.match_speakers`` finds X, and X's quotes are listed in document
order or, with a topic Y, ranked by MiniLM cosine + lexical overlap with Y. Each quote is cited with the
stored chunk that holds it (``quote`` = the sentence around the quotation, ``quote_spans`` its offsets in
the chunk). Retrieval then supplements: one retrieved sentence reporting X's speech that the quotes do
not already cover. The result carries the selected quotes and citations so an LLM answer mode can give
them to the model instead of using the extractive text.

Outcomes of :func:`answer_from_quotes`:
* X is a quoted speaker → quotes (+ supplement), or, when none of X's quotes is about Y and retrieval
  adds nothing, an abstention "The sources quote X, but not about Y.";
* X is a person named in the sources but never quoted, and retrieval does not report X's speech →
  "The sources contain no quotes from X." (abstained, no citations; worded so that the answer verifier
  recognises it as an abstention);
* anything else (X unknown, "the article", a pronoun, …) → ``None``: the caller answers by retrieval.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.evidence import Evidence, ScoredSentence
from rag.extractive import attributed, select_sentences
from rag.models import Citation, Passage
from rag.question import GENERIC, WH_WORDS, content_stems
from rag.quote_index import QuoteIndex, QuoteRecord, chunk_for, display_quote
from rag.sentences import Span
from rag.speakers import SPEECH_VERBS

__all__ = ["QuoteAnswer", "SpeakerQuestion", "answer_from_quotes", "parse_speaker_question", "relevance"]

EmbedFn = Callable[[list[str]], list[list[float]]]

LIST_LIMIT = 4  # quotes shown for "what did X say?" (document order)
TOPIC_LIMIT = 3  # quotes shown for "what did X say about Y?" (best first)
W_COS, W_LEX = 0.5, 0.5
# A quote is "about Y" when its relevance (below) reaches this. On the seed article and the quote test
# documents, unrelated topics scored ≤ 0.11 and the quote a reader would pick ≥ 0.32 (docs/quotes.md).
RELEVANT = 0.2
NEAR_BEST = 0.5  # further quotes must score at least this share of the best
LEAD_IN_WEIGHT = 0.5  # topic words in the sentence before the quote ("The meeting lasted two hours.")
MAX_SENTENCE_CHARS = 600  # longer context sentences are not quoted whole

_AUX = r"(?:did|does|do|has|have|had|is|was|are|were)"
_VERB = (r"(?:say|says|said|saying|tell|tells|told|telling|claim|claims|claimed|claiming|think|thinks|thought|"
         r"state|states|stated|(?:have|has|had)\s+to\s+say)")
_ABOUT = r"(?:about|on|regarding|concerning|of)"
_OBJECT = rf"(?:\s+(?:to\s+)?(?!{_ABOUT}\b)[\w.’'\-]+)?"  # "told CNBC", "say to reporters", "say today"
_TOPIC = rf"(?:\s+{_ABOUT}\s+(?P<y>.+?))?"
_PATTERNS = [
    re.compile(rf"^(?:and\s+|so\s+)?what\s+{_AUX}\s+(?P<x>.+?)\s+{_VERB}{_OBJECT}{_TOPIC}$", re.IGNORECASE),
    re.compile(rf"^(?:and\s+|so\s+)?(?:did|has|have|does|do)\s+(?P<x>.+?)\s+(?:say|said|tell|told|mention|"
               rf"mentioned)\s+(?:anything|something){_OBJECT}{_TOPIC}$", re.IGNORECASE),
    re.compile(rf"\bquot(?:e|es|ations?)\s+(?:from|by|of)\s+(?P<x>.+?){_TOPIC}$", re.IGNORECASE),
]
_X_TAIL = re.compile(r"\s+(?:are|is|was|were|in|does|do|did|has|have|that|which)\b.*$", re.IGNORECASE)
_NOT_A_NAME = WH_WORDS | {"he", "she", "they", "it", "you", "i", "we", "him", "her", "them", "this", "that"}


@dataclass(frozen=True)
class SpeakerQuestion:
    speaker: str  # X as written ("Peskov", "the Kremlin")
    topic: str | None  # Y as written ("the audience"), or None


@dataclass
class QuoteAnswer:
    question: SpeakerQuestion
    speakers: list[str]  # the index's speakers X refers to ([] when X is never quoted)
    quotes: list[QuoteRecord]  # the quotes cited, in answer order
    citations: list[Citation]
    text: str
    abstained: bool
    total: int = 0  # how many quotes of X the index holds (about Y or not)
    supplement: list[ScoredSentence] = field(default_factory=list)  # retrieved sentences added after the quotes


def parse_speaker_question(question: str) -> SpeakerQuestion | None:
    """X and Y of "what did X say/tell/claim/think (about Y)", "what has X said", "did X say anything
    about Y", "quotes from X (about Y)"; None for any other question."""
    q = " ".join(question.split()).rstrip(" ?!.")
    for pattern in _PATTERNS:
        m = pattern.search(q)
        if not m:
            continue
        x = _X_TAIL.sub("", m.group("x")).strip(" ,")
        words = x.split()
        if not words or len(words) > 6 or words[0].lower() in _NOT_A_NAME and len(words) == 1:
            return None
        if any(w.lower() in WH_WORDS for w in words):
            return None
        y = (m.group("y") or "").strip(" ,") or None
        return SpeakerQuestion(x, y)
    return None


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


def relevance(topic: str, texts: list[str], embed: EmbedFn, lead_ins: list[str] | None = None) -> list[float]:
    """W_COS·cosine(topic, text) + W_LEX·share of the topic's content stems found in the text; a stem found
    only in the text's lead-in sentence counts LEAD_IN_WEIGHT as much."""
    if not texts:
        return []
    stems = content_stems(topic) - GENERIC
    lead_ins = lead_ins or [""] * len(texts)

    def share(text: str) -> float:
        return len(stems & content_stems(text)) / len(stems) if stems and text else 0.0

    lexical = [W_LEX * max(share(t), LEAD_IN_WEIGHT * share(lead)) for t, lead in zip(texts, lead_ins)]
    # Embedding every quote of a much-quoted speaker grows with the corpus (13 s for one question at 100k
    # chunks, docs/benchmarks.md); beyond MAX_EMBEDDED quotes only the lexically best are embedded and
    # the rest keep their lexical score. Up to MAX_EMBEDDED quotes nothing changes.
    order = sorted(range(len(texts)), key=lambda i: (-lexical[i], i))[:MAX_EMBEDDED]
    vectors = embed([topic, *(texts[i] for i in order)])
    cosines = dict(zip(order, (_cosine(vectors[0], vec) for vec in vectors[1:])))
    return [W_COS * cosines.get(i, 0.0) + lexical[i] for i in range(len(texts))]


MAX_EMBEDDED = 64  # quotes of one speaker embedded per topic question (see relevance)


_SPEECH_WINDOW = 4  # words between a name and its speech verb ("Peskov told", "said chief engineer Tarrow")


def _reports_speech(names: list[str], text: str, speaker: str | None) -> bool:
    """Is ``text`` (a retrieved sentence) something one of ``names`` said? It opens with a pronoun that
    resolves to one of them ("He added that …"), or one of them is named right before a speech verb
    ("Dmitry Peskov told CNBC") or right after one ("said Peskov", "according to Peskov")."""
    if speaker and speaker in names and re.match(r"\s*(?:he|she)\b", text, re.IGNORECASE):
        return True
    words = [re.sub(r"[’']s$", "", w).lower() for w in re.findall(r"[\w’'\-]+", text)]
    surnames = {n.split()[-1].lower() for n in names}
    verbs = [i for i, w in enumerate(words) if w in SPEECH_VERBS or w == "according"]
    return any(
        0 < v - i <= _SPEECH_WINDOW or 0 < i - v <= _SPEECH_WINDOW
        for i, w in enumerate(words) if w in surnames for v in verbs
    )


def _say(unit: list[QuoteRecord], marks: tuple[str, str], again: bool) -> str:
    """One answer sentence (without its marker) for the quote(s) of one sentence.

    A direct quote: "Dmitry Peskov said: “…”". A quote embedded in running text ("Peskov told CNBC that
    Russia “…”"), or a sentence holding several quotes (“A,” said X, “B.”), is given as its whole
    sentence, verbatim, with the speaker named in brackets after a "he said".
    """
    first = unit[0]
    speaker = first.speaker or ""
    sentence = " ".join(first.sentence.split())
    if (first.kind == "partial" or len(unit) > 1) and len(sentence) <= MAX_SENTENCE_CHARS:
        return attributed(ScoredSentence(0, Span(0, len(sentence), sentence), speaker=speaker))
    opening, closing = marks
    lead = speaker[0].upper() + speaker[1:]
    quoted = " … ".join(display_quote(r.quote, full_stop=True) for r in unit)
    return f"{lead}{' also' if again else ''} said: {opening}{quoted}{closing}"


_CLOSING = {"“": "”", "‘": "’", '"': '"', "'": "'"}


def _marks(record: QuoteRecord, chunk: Passage) -> tuple[str, str]:
    """The quotation marks the document uses around this quote (curly double quotes by default)."""
    i = record.start - 1 - (chunk.start or 0)
    opening = chunk.text[i] if 0 <= i < len(chunk.text) else "“"
    return (opening, _CLOSING[opening]) if opening in _CLOSING else ("“", "”")


class _Citations:
    """Numbered citations, one per cited chunk, numbered in order of first use."""

    def __init__(self) -> None:
        self.by_node: dict[str, Citation] = {}

    def cite(self, passage: Passage, span: tuple[int, int], score: float) -> int:
        c = self.by_node.get(passage.node_id)
        if c is None:
            c = Citation(n=len(self.by_node) + 1, doc_id=passage.doc_id, title=passage.title,
                         source=passage.source, text=passage.text, quote="", start=passage.start,
                         end=passage.end, score=score, date=passage.date, node_id=passage.node_id)
            self.by_node[passage.node_id] = c
        if span not in c.quote_spans:
            c.quote_spans = sorted([*c.quote_spans, span])
            c.quote = " ".join(c.text[a:b] for a, b in c.quote_spans)
        c.score = max(c.score, score)
        return c.n

    def all(self) -> list[Citation]:
        return sorted(self.by_node.values(), key=lambda c: c.n)


def answer_from_quotes(
    question: str | SpeakerQuestion,
    index: QuoteIndex,
    *,
    chunks_of: Callable[[str], list[Passage]],
    embed: EmbedFn,
    evidence: Evidence,
    passages: list[Passage],
    threshold: float,
    limit: int = 2,
) -> QuoteAnswer | None:
    """The answer to a who-said-what question, or None when retrieval should answer (see module doc).

    ``evidence``/``passages`` are the normal retrieval results for ``question`` (supplement, and the check
    that a never-quoted person's speech is not reported without quotation marks); ``threshold`` is the
    abstention threshold of the evidence score; ``limit`` bounds the retrieved sentences looked at.
    """
    sq = parse_speaker_question(question) if isinstance(question, str) else question
    if sq is None:
        return None
    names = index.match_speakers(sq.speaker)
    if not names:
        person = index.match_person(sq.speaker)
        if person is None:
            return None  # not a name the sources know: retrieval answers (and abstains by its own rules)
        if evidence.relevant(threshold):
            chosen = select_sentences(evidence, threshold, limit)
            if any(_reports_speech([person], s.span.text, s.speaker) for s in chosen):
                return None  # reported speech without quotation marks: retrieval quotes it
        return QuoteAnswer(sq, [], [], [], f"The sources contain no quotes from {person}.", True)

    records = _distinct([r for r in index.quotes() if r.speaker in names])
    units = _units(records)
    floor = None
    if sq.topic:
        scores = relevance(sq.topic, [u[0].sentence for u in units], embed, [index.lead_in(u[0]) for u in units])
        ranked = sorted(zip(scores, units), key=lambda su: su[0], reverse=True)
        floor = max(RELEVANT, NEAR_BEST * ranked[0][0])
        picked = [(sc, u) for sc, u in ranked if sc >= floor][:TOPIC_LIMIT]
    else:
        picked = [(1.0, u) for u in units[:LIST_LIMIT]]

    cites = _Citations()
    parts: list[str] = []
    shown: list[QuoteRecord] = []
    chunks: dict[str, list[Passage]] = {}
    for score, unit in picked:
        r = unit[0]
        chunk = chunk_for(chunks.setdefault(r.doc_id, chunks_of(r.doc_id)), r.start, unit[-1].end)
        if chunk is None:
            continue  # the document's chunks are gone (deleted since the index was built)
        a = max(r.sentence_start, chunk.start or 0) - (chunk.start or 0)
        b = min(r.sentence_end, chunk.end or 0) - (chunk.start or 0)
        n = cites.cite(chunk, (a, b), score)
        again = any(s.speaker == r.speaker for s in shown)
        parts.append(f"{_say(unit, _marks(r, chunk), again)} [{n}]")
        shown.extend(unit)

    extra = _supplement(names, shown, evidence, passages, threshold)
    if extra and sq.topic and relevance(sq.topic, [extra[0].span.text], embed)[0] < (floor or RELEVANT):
        extra = []  # reports the speaker's words, but not about the topic
    for s in extra:
        p = passages[s.passage]
        n = cites.cite(p, (s.span.start, s.span.end), s.score)
        parts.append(f"{attributed(s)} [{n}]")

    if not parts and not sq.topic:
        return None  # the speaker's documents are gone from the store: let retrieval answer
    if not parts:
        speaker = names[0] if len(names) == 1 else " / ".join(names)
        text = f"The sources quote {speaker}, but not about {sq.topic}."
        return QuoteAnswer(sq, names, [], [], text, True, total=len(records))
    return QuoteAnswer(sq, names, shown, cites.all(), " ".join(parts), False, total=len(records), supplement=extra)


def _words_of(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _units(records: list[QuoteRecord]) -> list[list[QuoteRecord]]:
    """Records grouped by the sentence they sit in (“A,” said X, “B.” is one unit), in order."""
    units: dict[tuple[str, int], list[QuoteRecord]] = {}
    for r in records:
        units.setdefault((r.doc_id, r.sentence_start), []).append(r)
    return list(units.values())


def _distinct(records: list[QuoteRecord]) -> list[QuoteRecord]:
    """The first of each quote reported by several documents (same speaker, same words)."""
    seen: set[tuple[str | None, str]] = set()
    out = []
    for r in records:
        key = (r.speaker, _words_of(r.quote))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _supplement(
    names: list[str], shown: list[QuoteRecord], evidence: Evidence, passages: list[Passage], threshold: float
) -> list[ScoredSentence]:
    """At most one retrieved sentence reporting the speaker's words that no shown quote covers."""
    for s in evidence.sentences:
        if s.score < threshold or evidence.missing_entities:
            break
        p = passages[s.passage]
        if p.start is None:
            continue
        lo, hi = p.start + s.span.start, p.start + s.span.end
        if any(r.doc_id == p.doc_id and lo < r.sentence_end and r.sentence_start < hi for r in shown):
            continue
        said = _words_of(s.span.text)
        if any(len(q.split()) >= 3 and q in said for q in (_words_of(r.quote) for r in shown)):
            continue  # the same words, reported by another document
        if _reports_speech(names, s.span.text, s.speaker):
            return [s]
    return []
