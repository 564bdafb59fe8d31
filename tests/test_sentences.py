from pathlib import Path

import pytest

from rag.sentences import Span, split_sentences

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpus" / "kremlin-iran-cnbc-2024-10.txt"
DOCS = [SEED, *sorted((ROOT / "tests" / "data" / "quotes").glob("*.txt"))]


def texts(spans: list[Span]) -> list[str]:
    return [s.text for s in spans]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_offsets_are_exact_and_stripped(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    spans = split_sentences(text)
    assert spans
    for s in spans:
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert "\n" not in s.text  # every line break ends a sentence
    starts = [s.start for s in spans]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))


def test_seed_article_quote_sentences_keep_closing_marks() -> None:
    text = SEED.read_text(encoding="utf-8")
    sents = texts(split_sentences(text))
    assert sents[0] == (
        "The Kremlin said it has no intention of abandoning Iran as it faces a "
        "widely-expected direct attack from Israel."
    )
    assert "Russia and Iran’s ‘strategic’ deal" in sents  # headline line is its own sentence
    assert "Read more" in sents
    # closing ” after the period stays with its sentence
    assert (
        "Peskov told CNBC that Russia “maintains a dialogue with all parties involved in the "
        "conflict in the Middle East.”"
    ) in sents
    assert any(s.endswith("to ensure our security for generations.") for s in sents)
    assert any(s.startswith("We intend to do this further,” Kremlin Press Secretary") for s in sents)
    # "Oct. 1." is not split after "Oct."
    assert any(s.endswith("on its territory on Oct. 1.") for s in sents)


def test_abbreviations() -> None:
    text = "Then Mr. Smith met Dr. Jones on Oct. 1 in the U.S. The talks ended. It was in the U.S. Senate."
    assert texts(split_sentences(text)) == [
        "Then Mr. Smith met Dr. Jones on Oct. 1 in the U.S.",
        "The talks ended.",
        "It was in the U.S. Senate.",
    ]


def test_initialism_before_lowercase_word_is_not_a_boundary() -> None:
    text = "Batteries sold in the U.S. and Canada were recalled. Nobody was hurt."
    assert texts(split_sentences(text)) == [
        "Batteries sold in the U.S. and Canada were recalled.",
        "Nobody was hurt.",
    ]


def test_newlines_and_blank_lines() -> None:
    text = "  Headline without period\n\nFirst sentence. Second one!\n   \nLast line?  "
    spans = split_sentences(text)
    assert texts(spans) == ["Headline without period", "First sentence.", "Second one!", "Last line?"]
    assert spans[0].start == 2


def test_empty_text() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\n ") == []
