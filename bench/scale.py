"""Scale run: the seed article plus N synthetic distractors (bench.synthetic), at ~1k/10k/100k chunks.

    .venv/bin/python -m bench.scale --chunks 1000 10000          # real ingest (MiniLM embeds every chunk)
    .venv/bin/python -m bench.scale --chunks 100000 --real-max 10000   # pooled embeddings, see below
    .venv/bin/python -m bench.plots                              # docs/bench-*.png from the results

For each size: first ingest through ingest.pipeline.ingest (chunks/s), an unchanged re-ingest, store size
on disk, engine warm-up (BM25 built from the chunks read back from Chroma), then the dev set: recall@5,
MRR, answer accuracy, abstention and query p50/p95 over --repeats warm passes, plus the per-stage profile.

Pooled mode (sizes above --real-max): embedding 100k chunks with MiniLM on 2 cores takes the better part
of an hour, so the ingest runs the project's real pipeline (load, clean, split, Chroma write, docstore)
with the embedding step replaced by PooledEmbedding: a pool of real MiniLM embeddings of distractor
chunks, one picked per chunk by a hash of its text, plus small seeded noise. Queries always use the real
model. So at that size query latency, BM25/vector search cost, store size and recall are measured;
ingest throughput is NOT (it is the non-embedding cost measured plus the embedding cost extrapolated from
the measured pool rate), and the results say so (`"embedding": "pooled"`).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from bench.common import DEV_SET, OUT, bench_settings, copy_seed, dir_bytes, fresh_dir, machine, percentile, write_json

RESULTS = OUT / "scale" / "results.json"


class PooledEmbedding(BaseEmbedding):
    """Stand-in embedder for the 100k ingest: real distractor vectors reused, never the query path."""

    noise: float = 0.02
    _pool: np.ndarray = PrivateAttr()

    def __init__(self, pool: np.ndarray, noise: float = 0.02, **kwargs: Any):
        super().__init__(model_name="pooled-minilm-distractors", noise=noise, embed_batch_size=256, **kwargs)
        self._pool = np.asarray(pool, dtype=np.float32)

    def _vector(self, text: str) -> list[float]:
        digest = hashlib.sha1(text.encode("utf-8")).digest()
        seed = int.from_bytes(digest[:8], "little")
        rng = np.random.default_rng(seed)
        vec = self._pool[seed % len(self._pool)] + rng.normal(0.0, self.noise, self._pool.shape[1])
        return (vec / np.linalg.norm(vec)).astype(np.float32).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def _get_query_embedding(self, query: str) -> list[float]:
        raise RuntimeError("PooledEmbedding is for ingesting distractors only; queries use the real model")

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


@contextlib.contextmanager
def pooled_ingest(embedder: BaseEmbedding):
    """Run ingest.pipeline's own code with its embedding step swapped for `embedder` (bench only)."""
    import ingest.pipeline as pipeline

    original = pipeline.load_embed_model
    pipeline.load_embed_model = lambda settings: embedder
    try:
        yield
    finally:
        pipeline.load_embed_model = original


def embed_pool(settings, gen, size: int) -> tuple[np.ndarray, float]:
    """Real MiniLM embeddings of `size` distractor chunks (split like the pipeline does); (pool, chunks/s)."""
    from llama_index.core import Document
    from llama_index.core.schema import MetadataMode

    from ingest.chunking import make_splitter
    from ingest.cleaning import clean_text
    from rag.embeddings import load_embed_model

    splitter = make_splitter(settings)
    texts: list[str] = []
    i = 0
    while len(texts) < size:
        # far beyond the run's own distractors, so pool texts are not the stored chunks themselves
        doc = Document(text=clean_text(gen.document(10_000_000 + i)), id_=f"pool-{i}")
        texts += [n.get_content(metadata_mode=MetadataMode.EMBED) for n in splitter.get_nodes_from_documents([doc])]
        i += 1
    model = load_embed_model(settings)
    t0 = time.perf_counter()
    vectors = model.get_text_embedding_batch(texts[:size])
    return np.asarray(vectors, dtype=np.float32), size / (time.perf_counter() - t0)


