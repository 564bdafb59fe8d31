"""'What did X say (about Y)?' answered from the quote index: verbatim quotes, chunk citations, honest abstention."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rag.citations import cited_numbers
from rag.quote_index import display_quote
from rag.speaker_questions import SpeakerQuestion, parse_speaker_question
from rag.verification import quote_in_passage, quoted_spans
from tests.conftest import make_settings

DATA = Path(__file__).parent / "data" / "quotes"
PESKOV = [
    "We are developing cooperation with Iran in a variety of areas. We intend to do this further",
    "This cooperation is in no way directed against third countries",
    "maintains a dialogue with all parties involved in the conflict in the Middle East.",
]


def check_citations(engine, answer) -> None:
    """The JSON contract: every [n] resolves, each citation is a stored chunk of its document, its quote is
    the text at its quote_spans, every part of the answer ends with a marker, and every quotation in a part
    is verbatim (after the verifier's normalisation) in a passage that part cites."""
    assert cited_numbers(answer.answer) == [c.n for c in answer.citations]
    for c in answer.citations:
        assert engine.store.document_text(c.doc_id)[c.start:c.end] == c.text
        assert c.quote == " ".join(c.text[a:b] for a, b in c.quote_spans)
    by_n = {c.n: c.text for c in answer.citations}
    # parts, not split_answer_sentences: that splitter does not yet keep a ‘…’ quotation of two sentences whole
    parts = re.findall(r"(.+?)((?:\s*\[\d+\])+)(?=\s|$)", answer.answer)
    assert "".join(p + m for p, m in parts).replace(" ", "") == answer.answer.replace(" ", "")
    for part, markers in parts:
        cites = [int(n) for n in re.findall(r"\d+", markers)]
        for span in quoted_spans(part) + re.findall(r"‘(.+?)’(?![a-z])", part):
            assert any(quote_in_passage(span, by_n[n]) for n in cites), span
    assert answer.verification["quotes_verified"], answer.verification


@pytest.mark.parametrize("question, expected", [
    ("What did Peskov say?", SpeakerQuestion("Peskov", None)),
    ("what did dmitry peskov say about Iran?", SpeakerQuestion("dmitry peskov", "Iran")),
    ("What has Netanyahu said about his wife?", SpeakerQuestion("Netanyahu", "his wife")),
    ("What did Ozcelik tell CNBC about the audience?", SpeakerQuestion("Ozcelik", "the audience")),
    ("What does Burcu Ozcelik think of the alliance?", SpeakerQuestion("Burcu Ozcelik", "the alliance")),
    ("What did the Kremlin claim?", SpeakerQuestion("the Kremlin", None)),
    ("Did Peskov say anything about Israel?", SpeakerQuestion("Peskov", "Israel")),
    ("Show me quotes from Netanyahu", SpeakerQuestion("Netanyahu", None)),
    ("Any quotations by Ozcelik on BRICS?", SpeakerQuestion("Ozcelik", "BRICS")),
])
def test_speaker_questions_are_recognised(question, expected):
    assert parse_speaker_question(question) == expected


@pytest.mark.parametrize("question", [
    "Who did Netanyahu say tried to assassinate him and his wife?",
    "What war did Netanyahu vow to continue?",
    "What is Dmitry Peskov's job?",
    "What did she say?",
    "Which international body's power hierarchy did the analyst mention?",
    "Where is the BRICS summit taking place?",
])
def test_other_questions_are_left_to_retrieval(question):
    assert parse_speaker_question(question) is None


def test_what_did_peskov_say_quotes_all_three_with_citations(seed_engine):
    answer = seed_engine.ask("What did Peskov say?")
    assert not answer.abstained and answer.mode == "extractive"
    positions = [answer.answer.find(q) for q in PESKOV]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), answer.answer
    assert answer.answer.startswith("Dmitry Peskov said: “We are developing cooperation")
    second = "Dmitry Peskov also said: “This cooperation is in no way directed against third countries.” [1]"
    assert second in answer.answer
    cited = " ".join(c.quote for c in answer.citations)
    assert all(q in cited for q in PESKOV)
    assert "Netanyahu" not in answer.answer and "Ozcelik" not in answer.answer
    assert "born" not in cited  # no biography: the answer is what he said
    check_citations(seed_engine, answer)


