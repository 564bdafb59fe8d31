"""Our pipeline vs the stock LlamaIndex default, in one process, on the same documents.

    .venv/bin/python -m bench.compare                          # seed article only (the dev set's store)
    .venv/bin/python -m bench.compare --distractor-chunks 1000 # plus synthetic distractors (bench.synthetic)

Both pipelines use the same embedding model object. Quality comes from rag.evaluation on the dev set
(first pass); query latency is measured around each ask() over --repeats further warm passes; ingest time
is a first ingest into an empty store (the model already loaded), and for ours also an unchanged
re-ingest. Results go to bench/out/compare.json; the table is printed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import DEV_SET, OUT, copy_seed, fmt, fresh_dir, machine, percentile, write_json
from rag.models import Answer

AskFn = Callable[[str, list[str]], Answer]


def timed_ask(ask: AskFn) -> AskFn:
    """Wall time around the whole ask (the same clock for both pipelines)."""

    def run(question: str, history: list[str]) -> Answer:
        t0 = time.perf_counter()
        answer = ask(question, history)
        answer.timings_ms["total"] = (time.perf_counter() - t0) * 1000
        return answer

    return run


def score(ask: AskFn, items, repeats: int) -> dict:
    """Quality metrics of the first pass, latency over `repeats` further (warm) passes."""
    from rag.evaluation import evaluate

    first = evaluate(items, timed_ask(ask), k=5)
    latencies: list[float] = []
    for _ in range(repeats):
        latencies += [row["ms"] for row in evaluate(items, timed_ask(ask), k=5).rows]
    metrics = dict(first.metrics)
    metrics["first_pass_p50_ms"] = metrics.pop("latency_p50_ms")
    metrics["first_pass_p95_ms"] = metrics.pop("latency_p95_ms")
    metrics["warm_p50_ms"] = percentile(latencies, 50)
    metrics["warm_p95_ms"] = percentile(latencies, 95)
    metrics["warm_queries"] = len(latencies)
    return {"metrics": metrics, "rows": first.rows}


def prepare_sources(work: Path, distractor_chunks: int, settings) -> list[Path]:
    src = fresh_dir(work / "src")
    files = [copy_seed(src)]
    if distractor_chunks:
        from bench.synthetic import DistractorGenerator, chunks_per_document

        gen = DistractorGenerator()
        n_docs = max(1, round(distractor_chunks / chunks_per_document(gen, settings)))
        files += gen.write(src / "distractors", n_docs)
    return files


def run(distractor_chunks: int = 0, repeats: int = 3, dev_set: Path = DEV_SET, work: Path | None = None,
        reingests: int = 3) -> dict:
    from bench.baseline import StockPipeline
    from bench.common import bench_settings
    from ingest.pipeline import ingest
    from rag.embeddings import load_embed_model
    from rag.engine import Engine
    from rag.evaluation import read_items

    work = work or OUT / ("compare" if not distractor_chunks else f"compare-{distractor_chunks}")
    fresh_dir(work)
    settings = bench_settings(work / "data")
    result: dict = {"machine": machine(), "distractor_chunks_requested": distractor_chunks, "repeats": repeats}
    t0 = time.perf_counter()
    embed_model = load_embed_model(settings)
    embed_model.get_query_embedding("warm up")  # model load is shared and not part of either ingest
    result["model_load_s"] = time.perf_counter() - t0
    files = prepare_sources(work, distractor_chunks, settings)
    items = read_items(dev_set)

    # ours: first ingest, unchanged re-ingests, then the dev set
    t0 = time.perf_counter()
    report = ingest([str(files[0].parent)] if distractor_chunks else [str(files[0])], settings, show_progress=False)
    ours_ingest = time.perf_counter() - t0
    again = []
    for _ in range(reingests):
        t0 = time.perf_counter()
        re_report = ingest([str(files[0].parent)] if distractor_chunks else [str(files[0])], settings,
                           show_progress=False)
        again.append(time.perf_counter() - t0)
        assert re_report.chunks_written == 0, "an unchanged re-ingest wrote chunks"
    engine = Engine(settings)
    t0 = time.perf_counter()
    engine.warm_up()
    warm_up_s = time.perf_counter() - t0
    ours = score(engine.ask, items, repeats)
    ours["metrics"].update(ingest_s=ours_ingest, chunks=report.chunks_total, warm_up_s=warm_up_s,
                           reingest_unchanged_s=sorted(again)[len(again) // 2] if again else None)

    # stock: in-memory VectorStoreIndex over the same files
    stock_files = [f for f in files if not f.name.endswith(".meta.json")]
    stock = StockPipeline(stock_files, embed_model)
    stock_result = score(stock.ask, items, repeats)
    stock_result["metrics"].update(ingest_s=stock.ingest_seconds, chunks=stock.chunks)

    result["ours"], result["stock"] = ours, stock_result
    result["load_average_end"] = machine()["load_average"]
    return result


ROWS = [
    ("recall@5", "recall@5", "higher"), ("MRR", "mrr", "higher"), ("answer accuracy", "answer_accuracy", "higher"),
    ("abstention accuracy", "abstention_accuracy", "higher"),
    ("query p50 ms (warm)", "warm_p50_ms", "lower"), ("query p95 ms (warm)", "warm_p95_ms", "lower"),
    ("query p50 ms (1st pass)", "first_pass_p50_ms", "lower"),
    ("query p95 ms (1st pass)", "first_pass_p95_ms", "lower"),
    ("ingest s (first)", "ingest_s", "lower"), ("chunks", "chunks", ""),
]


def ratio(a, b) -> str:
    if a is None or b is None:
        return "-"
    if b == 0:
        return "inf" if a else "-"
    return f"{a / b:.2f}x"


def table(result: dict) -> str:
    ours, stock = result["ours"]["metrics"], result["stock"]["metrics"]
    lines = ["| metric | ours | stock LlamaIndex | ours / stock |", "| --- | ---: | ---: | ---: |"]
    for label, key, _better in ROWS:
        lines.append(f"| {label} | {fmt(ours.get(key))} | {fmt(stock.get(key))} | {ratio(ours.get(key), stock.get(key))} |")
    first, again = ours.get("ingest_s"), ours.get("reingest_unchanged_s")
    if first and again is not None:
        lines.append(f"| unchanged re-ingest s (ours) | {fmt(again)} | - | {100 * again / first:.1f}% of first ingest |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distractor-chunks", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="warm passes over the dev set for latency")
    parser.add_argument("--dev-set", type=Path, default=DEV_SET)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(args.distractor_chunks, args.repeats, args.dev_set)
    name = "compare.json" if not args.distractor_chunks else f"compare-{args.distractor_chunks}.json"
    path = write_json(args.out or OUT / name, result)
    m = result["machine"]
    print(f"{m['date_utc']}  {m['nproc']} cores  {m.get('cpu')}  load {m['load_average']} -> "
          f"{result['load_average_end']}")
    print(table(result))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