def timed_ask(ask, record: list[dict] | None = None):
    def run(question, history):
        t0 = time.perf_counter()
        answer = ask(question, history)
        if record is not None:
            record.append(dict(answer.timings_ms))  # the engine's own breakdown (retrieve/answer/verify)
        answer.timings_ms["total"] = (time.perf_counter() - t0) * 1000
        return answer

    return run


def run_size(target: int, real_max: int, repeats: int, pool_size: int, dev_set: Path = DEV_SET,
             work_root: Path | None = None, profile: bool = True) -> dict:
    from bench.synthetic import DistractorGenerator, chunks_per_document
    from ingest.pipeline import ingest
    from rag.embeddings import load_embed_model
    work = fresh_dir((work_root or OUT / "scale") / str(target))
    settings = bench_settings(work / "data")
    load_embed_model(settings).get_query_embedding("warm up")  # model load is not part of the ingest
    gen = DistractorGenerator()
    src = work / "src"
    copy_seed(src)
    seed_chunks = 6  # the seed article's chunks at the default chunk size; the exact total is reported
    per_doc = chunks_per_document(gen, settings)
    n_docs = max(1, round(max(target - seed_chunks, 1) / per_doc))
    t0 = time.perf_counter()
    gen.write(src / "distractors", n_docs)
    out: dict[str, Any] = {"target_chunks": target, "distractor_docs": n_docs,
                           "generate_s": time.perf_counter() - t0, "load_average_start": machine()["load_average"]}

    pooled = target > real_max
    out["embedding"] = "pooled" if pooled else "real"
    if pooled:
        pool, rate = embed_pool(settings, gen, pool_size)
        out.update(pool_size=pool_size, pool_embed_chunks_per_s=rate)
        context = pooled_ingest(PooledEmbedding(pool))
    else:
        context = contextlib.nullcontext()
    with context:
        t0 = time.perf_counter()
        report = ingest([str(src)], settings, show_progress=False)
        out["ingest_s"] = time.perf_counter() - t0
        if report.errors:
            out["ingest_errors"] = report.errors[:5]
        t0 = time.perf_counter()
        again = ingest([str(src)], settings, show_progress=False)
        out["reingest_unchanged_s"] = time.perf_counter() - t0
        out["reingest_chunks_written"] = again.chunks_written
    out["chunks"] = report.chunks_total
    out["documents"] = len(report.added)
    if pooled:
        out["ingest_without_embedding_s"] = out["ingest_s"]
        out["ingest_s_extrapolated"] = out["ingest_s"] + out["chunks"] / out["pool_embed_chunks_per_s"]
        out["ingest_chunks_per_s_extrapolated"] = out["chunks"] / out["ingest_s_extrapolated"]
        out["ingest_chunks_per_s_without_embedding"] = out["chunks"] / out["ingest_s"]
    else:
        out["ingest_chunks_per_s"] = out["chunks"] / out["ingest_s"]
    out["reingest_fraction"] = out["reingest_unchanged_s"] / (out.get("ingest_s_extrapolated") or out["ingest_s"])
    out["store_bytes"] = dir_bytes(settings.data_dir)

    out.update(measure_queries(settings, repeats, dev_set, profile))
    return out


