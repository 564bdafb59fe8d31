"""The quote index (who said what, per store) and `rag quotes`: on the seed store and the quote test documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.storing import DocumentInfo
from rag.cli import main
from rag.quote_index import QuoteIndex, chunk_for, display_quote, document_chunks

DATA = Path(__file__).parent / "data" / "quotes"
SEED_SPEAKERS = [("Burcu Ozcelik", 4), ("Benjamin Netanyahu", 3), ("Dmitry Peskov", 3)]
PESKOV = [
    "We are developing cooperation with Iran in a variety of areas. We intend to do this further,",
    "This cooperation is in no way directed against third countries,",
    "maintains a dialogue with all parties involved in the conflict in the Middle East.",
]
TERMS = ["strategic", "Global South,", "Global North"]


def _docs(*names: str) -> list[tuple[DocumentInfo, str]]:
    return [(DocumentInfo(f"doc-{n}", n.title(), f"{n}.txt", "", "article", 1), (DATA / f"{n}.txt").read_text())
            for n in names]


@pytest.fixture(scope="module")
def seed_index(seed_engine) -> QuoteIndex:
    return seed_engine.quote_index()


def test_seed_speakers_with_counts_most_quotes_first(seed_index):
    assert seed_index.speakers() == SEED_SPEAKERS


def test_every_record_points_at_its_words_in_the_stored_text(seed_engine, seed_index):
    assert seed_index.records, "the seed article has quotations"
    for r in seed_index.records:
        text = seed_engine.store.document_text(r.doc_id)
        assert text[r.start:r.end] == r.quote
        assert text[r.sentence_start:r.sentence_end] == r.sentence
        assert r.sentence_start <= r.start - 1 and r.end <= r.sentence_end
        assert r.title == "Kremlin says it won't abandon Iran as Israel weighs its retaliation"
        assert r.source.endswith("kremlin-iran-cnbc-2024-10.txt") and r.date == "2024-10-22"


def test_speaker_lookup_is_case_insensitive_and_accepts_surname_or_title(seed_index):
    for asked in ["peskov", "PESKOV", "Dmitry Peskov", "Mr. Peskov", "Kremlin Press Secretary Dmitry Peskov"]:
        assert [r.quote for r in seed_index.quotes(asked)] == PESKOV, asked
    assert {r.speaker for r in seed_index.quotes("Israeli Prime Minister Benjamin Netanyahu")} == {"Benjamin Netanyahu"}
    assert seed_index.quotes("ozcelik")[1].quote.startswith("It’s important to remember who the audience")
    assert seed_index.quotes("Joe Biden") == [] and seed_index.quotes("Dmitry Medvedev") == []


def test_terms_are_listed_apart_and_never_attributed(seed_index):
    assert [(r.quote, r.kind, r.speaker) for r in seed_index.unattributed()] == [(t, "term", None) for t in TERMS]
    attributed = [r.quote for r in seed_index.quotes()]
    assert len(attributed) == 10 and not set(TERMS) & set(attributed)
    assert all(r.speaker for r in seed_index.quotes())
    # a quote nested inside another is part of it, not a quote of its own
    assert not any(r.quote.startswith("agenda of aggression") for r in seed_index.records)


def test_people_named_but_never_quoted_are_known(seed_index):
    assert seed_index.match_person("Putin") == "Vladimir Putin"
    assert seed_index.match_person("President Putin") == "Vladimir Putin"
    assert seed_index.match_person("Masoud Pezeshkian") == "Masoud Pezeshkian"
    assert seed_index.match_person("Joe Biden") is None
    assert seed_index.match_speakers("Putin") == []


def test_engine_caches_the_index_per_store_version(seed_engine):
    first = seed_engine.quote_index()
    assert seed_engine.quote_index() is first
    assert first.version == seed_engine.store.version()


def test_index_is_rebuilt_when_the_store_changes(settings, tmp_path):
    from ingest.pipeline import ingest
    from rag.engine import Engine

    engine = Engine(settings)
    assert engine.quote_index().speakers() == []
    src = tmp_path / "hospital.txt"
    src.write_text((DATA / "hospital.txt").read_text())
    ingest([str(src)], settings, store=engine.store, show_progress=False)
    assert engine.quote_index().speakers() == [("Henrik Solvang", 3), ("Ines Marovic", 2)]
    engine.store.delete_document(engine.store.documents()[0].doc_id)
    assert engine.quote_index().speakers() == []


def test_index_over_several_documents_keeps_each_documents_speakers():
    index = QuoteIndex.from_documents(_docs("harbour", "hospital", "rail"))
    speakers = dict(index.speakers())
    assert speakers["Maria Lopez"] == 2 and speakers["Tobias Wrenfield"] == 2 and speakers["Henrik Solvang"] == 3
    assert speakers["the Velmora Harbour Authority"] == 1 and speakers["Priya Vantakar"] == 1
    assert [r.doc_id for r in index.quotes("Mayor Maria Lopez")] == ["doc-harbour", "doc-harbour"]
    assert [r.doc_id for r in index.quotes("ms marovic")] == ["doc-hospital", "doc-hospital"]
    assert index.quotes("velmora harbour authority")[0].quote == "late next year."
    # "Mary Lopez" is not Maria Lopez: a first name is never dropped to match on the surname alone
    assert index.quotes("Mary Lopez") == []
    split = index.quotes("Vantakar")[0]  # a quotation running over two paragraphs is one quote
    assert "\n" in split.quote and display_quote(split.quote).count(" … ") == 1


def test_display_keeps_words_verbatim():
    assert display_quote("We intend to do this further,") == "We intend to do this further"
    assert display_quote("We intend to do this further,", full_stop=True) == "We intend to do this further."
    assert display_quote("One.\n\n\"Two,") == "One. … Two"


def test_chunk_for_finds_the_stored_chunk_holding_each_quote(seed_engine, seed_index):
    for r in seed_index.quotes():
        chunks = document_chunks(seed_engine.store, r.doc_id)
        chunk = chunk_for(chunks, r.start, r.end)
        assert chunk is not None and chunk.start <= r.start and r.end <= chunk.end
        assert r.quote in chunk.text
    assert chunk_for(chunks, 10**6, 10**6 + 5) is None


# -- `rag quotes` -------------------------------------------------------------------------------------
def test_cli_speaker_json_lists_exactly_his_quotes_with_offsets(capsys, seed_settings, seed_engine):
    assert main(["quotes", "--data-dir", str(seed_settings.data_dir), "--speaker", "peskov", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["quote"] for r in rows] == PESKOV
    for row in rows:
        assert {"speaker", "quote", "doc_id", "title", "start", "end", "sentence", "kind", "source"} <= set(row)
        assert row["speaker"] == "Dmitry Peskov"
        assert seed_engine.store.document_text(row["doc_id"])[row["start"]:row["end"]] == row["quote"]
    assert [r["kind"] for r in rows] == ["direct", "direct", "partial"]


def test_cli_lists_speakers_with_counts_and_no_term_attributed(capsys, seed_settings):
    assert main(["quotes", "--data-dir", str(seed_settings.data_dir)]) == 0
    out = capsys.readouterr().out
    headers = [line for line in out.splitlines() if not line.startswith(" ")]
    assert headers == ["Burcu Ozcelik (4 quotes)", "Benjamin Netanyahu (3 quotes)", "Dmitry Peskov (3 quotes)"]
    assert "“We are developing cooperation with Iran" in out and "[940:1032]" in out
    assert "strategic" not in out and "Global North" not in out

    assert main(["quotes", "--data-dir", str(seed_settings.data_dir), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 10 and all(r["speaker"] for r in rows)

    assert main(["quotes", "--data-dir", str(seed_settings.data_dir), "--terms", "--json"]) == 0
    terms = json.loads(capsys.readouterr().out)
    assert [(t["quote"], t["speaker"], t["kind"]) for t in terms] == [(t, None, "term") for t in TERMS]


def test_cli_unknown_speaker_says_so(capsys, seed_settings):
    assert main(["quotes", "--data-dir", str(seed_settings.data_dir), "--speaker", "Biden"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "no quotes from 'Biden'" in err and "Dmitry Peskov" in err
    assert main(["quotes", "--data-dir", str(seed_settings.data_dir), "--speaker", "Biden", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
