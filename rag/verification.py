"""Check a cited answer against the passages it cites.

For every answer sentence (see :func:`rag.citations.split_answer_sentences`):

* **lexical support** -- fraction of the sentence's content words (casefolded,
  stopwords removed, crude suffix stemming) found in the cited passage.
* **key-term coverage** -- fraction of the sentence's *key terms* (capitalised
  words and numbers: names, places, dates) found in the passage; it multiplies
  the score, so a swapped speaker or date costs more than a paraphrase.
* **embedding support** (when ``embed`` is given) -- cosine between the sentence
  embedding and the best-matching window (one or two consecutive sentences) of
  the cited passage.  All texts are embedded in ONE ``embed`` call.

``score = key_coverage ** KEY_TERM_PENALTY * (lexical if embed is None else
LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * embedding)`` taken as the max
over the cited passages and (for multi-citation sentences) over the union of
the cited passages; ``supported = score >= threshold``.

Sentences that cite nothing (or only out-of-range numbers) score 0 and are
unsupported, except *neutral* sentences, reported ``supported=True``, score 0,
``"neutral": True``: uncited abstentions / notices ("The sources do not say
...", "I could not find ...") and any sentence without a content word ("Yes.",
"In short:").  A *cited* abstention is scored like any other sentence.

Known limits (by design -- this is a cheap heuristic, not an NLI model): a
faithful but heavily paraphrased sentence can fall under the threshold, and a
sentence that reuses the passage's words with a flipped meaning (negation,
swapped subject/object) can pass.

Quoted spans (see :func:`quoted_spans`) must appear verbatim, after
:func:`normalise`, in a passage cited by the sentence containing them; an ellipsis
inside a quote splits it into fragments that must all appear, in order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from rag.citations import split_answer_sentences, strip_markers

Embedder = Callable[[list[str]], list[list[float]]]

#: Calibrated on the CNBC Kremlin/Iran article (tests/test_verification.py): with
#: MiniLM embeddings faithful sentences scored >= 0.75 and wrong ones <= 0.67;
#: lexical-only (``embed=None``) faithful >= 0.75, wrong <= 0.64.
DEFAULT_THRESHOLD = 0.70
LEXICAL_WEIGHT = 0.5
KEY_TERM_WEIGHT = 1.0
KEY_TERM_PENALTY = 1.0
MIN_QUOTE_WORDS = 3

_QUOTE_TRANSLATION = str.maketrans(
    {
        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "﹘": "-", "－": "-",
        "…": "...",
    }
)
_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each either few for from further had hadn't has hasn't have haven't having he
    he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in
    into is isn't it it's its itself just let's may me might more most must mustn't my myself no nor
    not now of off on once only or other ought our ours ourselves out over own same shall shan't she
    she'd she'll she's should shouldn't so some such than that that's the their theirs them
    themselves then there there's these they they'd they'll they're they've this those through to too
    under until up upon us very was wasn't we we'd we'll we're we've were weren't what what's when
    when's where where's which while who who's whom why why's will with won't would wouldn't yet you
    you'd you'll you're you've your yours yourself yourselves
    said says say saying according told tell also however therefore thus still even though although
    whether within without since per via one ones s
    yes ok okay sure short summary overall conclusion briefly note additionally furthermore moreover
    firstly secondly finally
    """.split()
)
_ABSTENTION_RE = re.compile(
    r"\b(?:sources?|passages?|articles?|documents?|context|provided (?:text|information))\b"
    r".*\b(?:do(?:es)?n't|do(?:es)? not|did not|didn't|no|not|neither|nothing)\b"
    r"|\bi (?:can ?not|can't|could not|couldn't|am unable|was unable|do not|don't) "
    r"(?:find|answer|determine|tell|say|confirm|verify|know)\b"
    r"|\b(?:no|not enough|insufficient) (?:information|details?|mention|evidence)\b"
    r"|\bnot (?:mentioned|stated|specified|covered|addressed|reported)\b",
)
_SUFFIXES = (("ies", "y", 5), ("ied", "y", 5), ("ing", "", 6), ("ed", "", 5), ("es", "", 5), ("ly", "", 7), ("s", "", 4))
_ELLIPSIS_RE = re.compile(r"\.\.\.|\[\.\.\.\]")
_QUOTE_RE = re.compile(r'"([^"\n]+)"')


def normalise(text: str) -> str:
    """Curly quotes → straight, dashes → ``-``, ``…`` → ``...``, whitespace collapsed, casefolded."""
    return re.sub(r"\s+", " ", text.translate(_QUOTE_TRANSLATION)).strip().casefold()


def _stem(word: str) -> str:
    """Very crude suffix stripping (two rounds): plural / tense / adverb variants meet.

    ``supplied``/``supplies``/``supply`` → ``supply``; ``reportedly``/``reported`` →
    ``report``; ``balance``/``balancing`` → ``balanc``.
    """
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    for _ in range(2):
        for suffix, repl, min_len in _SUFFIXES:
            if len(word) >= min_len and word.endswith(suffix) and not word.endswith("ss"):
                word = word[: -len(suffix)] + repl
                break
        else:
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def _terms(text: str) -> dict[str, bool]:
    """Content-word stems of ``text`` → whether the word is a *key term*.

    Key terms are words with a capital letter (in the original text, not only at
    the start of the text) or a digit.
    """
    terms: dict[str, bool] = {}
    plain = strip_markers(text).translate(_QUOTE_TRANSLATION)
    for index, match in enumerate(_WORD_RE.finditer(plain)):
        raw = match.group(0)
        word = raw.casefold()
        if word in _STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        is_key = any(c.isdigit() for c in raw) or (raw[0].isupper() and (index > 0 or raw.isupper()))
        stem = _stem(word)
        terms[stem] = terms.get(stem, False) or is_key
    return terms


