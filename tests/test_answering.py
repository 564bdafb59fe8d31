"""Hybrid retrieval and the extractive answerer on the seed article: citations, attribution, abstention."""

from __future__ import annotations

from rag.citations import cited_numbers
from rag.question import analyse


def test_hybrid_retrieval_finds_exact_and_paraphrased_evidence(seed_engine):
    retriever = seed_engine.retriever()
    exact = retriever.retrieve("short-range missiles", seed_engine.embed_model.get_query_embedding("short-range missiles"))
    assert "short-range missiles" in exact[0].text
    q = "Which country does Moscow intend to keep cooperating with?"
    para = retriever.retrieve(q, seed_engine.embed_model.get_query_embedding(q))
    assert any("We are developing cooperation with Iran" in p.text for p in para[:3])
    settings = seed_engine.settings
    assert len(para) <= max(settings.top_k, settings.rerank_pool)
    assert [p.score for p in para] == sorted((p.score for p in para), reverse=True)


def test_fused_candidates_are_reranked_by_evidence_and_cut_to_top_k(seed_engine):
    passages, evidence, _ = seed_engine.gather("Where is the BRICS summit taking place?")
    assert len(passages) == seed_engine.settings.top_k
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert "taking place in Kazan" in passages[0].text
    # evidence sentences point into the kept list, and the best one is in the first passage
    assert all(0 <= s.passage < len(passages) for s in evidence.sentences)
    assert evidence.sentences[0].passage == 0 and passages[0].score == evidence.best


def test_answer_quotes_verbatim_and_cites_the_passage(seed_engine):
    answer = seed_engine.ask("What kind of missiles has Iran lately supplied to Russia?")
    assert not answer.abstained and answer.mode == "extractive"
    assert "short-range missiles" in answer.answer
    assert cited_numbers(answer.answer) == [c.n for c in answer.citations] == [1]
    cite = answer.citations[0]
    assert cite.quote in cite.text and "short-range missiles" in cite.quote
    a, b = cite.quote_spans[0]
    assert cite.text[a:b] == cite.quote
    doc_text = seed_engine.store.document_text(cite.doc_id)
    assert doc_text[cite.start:cite.end] == cite.text


def test_he_said_is_attributed_to_the_speaker_named_before(seed_engine):
    answer = seed_engine.ask("Who did Netanyahu say tried to assassinate him and his wife?")
    assert "he [Benjamin Netanyahu] said" in answer.answer
    assert "The agents of Iran who tried to assassinate me and my wife" in answer.citations[0].quote


def test_quote_without_name_in_sentence_gets_its_speaker(seed_engine):
    answer = seed_engine.ask("What did Peskov say about third countries?")
    assert "This cooperation is in no way directed against third countries" in answer.answer
    assert "Dmitry Peskov" in answer.answer


def test_abstains_without_citations_when_sources_do_not_hold_the_answer(seed_engine):
    for question in ["What is the capital of France?", "When was Dmitry Peskov born?",
                     "What did Joe Biden say about the BRICS summit?"]:
        answer = seed_engine.ask(question)
        assert answer.abstained, question
        assert answer.citations == [] and "do not contain" in answer.answer
        assert answer.retrieved, "retrieval still reports what it looked at"


def test_missing_entity_is_named_in_the_abstention(seed_engine):
    answer = seed_engine.ask("What did Joe Biden say about the BRICS summit?")
    assert "Joe Biden" in answer.answer


def test_follow_up_pronoun_is_resolved_offline(seed_engine):
    answer = seed_engine.ask("What did she say about the audience?", ["Who is Burcu Ozcelik?"])
    assert answer.standalone_question == "What did Burcu Ozcelik say about the audience?"
    assert "audience for these types of statements" in answer.answer


def test_question_analysis_separates_entities_from_content():
    info = analyse("When was Dmitry Peskov born?")
    assert ("dmitry", "peskov") in info.entities
    assert info.residual == {"born"}
    assert analyse("What is Dmitry Peskov's job?").wants_role