def test_quote_answer_is_returned_for_an_llm_mode(seed_engine):
    q = "What did Peskov say?"
    passages, evidence, _ = seed_engine.gather(q)
    quoted = seed_engine.answer_from_quotes(q, passages, evidence)
    assert quoted is not None and quoted.speakers == ["Dmitry Peskov"] and quoted.total == 3
    assert [display_quote(r.quote) for r in quoted.quotes] == PESKOV
    assert {r.speaker for r in quoted.quotes} == {"Dmitry Peskov"}
    assert quoted.citations and not quoted.abstained
    assert seed_engine.answer_from_quotes("Where is the BRICS summit taking place?", passages, evidence) is None


def test_topic_ranks_the_relevant_quote_first(seed_engine):
    answer = seed_engine.ask("What did Ozcelik say about the audience?")
    assert not answer.abstained
    assert answer.answer.startswith("Burcu Ozcelik said: “It’s important to remember who the audience")
    assert "audience for these types of statements" in answer.citations[0].quote
    check_citations(seed_engine, answer)

    answer = seed_engine.ask("What did Peskov say about third countries?")
    assert answer.answer.startswith("Dmitry Peskov said: “This cooperation is in no way directed against third")
    assert "We are developing" not in answer.answer


def test_unknown_person_falls_back_to_retrieval_which_abstains(seed_engine):
    answer = seed_engine.ask("What did Joe Biden say about BRICS?")
    assert answer.abstained and answer.citations == []
    assert "Joe Biden" in answer.answer and "do not contain" in answer.answer


def test_person_in_the_sources_who_is_never_quoted(seed_engine):
    answer = seed_engine.ask("What did Putin say?")
    assert answer.abstained and answer.citations == []
    assert answer.answer == "The sources contain no quotes from Vladimir Putin."
    assert answer.verification["sentences"][0]["neutral"], "the verifier sees an abstention, not a claim"


def test_quoted_speaker_but_not_about_the_topic(seed_engine):
    answer = seed_engine.ask("What did Peskov say about BRICS?")
    assert answer.abstained and answer.citations == []
    assert answer.answer == "The sources quote Dmitry Peskov, but not about BRICS."


def test_reported_speech_of_a_non_speaker_still_answers_by_retrieval(seed_engine):
    answer = seed_engine.ask("What did the Kremlin say about abandoning Iran?")
    assert not answer.abstained and "no intention of abandoning Iran" in answer.answer


def test_follow_up_about_a_speaker_uses_the_index(seed_engine):
    answer = seed_engine.ask("What did she say about the audience?", ["Who is Burcu Ozcelik?"])
    assert answer.standalone_question == "What did Burcu Ozcelik say about the audience?"
    assert answer.answer.startswith("Burcu Ozcelik said: “It’s important to remember who the audience")


# -- the quote test documents ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quotes_engine(tmp_path_factory):
    from ingest.pipeline import ingest
    from rag.engine import Engine

    src = tmp_path_factory.mktemp("quote-docs")
    for name in ["harbour", "rail", "hospital", "battery", "library"]:
        shutil.copy(DATA / f"{name}.txt", src / f"{name}.txt")
    settings = make_settings(tmp_path_factory.mktemp("quote-store") / "data")
    report = ingest([str(src)], settings, show_progress=False)
    assert len(report.added) == 5 and not report.errors
    return Engine(settings)


def test_quote_split_over_two_paragraphs_is_shown_with_an_ellipsis(quotes_engine):
    answer = quotes_engine.ask("What did Priya Vantakar say?")
    assert answer.answer.startswith('Priya Vantakar said: "I have made every effort to find a compromise.')
    assert "each time. … Passengers deserve better than this" in answer.answer
    check_citations(quotes_engine, answer)


def test_british_quotes_titles_and_honorifics(quotes_engine):
    answer = quotes_engine.ask("What did Ms Marovic say?")
    assert "Ines Marovic said: ‘The minister keeps telling us that “modern care” is on its way." in answer.answer
    assert "‘Useful for whom?’" in answer.answer and "Solvang" not in answer.answer
    check_citations(quotes_engine, answer)

    answer = quotes_engine.ask("What did Health Minister Henrik Solvang say about the meeting?")
    assert answer.answer.startswith("Henrik Solvang said: ‘It was a frank and useful conversation.’")


def test_partial_quote_is_given_in_its_sentence(quotes_engine):
    answer = quotes_engine.ask("What did Lopez say about funding?")
    assert answer.answer.startswith("The project will be “fully funded by the port levy,” according to Lopez. [1]")
    check_citations(quotes_engine, answer)


def test_institutions_are_speakers_too(quotes_engine):
    answer = quotes_engine.ask("What has the Velmora Harbour Authority said?")
    assert "dredging would be finished by “late next year.”" in answer.answer
    assert len(re.findall(r"late next year", answer.answer)) == 1