def _stems(text: str) -> set[str]:
    return set(_terms(text))


def has_content(sentence: str) -> bool:
    """Does ``sentence`` contain at least one content word?"""
    return bool(_terms(sentence))


def is_abstention(sentence: str) -> bool:
    """Abstention / notice sentence ("The sources do not say ...", "I could not find ...")."""
    return bool(_ABSTENTION_RE.search(normalise(strip_markers(sentence))))


def lexical_support(sentence: str, passage: str) -> float:
    """Share of ``sentence``'s content-word stems found in ``passage`` (key terms weigh KEY_TERM_WEIGHT)."""
    terms = _terms(sentence)
    if not terms:
        return 0.0
    found = _stems(passage)
    total = sum(KEY_TERM_WEIGHT if key else 1.0 for key in terms.values())
    hit = sum(KEY_TERM_WEIGHT if key else 1.0 for stem, key in terms.items() if stem in found)
    return hit / total


def key_coverage(sentence: str, passage: str) -> float:
    """Share of ``sentence``'s key terms (names, numbers) found in ``passage``; 1.0 if it has none."""
    keys = [stem for stem, key in _terms(sentence).items() if key]
    if not keys:
        return 1.0
    found = _stems(passage)
    return sum(stem in found for stem in keys) / len(keys)


def quoted_spans(answer: str) -> list[str]:
    """Quotations in ``answer`` (inside “…” or "…") of at least ``MIN_QUOTE_WORDS`` words.

    Shorter quoted bits are usually scare quotes or terms ("Global South",
    ‘strategic’) rather than claims about what somebody said, so they are
    ignored.  Single quotes are not treated as quotation marks (apostrophes).
    Spans are returned as written (citation markers removed, trimmed).
    """
    text = answer.replace("“", '"').replace("”", '"').replace("„", '"').replace("‟", '"')
    spans: list[str] = []
    for match in _QUOTE_RE.finditer(text):
        span = strip_markers(match.group(1)).strip()
        if len(_WORD_RE.findall(span)) >= MIN_QUOTE_WORDS:
            spans.append(span)
    return spans


def quote_in_passage(span: str, passage: str) -> bool:
    """``span`` appears verbatim (after normalise) in ``passage``; ``...`` allows gaps."""
    haystack = normalise(passage)
    position = 0
    for fragment in _ELLIPSIS_RE.split(normalise(span)):
        fragment = fragment.strip(" .,;:!?'\"-")
        if not fragment:
            continue
        found = haystack.find(fragment, position)
        if found < 0:
            return False
        position = found + len(fragment)
    return True


def _windows(passage: str) -> list[str]:
    sentences = [text for text, _ in split_answer_sentences(passage)]
    pairs = [f"{a} {b}" for a, b in zip(sentences, sentences[1:])]
    return sentences + pairs or [passage]


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def verify_answer(
    answer: str,
    passages: list[str],
    embed: Embedder | None,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """Verify every sentence and quotation of ``answer`` against ``passages``.

    ``passages[i]`` is passage number ``i + 1``.  The same default threshold
    works with and without ``embed`` (see :data:`DEFAULT_THRESHOLD`).
    Citations outside ``1..len(passages)`` support nothing.  ``embed`` is
    called at most once, with every sentence and passage window to embed.
    Returns::

        {"sentences": [{"text", "cites", "supported", "score", "neutral"}],
         "quotes_verified": bool, "unverified_quotes": [str]}
    """
    sentences = split_answer_sentences(answer)
    valid = [[n for n in cites if 1 <= n <= len(passages)] for _, cites in sentences]

    # --- one batched embedding call -------------------------------------------
    sims: dict[tuple[int, int], float] = {}
    if embed is not None:
        to_score = [i for i, (text, _) in enumerate(sentences) if valid[i] and has_content(text)]
        cited = sorted({n for i in to_score for n in valid[i]})
        windows = {n: _windows(passages[n - 1]) for n in cited}
        texts = [strip_markers(sentences[i][0]) for i in to_score]
        offsets: dict[int, tuple[int, int]] = {}
        for n in cited:
            offsets[n] = (len(texts), len(texts) + len(windows[n]))
            texts.extend(windows[n])
        vectors = embed(texts) if texts else []
        for row, i in enumerate(to_score):
            for n in valid[i]:
                lo, hi = offsets[n]
                sims[(i, n)] = max(_cosine(vectors[row], vectors[k]) for k in range(lo, hi))

    def combine(text: str, passage: str, emb: float | None) -> float:
        lexical = lexical_support(text, passage)
        base = lexical if emb is None else LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * max(emb, 0.0)
        return base * key_coverage(text, passage) ** KEY_TERM_PENALTY

    results: list[dict[str, Any]] = []
    unverified: list[str] = []
    for i, (text, cites) in enumerate(sentences):
        neutral = not has_content(text) or (not valid[i] and is_abstention(text))
        score = 0.0
        if valid[i] and not neutral:
            candidates = [combine(text, passages[n - 1], sims.get((i, n))) for n in valid[i]]
            if len(valid[i]) > 1:
                union = "\n".join(passages[n - 1] for n in valid[i])
                best_emb = max(sims[(i, n)] for n in valid[i]) if embed is not None else None
                candidates.append(combine(text, union, best_emb))
            score = max(candidates)
        supported = neutral or score >= threshold
        results.append(
            {"text": text, "cites": cites, "supported": supported, "score": round(score, 4), "neutral": neutral}
        )
        for span in quoted_spans(text):
            if not any(quote_in_passage(span, passages[n - 1]) for n in valid[i]):
                unverified.append(span)
    return {"sentences": results, "quotes_verified": not unverified, "unverified_quotes": unverified}
