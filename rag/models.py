"""Data passed between retrieval, answering, citations and the UIs; `Answer.to_dict` is the JSON contract."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Passage:
    node_id: str
    doc_id: str
    text: str
    score: float
    title: str = ""
    source: str = ""
    date: str = ""
    kind: str = ""
    start: int | None = None  # offsets of the passage in its (cleaned) source document
    end: int | None = None


@dataclass
class Citation:
    n: int
    doc_id: str
    title: str
    source: str
    text: str  # the whole cited passage
    quote: str  # the cited sentence(s), verbatim from the passage
    start: int | None
    end: int | None
    score: float
    date: str = ""
    node_id: str = ""
    quote_spans: list[tuple[int, int]] = field(default_factory=list)  # offsets of quoted sentences in `text`

    def to_dict(self) -> dict:
        return {
            "n": self.n, "doc_id": self.doc_id, "title": self.title, "source": self.source, "date": self.date,
            "text": self.text, "quote": self.quote, "start": self.start, "end": self.end,
            "score": round(self.score, 4), "node_id": self.node_id,
            "quote_spans": [list(s) for s in self.quote_spans],
        }


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    mode: str  # "extractive" | "llm"
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str | None = None
    notice: str | None = None
    model: str | None = None
    verification: dict | None = None

    def to_dict(self) -> dict:
        out = {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "mode": self.mode,
            "citations": [c.to_dict() for c in self.citations],
            "retrieved": [
                {"doc_id": p.doc_id, "node_id": p.node_id, "title": p.title, "text": p.text,
                 "score": round(p.score, 6)}
                for p in self.retrieved
            ],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
        if self.standalone_question and self.standalone_question != self.question:
            out["standalone_question"] = self.standalone_question
        if self.notice:
            out["notice"] = self.notice
        if self.model:
            out["model"] = self.model
        if self.verification is not None:
            out["verification"] = self.verification
        return out

