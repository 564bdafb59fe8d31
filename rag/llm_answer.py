"""LLM answers: condense a follow-up, stream the answer, and turn its [n] markers into citations.

Hand-written composition (LlamaIndex's CitationQueryEngine is query-only and re-chunks passages): the
passages are numbered in the prompt, the model cites them as [n], and afterwards out-of-range markers are
removed and every cited passage becomes a Citation whose `quote` is the passage sentence(s) that best
support the answer sentences citing it.
"""

from __future__ import annotations

from collections.abc import Iterator

from llama_index.core.llms import LLM

from rag.citations import cited_numbers, split_answer_sentences, strip_invalid_citations
from rag.citations_build import citation_for
from rag.llm import EmptyReply, answer_messages, condense_messages
from rag.models import Citation, Passage
from rag.sentences import split_sentences
from rag.verification import is_abstention, lexical_support

MAX_CONDENSED_CHARS = 500


def condense_with_llm(llm: LLM, question: str, history: list[str]) -> str | None:
    reply = llm.chat(condense_messages(question, history)).message.content or ""
    line = reply.strip().splitlines()[0].strip().strip('"') if reply.strip() else ""
    return line if 0 < len(line) <= MAX_CONDENSED_CHARS else None


def citation_passage(c: Citation) -> Passage:
    return Passage(node_id=c.node_id, doc_id=c.doc_id, text=c.text, score=c.score, title=c.title,
                   source=c.source, date=c.date, start=c.start, end=c.end)


def llm_context(passages: list[Passage], quote_citations: list[Citation], top_k: int) -> list[Passage]:
    """The numbered passages given to the model: chunks holding the asked-for quotes first, then retrieval."""
    out: list[Passage] = []
    seen: set[str] = set()
    for p in [citation_passage(c) for c in quote_citations] + passages:
        if p.node_id not in seen:
            seen.add(p.node_id)
            out.append(p)
    return out[: max(top_k, len(quote_citations))]


def stream_llm(llm: LLM, question: str, passages: list[Passage]) -> Iterator[str]:
    produced = False
    for chunk in llm.stream_chat(answer_messages(question, passages)):
        if chunk.delta:
            produced = produced or bool(chunk.delta.strip())
            yield chunk.delta
    if not produced:
        raise EmptyReply("empty completion")


def _support_spans(passage: Passage, claims: list[str]) -> list[tuple[int, int]]:
    sentences = split_sentences(passage.text)
    spans = []
    for claim in claims:
        scored = [(lexical_support(claim, s.text), -i, s) for i, s in enumerate(sentences)]
        if scored:
            best = max(scored, key=lambda t: (t[0], t[1]))
            if best[0] > 0:
                spans.append((best[2].start, best[2].end))
    return sorted(set(spans))


def finish_llm_answer(text: str, passages: list[Passage]) -> tuple[str, list[Citation], bool]:
    """(answer text with valid markers only, citations in order of first use, abstained)."""
    clean, _removed = strip_invalid_citations(text.strip(), len(passages))
    numbers = cited_numbers(clean)
    if not numbers and is_abstention(clean):
        return clean, [], True
    claims: dict[int, list[str]] = {n: [] for n in numbers}
    for sentence, cites in split_answer_sentences(clean):
        for n in cites:
            if n in claims:
                claims[n].append(sentence)
    citations = []
    for n in numbers:
        passage = passages[n - 1]
        spans = _support_spans(passage, claims[n])
        citations.append(citation_for(n, passage, spans, passage.score))
    return clean, citations, False
