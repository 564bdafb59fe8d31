"""Recall@5 and MRR of each retriever alone (vector, BM25) and fused, on an existing store.

    .venv/bin/python -m bench.retrievers bench/out/scale/1000/data bench/out/scale/10000/data ...

Uses the engine's own retriever (rag.retrieval.HybridRetriever) and its two LlamaIndex parts, and
rag.evaluation's rank definition (an evidence string inside one of the first k passages). Shows which
retriever keeps the real article in reach as distractors grow.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.common import DEV_SET, OUT, bench_settings, machine, write_json


def first_hit(texts: list[str], evidence: list[str], k: int) -> int | None:
    from rag.evaluation import norm

    wanted = [norm(e) for e in evidence]
    for rank, text in enumerate(texts[:k], 1):
        if any(w in norm(text) for w in wanted):
            return rank
    return None


def measure(data_dir: Path, dev_set: Path = DEV_SET, k: int = 5) -> dict:
    from llama_index.core import QueryBundle

    from rag.engine import Engine
    from rag.evaluation import read_items

    engine = Engine(bench_settings(data_dir))
    retriever = engine.retriever()
    vector, bm25 = retriever._fusion._retrievers
    ranks: dict[str, list[int | None]] = {"vector": [], "bm25": [], "fused": []}
    for item in read_items(dev_set):
        if not item.answerable:
            continue
        emb = engine.embed_model.get_query_embedding(item.question)
        vec = [h.node.get_content() for h in vector.retrieve(QueryBundle(item.question, embedding=emb))]
        lex = [h.node.get_content() for h in bm25.retrieve(QueryBundle(item.question))]
        fused = [p.text for p in retriever.retrieve(item.question, emb)]
        for name, texts in (("vector", vec), ("bm25", lex), ("fused", fused)):
            ranks[name].append(first_hit(texts, item.evidence, k))
    out: dict = {"data_dir": str(data_dir), "chunks": engine.store.chunk_count()}
    for name, rs in ranks.items():
        out[name] = {f"recall@{k}": sum(1 for r in rs if r) / len(rs),
                     "mrr": sum(1 / r for r in rs if r) / len(rs), "ranks": rs}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dirs", type=Path, nargs="+")
    parser.add_argument("--dev-set", type=Path, default=DEV_SET)
    parser.add_argument("--out", type=Path, default=OUT / "retrievers.json")
    args = parser.parse_args(argv)
    results = [measure(d, args.dev_set) for d in args.data_dirs]
    write_json(args.out, {"machine": machine(), "stores": results})
    print("| chunks | vector recall@5 | BM25 recall@5 | fused recall@5 | vector MRR | BM25 MRR | fused MRR |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['chunks']:,} | {r['vector']['recall@5']:.2f} | {r['bm25']['recall@5']:.2f} | "
              f"{r['fused']['recall@5']:.2f} | {r['vector']['mrr']:.2f} | {r['bm25']['mrr']:.2f} | "
              f"{r['fused']['mrr']:.2f} |")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
