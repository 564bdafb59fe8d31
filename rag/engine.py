"""The question-answering engine: retrieve → score evidence → answer (extractive or LLM) → cite.

One engine per process serves every user: it holds only read-mostly things (models, the retriever for
the current store version, caches of derived data). Per-user state (chat history) is passed in.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator

from ingest.storing import Store
from rag.config import Settings
from rag.condense import condense_offline
from rag.embeddings import load_embed_model
from rag.evidence import Evidence, pronoun_position, rerank, score_evidence
from rag.extractive import extractive_answer
from rag.llm import LLM_ERRORS, describe_failure, make_llm
from rag.llm_answer import condense_with_llm, finish_llm_answer, llm_context, stream_llm
from rag.models import Answer, Passage
from rag.question import analyse
from rag.quote_index import QuoteIndex, document_chunks
from rag.quotes import Quote, extract_quotes
from rag.retrieval import HybridRetriever
from rag.sentences import Span
from rag.speaker_questions import QuoteAnswer, answer_from_quotes, parse_speaker_question
from rag.speakers import resolve_speaker
from rag.verification import verify_answer


class _LRU(OrderedDict):
    """Shared by every request thread: lookups and inserts hold a lock, `make` runs outside it."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size
        self._guard = threading.Lock()

    def get_or(self, key, make: Callable):
        with self._guard:
            if key in self:
                self.move_to_end(key)
                return self[key]
        value = make()
        with self._guard:
            self[key] = value
            self.move_to_end(key)
            while len(self) > self.size:
                self.popitem(last=False)
        return value


