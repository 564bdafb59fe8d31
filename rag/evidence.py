"""Evidence scoring: which sentences of the retrieved passages answer the question, and how well.

Both answer modes use it: the extractive answerer quotes the best sentences, and the LLM mode abstains
before calling the model when the best score is below the calibrated threshold. Hand-written: a blend of
lexical coverage of the question's terms (IDF-weighted, stemmed) and MiniLM cosine similarity, gated on
the question's named entities appearing in the passages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.models import Passage
from rag.question import QuestionInfo, content_stems, tokens
from rag.sentences import Span, split_sentences

EmbedFn = Callable[[list[str]], list[list[float]]]
# (passage, sentence) → (the unit to quote: the sentence or the whole quotation it belongs to, its speaker)
UnitFn = Callable[[Passage, Span], "tuple[Span, str | None]"]

W_COS, W_LEX, W_RESID = 0.5, 0.3, 0.2
SEMANTIC_CANDIDATES = 10  # sentences embedded per question (the best by lexical score)
_PRONOUN_ATTRIBUTION = re.compile(
    r"\b(?P<pron>he|she)\s+(?:said|added|noted|insisted|told|stated|argued|warned|claimed|explained|"
    r"continued|wrote|declared|stressed|replied|vowed)\b|"
    r"\b(?:said|added|noted|insisted)\s+(?P<pron2>he|she)\b",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^#+\s|^[-*]\s*$")
_TERMINAL = re.compile(r"[.!?:;…”\"’')\]]$")


def looks_like_heading(sentence: str) -> bool:
    """Headings and list stubs: markdown '#', or a short line without closing punctuation."""
    text = sentence.strip()
    return bool(_HEADING.match(text)) or (len(text.split()) <= 8 and not _TERMINAL.search(text))


@dataclass
class ScoredSentence:
    passage: int  # index into the passages list
    span: Span  # offsets inside the passage text
    cos: float = 0.0
    lex: float = 0.0
    resid: float = 0.0
    score: float = 0.0
    speaker: str | None = None  # who is speaking, when the sentence is reported speech


@dataclass
class Evidence:
    sentences: list[ScoredSentence]  # best first
    missing_entities: list[str]
    best: float

    def relevant(self, threshold: float) -> bool:
        return not self.missing_entities and self.best >= threshold


def pronoun_position(sentence: str) -> int | None:
    match = _PRONOUN_ATTRIBUTION.search(sentence)
    if not match:
        return None
    return match.start("pron") if match.group("pron") else match.start("pron2")


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a)) or 1.0
    nb = math.sqrt(sum(y * y for y in b)) or 1.0
    return dot / (na * nb)


def missing_entities(info: QuestionInfo, passages: list[Passage]) -> list[str]:
    present = set()
    for p in passages:
        present.update(tokens(p.text))
        present.update(tokens(p.title))
    return [" ".join(phrase) for phrase in info.entities if any(w not in present for w in phrase)]


def candidate_sentences(passages: list[Passage], unit_of: UnitFn | None = None) -> list[ScoredSentence]:
    out: dict[tuple[int, int, int], ScoredSentence] = {}
    for i, passage in enumerate(passages):
        for span in split_sentences(passage.text):
            if len(tokens(span.text)) < 3 or looks_like_heading(span.text):
                continue
            unit, speaker = unit_of(passage, span) if unit_of else (span, None)
            out.setdefault((i, unit.start, unit.end), ScoredSentence(i, unit, speaker=speaker))
    return list(out.values())


def score_evidence(
    info: QuestionInfo,
    question_embedding: list[float],
    passages: list[Passage],
    embed: EmbedFn,
    unit_of: UnitFn | None = None,
) -> Evidence:
    candidates = candidate_sentences(passages, unit_of)
    missing = missing_entities(info, passages)
    if not candidates or not info.terms and not question_embedding:
        return Evidence([], missing, 0.0)
    stems = [content_stems(c.span.text + " " + (c.speaker or "")) for c in candidates]
    n = len(candidates)
    weights = {t: math.log((n + 1) / (0.5 + sum(t in s for s in stems))) + 1.0 for t in info.terms}
    total = sum(weights.values()) or 1.0
    for cand, s in zip(candidates, stems):
        cand.lex = sum(w for t, w in weights.items() if t in s) / total if weights else 0.0
        cand.resid = (len(info.residual & s) / len(info.residual)) if info.residual else 1.0
    # Embed only the lexically most promising sentences (plus each passage's best), one batch.
    ranked = sorted(range(n), key=lambda i: (candidates[i].lex, -i), reverse=True)
    chosen = set(ranked[:SEMANTIC_CANDIDATES])
    vectors = embed([candidates[i].span.text for i in sorted(chosen)])
    for i, vec in zip(sorted(chosen), vectors):
        candidates[i].cos = _cosine(question_embedding, vec)
    for cand in candidates:
        cand.score = W_COS * cand.cos + W_LEX * cand.lex + W_RESID * cand.resid
    candidates.sort(key=lambda c: c.score, reverse=True)
    return Evidence(candidates, missing, candidates[0].score)


def rerank(evidence: Evidence, passages: list[Passage], keep: int) -> tuple[list[Passage], Evidence]:
    """Re-order passages by their best sentence's evidence score and keep the first `keep`.

    A hand-written re-ranker (no cross-encoder ships offline here): fused retrieval finds candidates,
    the sentence-level evidence score orders them. Passage scores become that evidence score, so the
    list stays best-first; sentence indices are remapped to the kept list.
    """
    best: dict[int, float] = {}
    for sent in evidence.sentences:
        best[sent.passage] = max(best.get(sent.passage, 0.0), sent.score)
    order = sorted(range(len(passages)), key=lambda i: (-best.get(i, 0.0), i))[:keep]
    new_index = {old: new for new, old in enumerate(order)}
    kept = []
    for i in order:
        passage = passages[i]
        passage.score = best.get(i, 0.0)
        kept.append(passage)
    sentences = [s for s in evidence.sentences if s.passage in new_index]
    for s in sentences:
        s.passage = new_index[s.passage]
    return kept, Evidence(sentences, evidence.missing_entities, evidence.best)
