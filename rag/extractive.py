"""The offline answerer: quote the best evidence sentences verbatim with [n] markers, or abstain."""

from __future__ import annotations

from rag.citations_build import build_citations
from rag.evidence import Evidence, ScoredSentence, pronoun_position
from rag.models import Citation, Passage

ABSTAIN_TEXT = "The sources do not contain an answer to this question."
_NEAR_BEST = 0.85  # a second sentence is quoted only when it scores this close to the best


def abstain_text(missing_entities: list[str]) -> str:
    if missing_entities:
        names = ", ".join(f"“{m.title()}”" for m in missing_entities)
        return f"{ABSTAIN_TEXT} The sources do not mention {names}."
    return ABSTAIN_TEXT


def select_sentences(evidence: Evidence, threshold: float, limit: int) -> list[ScoredSentence]:
    if not evidence.sentences:
        return []
    best = evidence.sentences[0]
    chosen = [best]
    for cand in evidence.sentences[1:]:
        if len(chosen) >= limit or cand.score < max(threshold, _NEAR_BEST * best.score):
            break
        if not any(c.passage == cand.passage and c.span == cand.span for c in chosen):
            chosen.append(cand)
    return chosen


def attributed(sentence: ScoredSentence) -> str:
    """The sentence verbatim; a pronoun attribution gets the speaker in brackets: 'he [Dmitry Peskov] said'."""
    text = sentence.span.text
    if not sentence.speaker:
        return text
    pos = pronoun_position(text)
    if pos is not None:
        end = pos + len(text[pos:].split(maxsplit=1)[0])
        return f"{text[:end]} [{sentence.speaker}]{text[end:]}"
    surname = sentence.speaker.split()[-1]
    if surname.lower() not in text.lower():
        return f"{sentence.speaker}, quoted in the source: {text}"
    return text


def extractive_answer(
    evidence: Evidence, passages: list[Passage], threshold: float, limit: int
) -> tuple[str, list[Citation], bool]:
    """(answer text, citations, abstained)."""
    if not evidence.relevant(threshold):
        return abstain_text(evidence.missing_entities), [], True
    chosen = select_sentences(evidence, threshold, limit)
    citations, numbers = build_citations(chosen, passages)
    parts = [f"{attributed(s)} [{numbers[id(s)]}]" for s in chosen]
    return " ".join(parts), citations, False
