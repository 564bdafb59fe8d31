"""Where the time goes: one query split into its stages, and one ingestion split into its stages.

    .venv/bin/python -m bench.profile                                  # query stages on a seed-only store
    .venv/bin/python -m bench.profile --data-dir bench/out/scale/100000/data   # ... on an existing store
    .venv/bin/python -m bench.profile --ingest-chunks 500              # + ingest stages on seed + distractors
    .venv/bin/python -m bench.profile --cprofile                       # + cProfile of the warm queries

Query stages call the engine's own parts one after another, in the order Engine.ask does (the fused
retrieval is timed whole and also split into its vector and BM25 retrievers, run separately on the same
query). Verification (rag.verification.verify_answer, not part of Engine.ask today) is timed on the answer.
Ingest stages re-run the pipeline's parts by hand on the same documents (load+clean, split, embed,
Chroma write, docstore write) and compare their sum with one end-to-end ingest() on a fresh store.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from pathlib import Path

from bench.common import DEV_SET, OUT, bench_settings, copy_seed, fmt, fresh_dir, machine, percentile, write_json

QUERY_STAGES = ["store_version", "condense", "analyse", "embed_query", "vector_search", "bm25", "fused_retrieve",
                "evidence_total", "evidence_sentence_embed", "evidence_units_quotes", "quote_answer",
                "extractive_answer", "verification", "ask_total"]


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def query_stages(engine, question: str) -> dict[str, float]:
    from llama_index.core import QueryBundle

    from rag.condense import condense_offline
    from rag.evidence import score_evidence
    from rag.extractive import extractive_answer
    from rag.models import Answer
    from rag.question import analyse
    from rag.verification import verify_answer

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    retriever = engine.retriever()
    t["store_version"] = _ms(t0)
    t0 = time.perf_counter()
    standalone = condense_offline(question, [])
    t["condense"] = _ms(t0)
    t0 = time.perf_counter()
    info = analyse(standalone)
    t["analyse"] = _ms(t0)
    t0 = time.perf_counter()
    q_emb = engine.embed_model.get_query_embedding(standalone)
    t["embed_query"] = _ms(t0)
    fusion = getattr(retriever, "_fusion", None)
    if fusion is not None:
        vector, bm25 = fusion._retrievers
        t0 = time.perf_counter()
        vector.retrieve(QueryBundle(query_str=standalone, embedding=q_emb))
        t["vector_search"] = _ms(t0)
        t0 = time.perf_counter()
        bm25.retrieve(QueryBundle(query_str=standalone))
        t["bm25"] = _ms(t0)
    t0 = time.perf_counter()
    passages = retriever.retrieve(standalone, q_emb)
    t["fused_retrieve"] = _ms(t0)

    sub = {"embed": 0.0, "units": 0.0}

    def embed(texts):
        s = time.perf_counter()
        try:
            return engine.embed_sentences(texts)
        finally:
            sub["embed"] += _ms(s)

    def unit_of(passage, span):
        s = time.perf_counter()
        try:
            return engine.unit_of(passage, span)
        finally:
            sub["units"] += _ms(s)

    t0 = time.perf_counter()
    evidence = score_evidence(info, q_emb, passages, embed, unit_of)
    t["evidence_total"] = _ms(t0)
    t["evidence_sentence_embed"], t["evidence_units_quotes"] = sub["embed"], sub["units"]
    if hasattr(engine, "answer_from_quotes"):  # 'What did X say?' answered from the quote index
        t0 = time.perf_counter()
        engine.answer_from_quotes(standalone, passages, evidence)
        t["quote_answer"] = _ms(t0)
    t0 = time.perf_counter()
    text, citations, _abstained = extractive_answer(
        evidence, passages, engine.settings.abstain_threshold, engine.settings.max_quote_sentences
    )
    t["extractive_answer"] = _ms(t0)
    t0 = time.perf_counter()
    if hasattr(engine, "verify"):  # the engine's own verification step (what ask() runs)
        engine.verify(Answer(question=question, answer=text, abstained=_abstained, mode="extractive",
                             citations=citations, retrieved=passages))
    else:
        numbered = [""] * max((c.n for c in citations), default=0)
        for c in citations:
            numbered[c.n - 1] = c.text
        verify_answer(text, numbered, engine.embed_sentences)
    t["verification"] = _ms(t0)
    t0 = time.perf_counter()
    answer = engine.ask(question)
    t["ask_total"] = _ms(t0)
    for key, value in answer.timings_ms.items():  # the engine's own breakdown of the same ask
        t[f"engine:{key}"] = value
    return t


def summarise(samples: list[dict[str, float]]) -> dict[str, dict[str, float | None]]:
    out = {}
    engine_keys = sorted({k for s in samples for k in s if k.startswith("engine:")})
    for stage in QUERY_STAGES + engine_keys:
        values = [s[stage] for s in samples if stage in s]
        if values:
            out[stage] = {"mean_ms": sum(values) / len(values), "p50_ms": percentile(values, 50),
                          "p95_ms": percentile(values, 95)}
    return out


def profile_queries(settings, questions: list[str], repeats: int, cprofile_to: Path | None = None) -> dict:
    from rag.engine import Engine

    engine = Engine(settings)
    t0 = time.perf_counter()
    engine.warm_up()
    result: dict = {"warm_up_s": time.perf_counter() - t0, "chunks": engine.store.chunk_count()}
    first = [query_stages(engine, q) for q in questions]  # sentence-vector and quote caches still cold
    profiler = cProfile.Profile() if cprofile_to else None
    if profiler:
        profiler.enable()
    warm = [query_stages(engine, q) for _ in range(repeats) for q in questions]
    if profiler:
        profiler.disable()
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(40)
        cprofile_to.parent.mkdir(parents=True, exist_ok=True)
        cprofile_to.write_text(buf.getvalue())
        result["cprofile"] = str(cprofile_to)
    result["first_pass"], result["warm"] = summarise(first), summarise(warm)
    return result


def profile_ingest(work: Path, distractor_chunks: int) -> dict:
    """Stages of one ingestion, re-run by hand, then one real ingest() of the same sources to compare."""
    from llama_index.core.schema import MetadataMode

    from bench.synthetic import DistractorGenerator, chunks_per_document
    from ingest.chunking import make_splitter
    from ingest.pipeline import IngestReport, ingest, load_documents
    from ingest.sources import expand_inputs
    from ingest.storing import Store
    from rag.embeddings import load_embed_model

    src = fresh_dir(work / "src")
    copy_seed(src)
    settings = bench_settings(fresh_dir(work / "stages"))
    if distractor_chunks:
        gen = DistractorGenerator()
        gen.write(src / "distractors", max(1, round(distractor_chunks / chunks_per_document(gen, settings))))
    embed_model = load_embed_model(settings)
    embed_model.get_query_embedding("warm up")
    s: dict[str, float] = {}
    t0 = time.perf_counter()
    sources, _problems = expand_inputs([str(src)])
    docs = load_documents(sources, settings, IngestReport(), show_progress=False)
    s["load_clean_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    nodes = make_splitter(settings).get_nodes_from_documents(docs)
    s["split_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    vectors = embed_model.get_text_embedding_batch([n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes])
    s["embed_s"] = time.perf_counter() - t0
    for node, vec in zip(nodes, vectors):
        node.embedding = vec
    store = Store(settings)
    t0 = time.perf_counter()
    for i in range(0, len(nodes), 1000):
        store.vector_store.add(nodes[i : i + 1000])
    s["chroma_write_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.docstore.add_documents(docs)
    for doc in docs:
        store.docstore.set_document_hash(doc.doc_id, doc.hash)
    if hasattr(store, "persist_docstore"):  # older stores kept the docstore in a JSON file
        store.persist_docstore()
    s["docstore_write_s"] = time.perf_counter() - t0
    s["stages_sum_s"] = sum(v for k, v in s.items() if k.endswith("_s"))
    real = bench_settings(fresh_dir(work / "end-to-end"))
    t0 = time.perf_counter()
    report = ingest([str(src)], real, show_progress=False)
    s["ingest_end_to_end_s"] = time.perf_counter() - t0
    s["documents"], s["chunks"] = len(docs), report.chunks_total
    s["embed_chunks_per_s"] = len(nodes) / s["embed_s"] if s["embed_s"] else None
    s["end_to_end_chunks_per_s"] = report.chunks_total / s["ingest_end_to_end_s"]
    return s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="profile queries on this existing store")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dev-set", type=Path, default=DEV_SET)
    parser.add_argument("--ingest-chunks", type=int, default=None,
                        help="also profile ingestion of the seed plus ~N distractor chunks (0 = seed only)")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT / "profile.json")
    args = parser.parse_args(argv)

    from ingest.pipeline import ingest
    from rag.evaluation import read_items

    result: dict = {"machine": machine()}
    if args.data_dir is None:
        work = fresh_dir(OUT / "profile")
        settings = bench_settings(work / "data")
        ingest([str(copy_seed(work / "src"))], settings, show_progress=False)
    else:
        settings = bench_settings(args.data_dir)
    questions = [item.question for item in read_items(args.dev_set)]
    result["query"] = profile_queries(settings, questions, args.repeats,
                                      args.out.with_suffix(".cprofile.txt") if args.cprofile else None)
    result["query"]["data_dir"] = str(settings.data_dir)
    if args.ingest_chunks is not None:
        result["ingest"] = profile_ingest(OUT / "profile-ingest", args.ingest_chunks)
    result["load_average_end"] = machine()["load_average"]
    write_json(args.out, result)

    q = result["query"]
    print(f"query stages, store of {q['chunks']} chunks (warm-up {q['warm_up_s']:.2f} s), "
          f"load {result['machine']['load_average']} -> {result['load_average_end']}")
    print("| stage | first pass mean ms | warm mean ms | warm p50 ms | warm p95 ms |\n| --- | ---: | ---: | ---: | ---: |")
    for stage in q["warm"]:
        if stage:
            f, w = q["first_pass"].get(stage, {}), q["warm"][stage]
            print(f"| {stage} | {fmt(f.get('mean_ms'), 1)} | {fmt(w['mean_ms'], 1)} | {fmt(w['p50_ms'], 1)} | "
                  f"{fmt(w['p95_ms'], 1)} |")
    if "ingest" in result:
        print("\ningest stages:")
        for key, value in result["ingest"].items():
            print(f"  {key:<24} {fmt(value, 2)}")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