class Engine:
    def __init__(self, settings: Settings, store: Store | None = None):
        self.settings = settings
        self.store = store or Store(settings)
        self.embed_model = load_embed_model(settings)
        self._lock = threading.Lock()
        self._retriever: HybridRetriever | None = None
        self._sentence_vectors: _LRU = _LRU(20000)
        self._doc_quotes: _LRU = _LRU(256)
        self._quote_index: QuoteIndex | None = None

    def warm_up(self) -> None:
        """Load the lazy parts (tokenizer, BM25, caches) before the first user waits for them."""
        self.embed_model.get_query_embedding("warm up")
        self.retriever()
        # the persons table too: built lazily it made the first "what did <unquoted person> say?" wait
        # ~13 s at 100k chunks (docs/benchmarks.md)
        _ = self.quote_index().persons

    # -- shared, derived data ----------------------------------------------------------------
    def retriever(self) -> HybridRetriever:
        with self._lock:
            version = self.store.version()
            if self._retriever is None or self._retriever.version != version:
                self._retriever = HybridRetriever(self.store, self.settings, self.embed_model)
            return self._retriever

    def invalidate(self) -> None:
        with self._lock:
            self._retriever = None

    def embed_sentences(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._sentence_vectors]
        if missing:
            for text, vec in zip(missing, self.embed_model.get_text_embedding_batch(missing)):
                self._sentence_vectors.get_or(text, lambda v=vec: v)
        return [self._sentence_vectors.get_or(t, lambda t=t: self.embed_model.get_text_embedding(t)) for t in texts]

    def quotes_of(self, doc_id: str) -> list[Quote]:
        def make() -> list[Quote]:
            text = self.store.document_text(doc_id)
            return extract_quotes(text) if text else []

        return self._doc_quotes.get_or((doc_id, self.store.version()), make)

    def quote_index(self) -> QuoteIndex:
        """Every quotation in the store with its speaker (rebuilt when the store changes)."""
        with self._lock:
            if self._quote_index is None or self._quote_index.version != self.store.version():
                self._quote_index = QuoteIndex.build(self.store)
            return self._quote_index

    def answer_from_quotes(self, question: str, passages: list[Passage], evidence: Evidence) -> QuoteAnswer | None:
        """'What did X say (about Y)?' answered from the quote index; None for other questions."""
        asked = parse_speaker_question(question)
        if asked is None:
            return None
        return answer_from_quotes(
            asked, self.quote_index(), chunks_of=lambda doc_id: document_chunks(self.store, doc_id),
            embed=self.embed_sentences, evidence=evidence, passages=passages,
            threshold=self.settings.abstain_threshold, limit=self.settings.max_quote_sentences,
        )

    def unit_of(self, passage: Passage, span: Span) -> tuple[Span, str | None]:
        """The unit to quote for a sentence and who speaks in it.

        A sentence inside a quotation grows to the whole quoted sentence(s) with their attribution when
        that fits in the passage; a 'he said' resolves to the person named before it in the document.
        """
        if passage.start is None:
            return span, None
        begin, end = passage.start + span.start, passage.start + span.end
        for quote in self.quotes_of(passage.doc_id):
            if quote.speaker and quote.start - 1 <= end and quote.end + 1 >= begin:
                lo, hi = quote.sentence_start - passage.start, quote.sentence_end - passage.start
                if 0 <= lo <= span.start and span.end <= hi <= len(passage.text) and hi - lo <= MAX_UNIT_CHARS:
                    span = Span(lo, hi, passage.text[lo:hi])
                return span, quote.speaker
        pos = pronoun_position(span.text)
        if pos is not None:
            text = self.store.document_text(passage.doc_id)
            if text:
                return span, resolve_speaker(text, begin + pos)
        return span, None

    # -- answering ----------------------------------------------------------------------------
    def gather(self, question: str) -> tuple[list[Passage], Evidence, dict[str, float]]:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        info = analyse(question)
        q_emb = self.embed_model.get_query_embedding(question)
        passages = self.retriever().retrieve(question, q_emb)
        t1 = time.perf_counter()
        evidence = score_evidence(info, q_emb, passages, self.embed_sentences, self.unit_of)
        if self.settings.rerank_pool:
            passages, evidence = rerank(evidence, passages, self.settings.top_k)
        timings["retrieve"] = (t1 - t0) * 1000
        timings["evidence"] = (time.perf_counter() - t1) * 1000
        return passages, evidence, timings

    def resolve_mode(self, mode: str | None = None) -> str:
        wanted = mode or self.settings.answer_mode
        if wanted == "auto":
            return "llm" if self.settings.llm_configured else "extractive"
        return wanted

    def ask(self, question: str, history: list[str] | None = None, mode: str | None = None) -> Answer:
        final = None
        for item in self.stream(question, history, mode):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(
        self, question: str, history: list[str] | None = None, mode: str | None = None
    ) -> Iterator[str | Answer]:
        """Text deltas of the answer as it is written, then the final Answer (citations, verification).

        The final Answer's text is authoritative: after an LLM failure it is the extractive fallback.
        """
        question = validate_question(question)
        t0 = time.perf_counter()
        mode = self.resolve_mode(mode)
        history = (history or [])[-self.settings.history_turns :] if self.settings.history_turns else []
        notice = None
        llm = make_llm(self.settings) if mode == "llm" and self.settings.llm_configured else None
        if mode == "llm" and llm is None:
            notice = "No LLM endpoint is configured (OPENAI_BASE_URL / OPENAI_API_KEY); answering extractively."
        standalone = condense_offline(question, history)
        if llm is not None and history:
            try:
                standalone = condense_with_llm(llm, question, history) or standalone
            except LLM_ERRORS as exc:
                llm, notice = None, describe_failure(exc, self.settings)
        passages, evidence, timings = self.gather(standalone)
        t1 = time.perf_counter()
        quoted = self.answer_from_quotes(standalone, passages, evidence)
        answer = Answer(question=question, answer="", abstained=False, mode="extractive",
                        retrieved=passages, standalone_question=standalone)
        relevant = quoted is not None and not quoted.abstained or quoted is None and evidence.relevant(
            self.settings.abstain_threshold)
        if llm is not None and relevant:
            context = llm_context(passages, quoted.citations if quoted else [], self.settings.top_k)
            try:
                pieces: list[str] = []
                for delta in stream_llm(llm, standalone, context):
                    pieces.append(delta)
                    yield delta
                answer.answer, answer.citations, answer.abstained = finish_llm_answer("".join(pieces), context)
                answer.mode, answer.model = "llm", self.settings.llm_model
            except LLM_ERRORS as exc:
                notice = describe_failure(exc, self.settings)
        if answer.mode != "llm":
            if quoted is not None:
                answer.answer, answer.citations, answer.abstained = quoted.text, quoted.citations, quoted.abstained
            else:
                answer.answer, answer.citations, answer.abstained = extractive_answer(
                    evidence, passages, self.settings.abstain_threshold, self.settings.max_quote_sentences
                )
            for piece in re.findall(r"\S+\s*", answer.answer):
                yield piece
        t2 = time.perf_counter()
        answer.verification = self.verify(answer)
        answer.notice = notice
        timings["answer"] = (t2 - t1) * 1000 + timings.pop("evidence")
        timings["verify"] = (time.perf_counter() - t2) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        answer.timings_ms = timings
        yield answer

    def verify(self, answer: Answer) -> dict:
        numbered = [""] * max((c.n for c in answer.citations), default=0)
        for c in answer.citations:
            numbered[c.n - 1] = c.text
        # An extractive answer quotes its passages verbatim: the lexical check alone gives the same
        # verdicts (all 51 extractive dev/bench answers checked) and saves ~60-90 ms of cold embedding
        # per new question (docs/benchmarks.md). Paraphrasing LLM answers keep the embedding check.
        embed = None if answer.mode == "extractive" else self.embed_sentences
        return verify_answer(answer.answer, numbered, embed)


MAX_QUESTION_CHARS = 2000
MAX_UNIT_CHARS = 600


class BadQuestion(ValueError):
    pass


def validate_question(question: str) -> str:
    cleaned = "".join(ch for ch in (question or "") if ch.isprintable() or ch in "\n\t").strip()
    if not cleaned:
        raise BadQuestion("the question is empty")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise BadQuestion(f"the question is {len(cleaned)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return " ".join(cleaned.split())
