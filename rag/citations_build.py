"""Turn chosen evidence sentences into numbered citations (numbered in order of first use)."""

from __future__ import annotations

from rag.evidence import ScoredSentence
from rag.models import Citation, Passage


def citation_for(n: int, passage: Passage, spans: list[tuple[int, int]], score: float) -> Citation:
    spans = sorted(set(spans))
    quote = " ".join(passage.text[a:b] for a, b in spans)
    return Citation(
        n=n, doc_id=passage.doc_id, title=passage.title, source=passage.source, text=passage.text,
        quote=quote, start=passage.start, end=passage.end, score=score, date=passage.date,
        node_id=passage.node_id, quote_spans=spans,
    )


def build_citations(
    chosen: list[ScoredSentence], passages: list[Passage]
) -> tuple[list[Citation], dict[int, int]]:
    """Citations, and the citation number of each chosen sentence (keyed by id())."""
    order: list[int] = []
    spans: dict[int, list[tuple[int, int]]] = {}
    scores: dict[int, float] = {}
    numbers: dict[int, int] = {}
    for sent in chosen:
        if sent.passage not in spans:
            order.append(sent.passage)
            spans[sent.passage] = []
            scores[sent.passage] = sent.score
        spans[sent.passage].append((sent.span.start, sent.span.end))
        numbers[id(sent)] = order.index(sent.passage) + 1
    citations = [citation_for(i + 1, passages[p], spans[p], scores[p]) for i, p in enumerate(order)]
    return citations, numbers
