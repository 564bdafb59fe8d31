"""Smoke test of the benchmark code (bench/) at a few dozen chunks, so its code paths run in CI.

The real runs (1k-100k chunks) are far too slow for CI; see docs/benchmarks.md. Real Chroma and the real
MiniLM model throughout; the questions are our own, about the seed article.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.synthetic import DistractorGenerator, corpus_texts
from tests.conftest import SEED

QUESTIONS = [
    {"id": "s1", "question": "Which Kremlin spokesman told CNBC about cooperation with Iran?", "answerable": True,
     "evidence": ["Kremlin Press Secretary Dmitry Peskov"], "must": [["Peskov"]]},
    {"id": "s2", "question": "What weapons has Iran reportedly sent to Russia?", "answerable": True,
     "evidence": ["one-way attack drones"], "must": [["drones", "missiles"]]},
    {"id": "s3", "question": "What did Angela Merkel say about the Olympics?", "answerable": False,
     "evidence": [], "must": []},
]


@pytest.fixture(scope="module")
def questions_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench-q") / "questions.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n", encoding="utf-8")
    return path


def test_distractors_are_deterministic_and_share_no_corpus_4gram():
    a, b = DistractorGenerator(seed=7), DistractorGenerator(seed=7)
    assert a.document(3) == b.document(3)
    assert a.document(3) != a.document(4)
    assert DistractorGenerator(seed=8).document(3) != a.document(3)
    seed_text = SEED.read_text(encoding="utf-8")
    for i in range(30):
        doc = a.document(i)
        assert not a.shares_corpus_ngram(doc)
        assert "no intention of abandoning Iran" not in doc
    # built from the corpus vocabulary: topical words do occur
    words = set(" ".join(a.document(i) for i in range(30)).split())
    assert {"Iran", "Russia"} & words
    assert len(corpus_texts()) >= 1 and seed_text


def test_stock_baseline_answers_with_its_top_passage(embed_model):
    from bench.baseline import TOP_K, StockPipeline

    stock = StockPipeline([SEED], embed_model)
    assert stock.chunks >= 1
    answer = stock.ask("What kind of drones has Iran supplied to Russia?")
    assert not answer.abstained and 1 <= len(answer.retrieved) <= TOP_K
    assert answer.answer == answer.retrieved[0].text
    assert [c.text for c in answer.citations] == [answer.retrieved[0].text]


def test_compare_runs_both_pipelines_and_prints_ratios(tmp_path, questions_file):
    from bench.compare import table
    from bench.compare import run as compare

    result = compare(distractor_chunks=0, repeats=1, dev_set=questions_file, work=tmp_path / "cmp", reingests=1)
    ours, stock = result["ours"]["metrics"], result["stock"]["metrics"]
    assert ours["items"] == stock["items"] == 3
    assert stock["abstention_accuracy"] == 0.0  # the stock pipeline never abstains
    assert ours["chunks"] > stock["chunks"] >= 1  # 200-token chunks vs 1024-token chunks
    assert ours["reingest_unchanged_s"] < ours["ingest_s"]
    assert ours["warm_queries"] == 3 and ours["warm_p50_ms"] > 0
    text = table(result)
    assert "recall@5" in text and "x |" in text


def test_pooled_embedding_is_deterministic_unit_length_and_not_for_queries():
    from bench.scale import PooledEmbedding

    rng = np.random.default_rng(0)
    pool = rng.normal(size=(4, 8)).astype(np.float32)
    emb = PooledEmbedding(pool)
    v1, v2 = emb.get_text_embedding("some chunk"), emb.get_text_embedding("some chunk")
    assert v1 == v2 and abs(np.linalg.norm(v1) - 1.0) < 1e-5
    assert emb.get_text_embedding("another chunk") != v1
    with pytest.raises(RuntimeError):
        emb.get_query_embedding("a question")


@pytest.mark.slow
def test_scale_run_real_and_pooled_then_plots(tmp_path, questions_file):
    from bench.plots import plot_scale, plot_stages
    from bench.scale import run_size

    real = run_size(20, real_max=100, repeats=1, pool_size=8, dev_set=questions_file, work_root=tmp_path)
    pooled = run_size(60, real_max=30, repeats=1, pool_size=8, dev_set=questions_file, work_root=tmp_path)
    assert real["embedding"] == "real" and pooled["embedding"] == "pooled"
    for r in (real, pooled):
        assert r["chunks"] > 6 and r["reingest_chunks_written"] == 0
        assert r["store_bytes"] > 0 and r["warm_p50_ms"] > 0 and r["items"] == 3
        assert r["stages"]["embed_query"]["mean_ms"] > 0 and r["stages"]["bm25"]["mean_ms"] >= 0
    assert pooled["ingest_s_extrapolated"] > pooled["ingest_s"]
    assert pooled["chunks"] > real["chunks"]
    results = {"runs": {"20": real, "60": pooled}, "machine": {"date_utc": "test", "nproc": 2}}
    for path in (plot_scale(results, tmp_path), plot_stages(results, tmp_path)):
        assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_profile_breaks_a_query_and_an_ingest_into_stages(tmp_path, seed_settings, questions_file):
    from bench.profile import profile_ingest, profile_queries

    q = profile_queries(seed_settings, [x["question"] for x in QUESTIONS], repeats=1)
    for stage in ("embed_query", "vector_search", "bm25", "evidence_total", "verification", "ask_total"):
        assert q["warm"][stage]["mean_ms"] >= 0
    assert q["warm"]["ask_total"]["mean_ms"] > 0
    ingest_stages = profile_ingest(tmp_path / "ingest", distractor_chunks=10)
    assert ingest_stages["chunks"] > 6 and ingest_stages["embed_s"] > 0
    assert ingest_stages["ingest_end_to_end_s"] > 0


def test_per_retriever_recall_on_the_seed_store(seed_settings, questions_file):
    from bench.retrievers import measure

    result = measure(seed_settings.data_dir, questions_file)
    assert result["chunks"] >= 1
    for name in ("vector", "bm25", "fused"):
        assert len(result[name]["ranks"]) == 2  # the two answerable questions
        assert 0.0 <= result[name]["recall@5"] <= 1.0
    assert result["fused"]["recall@5"] == 1.0  # a one-article store: the evidence is always in reach
