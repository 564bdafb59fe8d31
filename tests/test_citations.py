from __future__ import annotations

import pytest

from rag.citations import (
    cited_numbers,
    split_answer_sentences,
    strip_invalid_citations,
    strip_markers,
)

ANSWER = (
    "The Kremlin will not abandon Iran [1]. Peskov spoke to CNBC on Tuesday. [2] "
    "“We are developing cooperation with Iran. We intend to do this further,” he said [2][3]. "
    "Israel assured the U.S. it would not target oil sites [4, 9]. "
    "On Oct. 1 Iran fired missiles at Israel [7;8]."
)


# --------------------------------------------------------------- cited_numbers
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No markers here.", []),
        ("One [1].", [1]),
        ("Two [2, 1] and again [1].", [2, 1]),
        ("Adjacent [3][1][3].", [3, 1]),
        ("Spaces [ 4 ,5 ] and semicolons [6;7].", [4, 5, 6, 7]),
        ("Not markers: [Saturday], [sic], [a1], [].", []),
        ("Big [12] numbers [10].", [12, 10]),
    ],
)
def test_cited_numbers(text: str, expected: list[int]) -> None:
    assert cited_numbers(text) == expected


def test_cited_numbers_order_of_first_appearance() -> None:
    assert cited_numbers(ANSWER) == [1, 2, 3, 4, 9, 7, 8]


# ---------------------------------------------------- strip_invalid_citations
def test_strip_invalid_keeps_valid_and_tidies_lists() -> None:
    clean, removed = strip_invalid_citations("Iran [1, 7]. Russia [2].", 3)
    assert clean == "Iran [1]. Russia [2]."
    assert removed == [7]


def test_strip_invalid_removes_empty_marker_and_space_before() -> None:
    clean, removed = strip_invalid_citations("Iran [9]. Russia [0][2] and Israel [5] [8].", 3)
    assert clean == "Iran. Russia [2] and Israel."
    assert removed == [9, 0, 5, 8]


def test_strip_invalid_adjacent_invalid_markers_do_not_glue_words() -> None:
    clean, _ = strip_invalid_citations("Iran [7][8] is under pressure.", 3)
    assert clean == "Iran is under pressure."


def test_strip_invalid_marker_at_line_start() -> None:
    clean, removed = strip_invalid_citations("[7] Iran is under pressure [1].\n[8] Next line.", 2)
    assert clean == "Iran is under pressure [1].\nNext line."
    assert removed == [7, 8]


def test_strip_invalid_nothing_to_do_is_identity() -> None:
    text = "Iran [1]. Russia [2]. A bracket [Saturday] stays."
    assert strip_invalid_citations(text, 2) == (text, [])


def test_strip_invalid_zero_passages_removes_all() -> None:
    clean, removed = strip_invalid_citations(ANSWER, 0)
    assert cited_numbers(clean) == []
    assert removed == [1, 2, 3, 4, 9, 7, 8]
    assert "  " not in clean


def test_strip_invalid_dedupes_inside_marker() -> None:
    assert strip_invalid_citations("x [1, 1, 2]", 5) == ("x [1, 2]", [])


def test_strip_markers() -> None:
    assert strip_markers("Iran [1]. Russia [2, 3] [4].") == "Iran. Russia."


# ----------------------------------------------------- split_answer_sentences
def test_split_answer_sentences_main_cases() -> None:
    assert split_answer_sentences(ANSWER) == [
        ("The Kremlin will not abandon Iran.", [1]),
        ("Peskov spoke to CNBC on Tuesday.", [2]),  # ". [2]" belongs to the sentence before
        ("“We are developing cooperation with Iran. We intend to do this further,” he said.", [2, 3]),
        ("Israel assured the U.S. it would not target oil sites.", [4, 9]),
        ("On Oct. 1 Iran fired missiles at Israel.", [7, 8]),
    ]


def test_sentence_without_marker_inherits_nothing() -> None:
    assert split_answer_sentences("Iran is under pressure [1]. Russia is an ally. Israel vowed revenge [2].") == [
        ("Iran is under pressure.", [1]),
        ("Russia is an ally.", []),
        ("Israel vowed revenge.", [2]),
    ]


def test_markers_inside_sentence_and_question_exclamation() -> None:
    assert split_answer_sentences("Did Russia [1] help Iran [3]? Yes! It did [2]") == [
        ("Did Russia help Iran?", [1, 3]),
        ("Yes!", []),
        ("It did", [2]),
    ]


def test_lines_bullets_and_marker_only_lines() -> None:
    text = "Key points:\n- Russia backs Iran [1]\n* Israel vowed revenge [2]\n1. BRICS meets in Kazan [3]\n[4]\n\nDone."
    assert split_answer_sentences(text) == [
        ("Key points:", []),
        ("Russia backs Iran", [1]),
        ("Israel vowed revenge", [2]),
        ("BRICS meets in Kazan", [3, 4]),
        ("Done.", []),
    ]


def test_decimals_and_lowercase_continuations_do_not_split() -> None:
    text = "Oil rose 3.5 percent, approx. the most in a year [1]. Dr. Smith agreed [2]."
    assert split_answer_sentences(text) == [
        ("Oil rose 3.5 percent, approx. the most in a year.", [1]),
        ("Dr. Smith agreed.", [2]),
    ]


def test_closing_quote_after_period() -> None:
    text = "He said “we will pay a heavy price.” [5] Then he left."
    assert split_answer_sentences(text) == [("He said “we will pay a heavy price.”", [5]), ("Then he left.", [])]


def test_empty_answer() -> None:
    assert split_answer_sentences("") == []
    assert split_answer_sentences("  \n ") == []
