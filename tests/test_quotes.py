import json
from collections import defaultdict
from pathlib import Path

import pytest

from bench.quote_attribution import DEFAULT_GOLD, evaluate, norm_quote, score_document
from rag.quotes import Quote, extract_quotes, speaker_matches

ROOT = Path(__file__).resolve().parents[1]
SEED_TEXT = (ROOT / "corpus" / "kremlin-iran-cnbc-2024-10.txt").read_text(encoding="utf-8")
DATA = ROOT / "tests" / "data" / "quotes"
GOLD = json.loads(DEFAULT_GOLD.read_text(encoding="utf-8"))["documents"]
ALL_DOCS = [ROOT / d["path"] for d in GOLD]


def load(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def by_speaker(quotes: list[Quote]) -> dict[str | None, list[Quote]]:
    out: dict[str | None, list[Quote]] = defaultdict(list)
    for q in quotes:
        out[q.speaker].append(q)
    return out


def find(quotes: list[Quote], fragment: str) -> Quote:
    hits = [q for q in quotes if fragment in q.quote]
    assert len(hits) == 1, (fragment, hits)
    return hits[0]


# --- seed article -------------------------------------------------------------------------------

SEED = extract_quotes(SEED_TEXT)


def test_seed_peskov_quotes() -> None:
    quotes = by_speaker(SEED)["Dmitry Peskov"]
    assert [q.quote for q in quotes] == [
        "We are developing cooperation with Iran in a variety of areas. We intend to do this further,",
        "This cooperation is in no way directed against third countries,",
        "maintains a dialogue with all parties involved in the conflict in the Middle East.",
    ]
    assert [q.kind for q in quotes] == ["direct", "direct", "partial"]
    assert quotes[2].sentence.startswith("Peskov told CNBC that Russia “maintains")


def test_seed_netanyahu_quotes_including_axis_of_evil_partial() -> None:
    quotes = by_speaker(SEED)["Benjamin Netanyahu"]
    assert [q.quote[:30] for q in quotes] == [
        "axis of evil,",
        "The agents of Iran who tried t",
        "This will not deter me and the",
    ]
    assert [q.kind for q in quotes] == ["partial", "direct", "direct"]
    assert quotes[2].quote.endswith("will pay a heavy price for it,")


def test_seed_ozcelik_quotes() -> None:
    quotes = by_speaker(SEED)["Burcu Ozcelik"]
    assert len(quotes) == 4
    assert quotes[0].quote.startswith("Expect to see a commitment")
    assert quotes[0].quote.endswith("against a Western ‘agenda of aggression’,")  # nested quote kept inside
    assert quotes[1].quote.startswith("It’s important to remember")
    assert quotes[2].quote == "are locked in a tactical, interest-driven alliance of convenience."
    assert quotes[3].quote.startswith("Both are variously manoeuvring")
    assert [q.kind for q in quotes] == ["direct", "direct", "partial", "direct"]


def test_seed_terms_have_no_speaker() -> None:
    terms = [(q.quote, q.kind) for q in SEED if q.speaker is None]
    assert terms == [("strategic", "term"), ("Global South,", "term"), ("Global North", "term")]


def test_seed_only_expected_speakers_and_no_nested_quote() -> None:
    assert set(by_speaker(SEED)) == {"Dmitry Peskov", "Benjamin Netanyahu", "Burcu Ozcelik", None}
    assert len(SEED) == 13
    assert not any("agenda of aggression" == q.quote.strip(" ,.") for q in SEED)
    # apostrophes (It’s, don’t, Iran’s) never open or close a quote
    assert not any(q.quote.startswith(("s ", "t ")) for q in SEED)


def test_seed_quote_sentence_context() -> None:
    q = find(SEED, "We are developing cooperation")
    assert q.sentence == (
        "“We are developing cooperation with Iran in a variety of areas. We intend to do this further,” "
        "Kremlin Press Secretary Dmitry Peskov told CNBC Tuesday."
    )
    q = find(SEED, "This cooperation is in no way")
    assert q.sentence.endswith("he insisted in emailed comments translated by Google.")
    assert "He did not directly answer" not in q.sentence


# --- invariants on every document ------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_DOCS, ids=lambda p: p.name)
def test_offsets(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    quotes = extract_quotes(text)
    assert quotes
    for q in quotes:
        assert text[q.start : q.end] == q.quote
        assert text[q.sentence_start : q.sentence_end] == q.sentence
        assert q.sentence_start <= q.start - 1 and q.end <= q.sentence_end
        assert text[q.start - 1] in "“‘\"'"
        assert q.kind in {"direct", "partial", "term"}
        assert (q.kind == "term") == (q.speaker is None and len(q.quote.split()) <= 4)
    assert [q.start for q in quotes] == sorted(q.start for q in quotes)


@pytest.mark.parametrize("doc", [d for d in GOLD if d["split"] == "dev"], ids=lambda d: Path(d["path"]).name)
def test_dev_documents_match_gold_exactly(doc: dict) -> None:
    score = score_document(doc)
    assert score.errors == []
    assert (score.precision, score.recall) == (1.0, 1.0)
    assert score.kind_ok == score.correct
    assert score.terms_ok == score.terms_gold
    assert score.nested_leaks == 0


def test_gold_is_consistent_with_texts() -> None:
    for doc in GOLD:
        text = (ROOT / doc["path"]).read_text(encoding="utf-8")
        flat = norm_quote(text)
        for g in doc["quotes"]:
            assert norm_quote(g["quote"]) in flat
        for t in doc["terms"] + doc["nested"]:
            assert t in text


def test_benchmark_overall_figures() -> None:
    scores = evaluate()
    dev = [s for s in scores if s.split == "dev"]
    assert sum(s.correct for s in dev) == sum(s.gold for s in dev) == sum(s.system for s in dev)
    held = [s for s in scores if s.split == "heldout"]
    assert held and sum(s.correct for s in held) >= 4  # documented in docs/quotes.md


# --- individual phenomena in the fictional documents -------------------------------------------


def test_quote_split_across_paragraphs_is_one_quote() -> None:
    text = load("rail.txt")
    quotes = extract_quotes(text)
    q = find(quotes, "I have made every effort")
    assert "Passengers deserve better than this" in q.quote
    assert q.quote.endswith("so do our staff,")
    assert q.speaker == "Priya Vantakar"  # "she said" in the second paragraph
    assert q.sentence.endswith("she said.")
    assert not any(x.quote.startswith("Passengers") for x in quotes)


def test_straight_quotes_said_after_and_scare_quotes() -> None:
    quotes = extract_quotes(load("rail.txt"))
    assert find(quotes, "not asking for the moon").speaker == "Oskar Delmont"
    assert find(quotes, "an insult dressed up").speaker == "Oskar Delmont"  # surname-only subject
    assert find(quotes, "an insult dressed up").kind == "partial"
    assert find(quotes, "ghost timetables").kind == "term"
    # apostrophes in drivers' / company's are not quotes
    assert not any("union" == q.quote for q in quotes)


def test_pronoun_two_sentences_back_and_according_to() -> None:
    quotes = extract_quotes(load("harbour.txt"))
    assert find(quotes, "see them in court").speaker == "Tobias Wrenfield"
    q = find(quotes, "fully funded by the port levy")
    assert (q.speaker, q.kind) == ("Maria Lopez", "partial")
    assert find(quotes, "ignored every environmental study").speaker == "Tobias Wrenfield"
    assert find(quotes, "late next year").speaker == "the Velmora Harbour Authority"


def test_nested_quote_inside_quote_is_not_reported() -> None:
    quotes = extract_quotes(load("harbour.txt"))
    q = find(quotes, "My father fished here")
    assert "‘the bay gives what it gives.’" in q.quote
    assert q.speaker == "Anneliese Korvath"
    assert not any(x.quote.startswith("the bay gives") for x in quotes)


def test_british_single_quotes_title_gender_and_colon() -> None:
    quotes = extract_quotes(load("hospital.txt"))
    assert find(quotes, "The minister keeps telling").speaker == "Ines Marovic"  # nested “modern care” not separate
    assert not any(x.quote == "modern care" for x in quotes)
    assert (find(quotes, "temporary").speaker, find(quotes, "temporary").kind) == ("Henrik Solvang", "partial")
    # "he" after "Mr Solvang later met Ms Marovic": gender skips the more recent woman
    assert find(quotes, "frank and useful").speaker == "Henrik Solvang"
    assert find(quotes, "Useful for whom?").speaker == "Ines Marovic"


def test_continuation_quote_and_she_after_male_mention() -> None:
    quotes = extract_quotes(load("battery.txt"))
    assert find(quotes, "Affected customers").speaker == "Leona Hartwick"
    assert find(quotes, "Families have been living").speaker == "Kwame Ashdown"
    assert find(quotes, "as soon as the pattern").speaker == "Leona Hartwick"
    assert find(quotes, "self-certified").kind == "term"  # "called for" is not speech


def test_held_out_document_known_good() -> None:
    quotes = extract_quotes(load("flood.txt"))
    assert find(quotes, "The water,").speaker == "Yusuf Tarrow"
    assert find(quotes, "is rising faster").speaker == "Yusuf Tarrow"  # interrupted quote
    assert find(quotes, "around the clock").speaker == "Yusuf Tarrow"
    assert find(quotes, "Not tonight").speaker == "Teodor Vance"
    assert find(quotes, "will hold").kind == "term"
    assert find(quotes, "the Wall").kind == "term"


@pytest.mark.xfail(strict=True, reason="known limitation: a name introduced only by 'X, whose farm ..., said' "
                   "has no person evidence, so 'she' falls back to the previous (male) person")
def test_held_out_known_failure_unevidenced_name() -> None:
    quotes = extract_quotes(load("flood.txt"))
    assert find(quotes, "Last time they promised").speaker == "Elske Brannigan"


@pytest.mark.xfail(strict=True, reason="known limitation: lower-case institutions ('the regional water board') "
                   "are not recognised as speakers")
def test_held_out_known_failure_lowercase_institution() -> None:
    quotes = extract_quotes(load("flood.txt"))
    assert find(quotes, "serious but under control").speaker is not None


# --- small synthetic cases ----------------------------------------------------------------------


def test_empty_and_quote_free_text() -> None:
    assert extract_quotes("") == []
    assert extract_quotes("Nobody said anything today. It’s quiet.") == []


def test_straight_single_quotes_and_unterminated_quote() -> None:
    text = "The so-called 'peace plan' failed. The drivers' union met.\n\"This never ends"
    quotes = extract_quotes(text)
    assert [(q.quote, q.kind) for q in quotes] == [("peace plan", "term"), ("This never ends", "term")]
    for q in quotes:
        assert text[q.start : q.end] == q.quote


def test_interrupted_quote_and_said_name_after() -> None:
    text = "“We will,” said Maria Lopez, “win this case.” The judge was not impressed."
    quotes = extract_quotes(text)
    assert [(q.speaker, q.quote) for q in quotes] == [
        ("Maria Lopez", "We will,"),
        ("Maria Lopez", "win this case."),
    ]


def test_speaker_matches() -> None:
    assert speaker_matches("peskov", "Dmitry Peskov")
    assert speaker_matches("Dmitry Peskov", "Dmitry Peskov")
    assert speaker_matches("DMITRY", "Dmitry Peskov")
    assert speaker_matches("Mr. Peskov", "Dmitry Peskov")
    assert speaker_matches("Peskov's", "Dmitry Peskov")
    assert speaker_matches("ozcelik", "Burcu Özçelik")
    assert speaker_matches("kremlin", "the Kremlin")
    assert not speaker_matches("pesk", "Dmitry Peskov")
    assert not speaker_matches("Netanyahu", "Dmitry Peskov")
    assert not speaker_matches("peskov dmitry", "Dmitry Peskov")
    assert not speaker_matches("", "Dmitry Peskov")
