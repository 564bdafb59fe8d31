"""The quote index of a store: every quotation of every ingested document with its speaker and offsets.

Built from the documents' stored (cleaned) text with ``rag.quotes.extract_quotes`` — the same text the
chunk offsets point into, so ``document_text(doc_id)[r.start:r.end] == r.quote`` for every record. It is
computed, not persisted: extraction takes a few milliseconds per article (see docs/quotes.md for the
figure at 100 documents), and ``Engine.quote_index()`` keeps one index per ``Store.version()``.

Also here: the people named in the sources (``index_persons``; used to tell "a person in the sources who
is never quoted" from "a name the sources do not know"), and the lookup of the stored chunk that holds a
quote (a Chroma ``get`` filtered on ``document_id``). Hand-written: nothing in LlamaIndex or Chroma
indexes quotations.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from llama_index.core.schema import NodeWithScore
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from ingest.storing import DocumentInfo, Store
from rag.models import Passage
from rag.quotes import extract_quotes, speaker_matches
from rag.retrieval import to_passage
from rag.sentences import split_sentences
from rag.speakers import ROLE_WORDS, index_persons

__all__ = ["QuoteIndex", "QuoteRecord", "chunk_for", "display_quote", "document_chunks"]


@dataclass(frozen=True)
class QuoteRecord:
    speaker: str | None  # None for a scare-quoted term or an unattributed fragment
    quote: str  # verbatim text inside the quotation marks
    doc_id: str
    title: str
    source: str
    start: int  # offsets of `quote` in the stored document text
    end: int
    sentence: str  # the sentence(s) the quote sits in, verbatim
    kind: str  # "direct" | "partial" | "term"
    sentence_start: int = 0  # offsets of `sentence` in the stored document text
    sentence_end: int = 0
    date: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def display_quote(text: str, full_stop: bool = False) -> str:
    """A quote for display: a re-opened paragraph becomes " … ", whitespace is collapsed, and a final comma
    (“… further,” he said) is dropped, or with ``full_stop`` becomes a full stop (a quote standing as its
    own sentence). Every word stays verbatim."""
    text = re.sub(r"\s*\n\s*[“‘\"']", " … ", text)
    text = " ".join(text.split())
    if text.endswith(","):
        text = text[:-1] + ("." if full_stop else "")
    return text


def _words(name: str) -> list[str]:
    return re.findall(r"[\w’'\-]+", name)


def _name_variants(name: str) -> list[str]:
    """The name as asked, then with a leading title dropped: "Israeli Prime Minister Benjamin Netanyahu"
    → … → "Benjamin Netanyahu"; "President Putin" → "Putin". A single surname is tried only after a
    title word, so "Mary Smith" never falls back to a bare "Smith"."""
    words = _words(name)
    out = [" ".join(words)] if words else []
    for k in range(1, len(words)):
        rest = words[k:]
        if len(rest) >= 2 or words[k - 1].lower() in ROLE_WORDS:
            out.append(" ".join(rest))
    return out


def _best_match(query: str, names: Iterable[str]) -> list[str]:
    names = list(names)
    for variant in _name_variants(query):
        hits = [n for n in names if speaker_matches(variant, n)]
        if hits:
            return hits
    return []


class QuoteIndex:
    """All quotations of a set of documents; records in document order (date, title, offset)."""

    def __init__(self, records: list[QuoteRecord], texts: dict[str, str] | None = None, version: str = ""):
        self.records = records
        self.version = version
        self._texts = texts or {}  # doc_id → stored text
        self._persons: Counter[str] | None = None
        self._lock = threading.Lock()

    @property
    def persons(self) -> Counter[str]:
        """People named in the sources → number of mentions (computed on first use: a third of the cost
        of building the index, and only needed when someone asks about a person who is never quoted)."""
        with self._lock:
            if self._persons is None:
                self._persons = Counter(m.name for t in self._texts.values() for m in index_persons(t).mentions)
            return self._persons

    @classmethod
    def build(cls, store: Store) -> QuoteIndex:
        version = store.version()
        docs = [(info, store.document_text(info.doc_id) or "") for info in store.documents()]
        index = cls.from_documents(docs)
        index.version = version
        return index

    @classmethod
    def from_documents(cls, docs: Iterable[tuple[DocumentInfo, str]]) -> QuoteIndex:
        records: list[QuoteRecord] = []
        texts: dict[str, str] = {}
        for info, text in sorted(docs, key=lambda d: (d[0].date or "9999", d[0].title.lower(), d[0].doc_id)):
            if not text:
                continue
            texts[info.doc_id] = text
            for q in extract_quotes(text):
                records.append(QuoteRecord(
                    speaker=q.speaker, quote=q.quote, doc_id=info.doc_id, title=info.title,
                    source=info.source, start=q.start, end=q.end, sentence=q.sentence, kind=q.kind,
                    sentence_start=q.sentence_start, sentence_end=q.sentence_end, date=info.date,
                ))
        return cls(records, texts)

    # -- listing ----------------------------------------------------------------------------
    def speakers(self) -> list[tuple[str, int]]:
        """(speaker, number of quotes), most quotes first; terms and unattributed quotes excluded."""
        counts = Counter(r.speaker for r in self.records if r.speaker)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].lower()))

    def quotes(self, speaker: str | None = None) -> list[QuoteRecord]:
        """Attributed quotes in document order; with ``speaker``, those whose speaker matches it
        (case-insensitive; a surname or "Mr Peskov" matches "Dmitry Peskov")."""
        attributed = [r for r in self.records if r.speaker]
        if speaker is None:
            return attributed
        names = set(self.match_speakers(speaker))
        return [r for r in attributed if r.speaker in names]

    def unattributed(self) -> list[QuoteRecord]:
        """Quotations without a speaker: scare-quoted terms (kind "term") and unattributed fragments."""
        return [r for r in self.records if not r.speaker]

    def lead_in(self, record: QuoteRecord) -> str:
        """The sentence before the quote's sentence in the same or the previous paragraph ("" if none):
        it often says what the quote is about ("The meeting lasted two hours. ‘It was a frank …’")."""
        text = self._texts.get(record.doc_id, "")
        before = text[max(0, record.sentence_start - 600) : record.sentence_start]
        if before.rstrip(" ").endswith("\n\n"):
            return ""  # a new section or story after a blank line
        sentences = split_sentences(before)
        return sentences[-1].text if sentences else ""

    # -- name lookup ------------------------------------------------------------------------
    def match_speakers(self, name: str) -> list[str]:
        """Speakers (as stored) that ``name`` refers to; [] if none."""
        return _best_match(name, dict.fromkeys(r.speaker for r in self.records if r.speaker))

    def match_person(self, name: str) -> str | None:
        """The person named in the sources that ``name`` refers to (quoted or not), or None."""
        hits = _best_match(name, self.persons)
        return max(hits, key=lambda n: self.persons[n]) if hits else None


# -- the stored chunk that holds a quote ---------------------------------------------------------
def document_chunks(store: Store, doc_id: str) -> list[Passage]:
    """Every stored chunk of one document as a Passage, in document order."""
    page = store.collection.get(where={"document_id": doc_id}, include=["documents", "metadatas"])
    out = []
    for node_id, text, meta in zip(page["ids"], page["documents"], page["metadatas"]):
        node = metadata_dict_to_node(meta, text=text)
        node.id_ = node_id
        out.append(to_passage(NodeWithScore(node=node, score=0.0)))
    return sorted(out, key=lambda p: (p.start is None, p.start or 0))


def chunk_for(chunks: list[Passage], start: int, end: int) -> Passage | None:
    """The chunk holding document span [start, end): one covering it whole, else the one overlapping it
    most (a sentence split across two chunks); None if no chunk overlaps it."""
    best: tuple[int, Passage] | None = None
    for p in chunks:
        if p.start is None or p.end is None:
            continue
        overlap = min(end, p.end) - max(start, p.start)
        if overlap > 0 and (best is None or overlap > best[0]):
            best = (overlap, p)
    return best[1] if best else None
