"""Offline condensing of a follow-up question: resolve pronouns to the person or thing last asked about.

Used when no LLM is configured (the LLM mode condenses with the model). Hand-written, deliberately simple:
"he/she/him/her/his/they" → the most recent named entity of the earlier user turns.
"""

from __future__ import annotations

import re

from rag.question import WH_WORDS

_PRONOUNS = {
    "he": "{}", "she": "{}", "him": "{}", "her": "{}'s", "his": "{}'s", "hers": "{}'s",
    "they": "{}", "them": "{}", "their": "{}'s",
}
_PRONOUN_RE = re.compile(r"\b(" + "|".join(_PRONOUNS) + r")\b", re.IGNORECASE)
_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][\w’'\-]+(?:\s+[A-Z][\w’'\-]+)*)")


def _last_entity(turns: list[str]) -> str | None:
    for turn in reversed(turns):
        names = [n for n in _NAME.findall(turn) if n.split()[0].lower() not in WH_WORDS]
        if names:
            return re.sub(r"[’']s$", "", names[-1])
    return None


def condense_offline(question: str, earlier_questions: list[str]) -> str:
    """A standalone version of `question`, or `question` itself when nothing needs resolving."""
    if not earlier_questions or not _PRONOUN_RE.search(question):
        return question
    entity = _last_entity(earlier_questions)
    if entity is None:
        return question

    def swap(match: re.Match[str]) -> str:
        word = match.group(1).lower()
        # "her" before a noun is possessive; on its own (end/verb) it is an object.
        if word == "her":
            after = question[match.end():].lstrip()
            if not after or not after[0].isalpha():
                return entity
        return _PRONOUNS[word].format(entity)

    return _PRONOUN_RE.sub(swap, question, count=2)