def measure_queries(settings, repeats: int, dev_set: Path = DEV_SET, profile: bool = True) -> dict:
    """Engine warm-up, then the dev set: quality (first pass), latency (first pass = new questions;
    repeat passes = the same questions again, sentence-vector caches warm), per-stage profile."""
    from rag.engine import Engine
    from rag.evaluation import evaluate, read_items

    out: dict[str, Any] = {"query_load_average_start": machine()["load_average"]}
    engine = Engine(settings)
    t0 = time.perf_counter()
    engine.warm_up()
    out["warm_up_s"] = time.perf_counter() - t0
    items = read_items(dev_set)
    engine_timings: list[dict] = []
    first = evaluate(items, timed_ask(engine.ask, engine_timings), k=5)
    keys = sorted({k for t in engine_timings for k in t})
    out["first_pass_engine_ms"] = {k: {"mean": sum(t.get(k, 0.0) for t in engine_timings) / len(engine_timings),
                                       "p50": percentile([t.get(k, 0.0) for t in engine_timings], 50)}
                                   for k in keys}
    out.update({k: v for k, v in first.metrics.items() if not k.startswith("latency")})
    out["first_pass_p50_ms"], out["first_pass_p95_ms"] = first.metrics["latency_p50_ms"], first.metrics["latency_p95_ms"]
    out["rows"] = [{k: r[k] for k in ("id", "rank", "correct", "abstained", "ms")} for r in first.rows]
    latencies: list[float] = []
    for _ in range(repeats):
        latencies += [r["ms"] for r in evaluate(items, timed_ask(engine.ask), k=5).rows]
    out["warm_p50_ms"], out["warm_p95_ms"] = percentile(latencies, 50), percentile(latencies, 95)
    out["warm_queries"] = len(latencies)
    if profile:
        from bench.profile import query_stages, summarise

        out["stages"] = summarise([query_stages(engine, item.question) for item in items])
    out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["load_average_end"] = machine()["load_average"]
    out["query_measured_at"] = machine()["date_utc"]
    return out


def merge_results(path: Path, size_result: dict) -> dict:
    import json

    data = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    data["runs"][str(size_result["target_chunks"])] = size_result
    data["machine"] = machine()
    write_json(path, data)
    return data


def requery(args: argparse.Namespace) -> int:
    import json

    data = json.loads(args.results.read_text())
    for target in args.chunks:
        run = data["runs"][str(target)]
        print(f"== {target} chunks: query side again on {OUT / 'scale' / str(target) / 'data'}", flush=True)
        earlier = {k: run.get(k) for k in ("warm_up_s", "first_pass_p50_ms", "first_pass_p95_ms", "warm_p50_ms",
                                            "warm_p95_ms", "load_average_end")}
        run.update(measure_queries(bench_settings(OUT / "scale" / str(target) / "data"), args.repeats,
                                   profile=not args.no_profile))
        run.setdefault("earlier_query_measurements", []).append(earlier)
        merge_results(args.results, run)
        print("   " + "  ".join(f"{k}={run[k]:.3f}" if isinstance(run[k], float) else f"{k}={run[k]}"
                               for k in ("chunks", "warm_up_s", "recall@5", "first_pass_p50_ms", "first_pass_p95_ms",
                                         "warm_p50_ms", "warm_p95_ms", "query_load_average_start", "load_average_end")),
              flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--real-max", type=int, default=10000,
                        help="sizes above this use pooled embeddings for the ingest (see module doc)")
    parser.add_argument("--pool-size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--keep-sources", action="store_true", help="keep the generated distractor files")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--query-only", action="store_true",
                        help="re-measure only the query side on the stores of an earlier run (ingest figures kept)")
    args = parser.parse_args(argv)
    if args.query_only:
        return requery(args)
    for target in args.chunks:
        print(f"== {target} chunks ({'pooled' if target > args.real_max else 'real'} embeddings) ...", flush=True)
        result = run_size(target, args.real_max, args.repeats, args.pool_size, profile=not args.no_profile)
        merge_results(args.results, result)
        keys = ("chunks", "embedding", "ingest_s", "ingest_chunks_per_s", "ingest_s_extrapolated",
                "reingest_unchanged_s", "store_bytes", "warm_up_s", "recall@5", "mrr", "answer_accuracy",
                "abstention_accuracy", "warm_p50_ms", "warm_p95_ms", "load_average_end")
        print("   " + "  ".join(f"{k}={result[k]:.3f}" if isinstance(result.get(k), float) else f"{k}={result.get(k)}"
                               for k in keys if k in result), flush=True)
        if not args.keep_sources:
            import shutil

            shutil.rmtree(OUT / "scale" / str(target) / "src", ignore_errors=True)
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
