"""PNG plots of the scale run (bench/out/scale/results.json) into docs/.

    .venv/bin/python -m bench.plots [--results bench/out/scale/results.json ...] [--out docs]

Writes docs/bench-scale.png (ingest throughput, store size, query latency, dev-set quality against the
number of chunks) and docs/bench-query-stages.png (where one warm query's time goes, per size).
Sizes ingested with pooled embeddings are drawn hollow; their full ingest throughput was not measured,
so only the measured non-embedding throughput is drawn for them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench.common import DOCS  # noqa: E402
from bench.scale import RESULTS  # noqa: E402

STAGES = [("embed_query", "query embedding"), ("vector_search", "vector search (Chroma)"), ("bm25", "BM25"),
          ("evidence_total", "evidence scoring"), ("quote_answer", "quote-index answer"),
          ("extractive_answer", "extractive answer"), ("verification", "verification")]


def _runs(results: dict) -> list[dict]:
    return sorted(results["runs"].values(), key=lambda r: r["chunks"])


def plot_scale(results: dict, out: Path) -> Path:
    runs = _runs(results)
    x = [r["chunks"] for r in runs]
    pooled = [r["embedding"] == "pooled" for r in runs]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))

    def points(ax, ys, label, color, marker="o"):
        ax.plot(x, ys, color=color, linewidth=1, alpha=0.6)
        for xi, yi, p in zip(x, ys, pooled):
            if yi is not None:
                ax.scatter([xi], [yi], marker=marker, s=50, edgecolors=color,
                           facecolors="none" if p else color, zorder=3)
        ax.plot([], [], marker=marker, color=color, label=label)

    ax = axes[0][0]
    real = [(r["chunks"], r["ingest_chunks_per_s"]) for r in runs if r.get("ingest_chunks_per_s")]
    if real:
        ax.plot(*zip(*real), marker="o", color="tab:blue", label="first ingest, end to end (measured)")
    no_embed = [(r["chunks"], r["ingest_chunks_per_s_without_embedding"]) for r in runs
                if r.get("ingest_chunks_per_s_without_embedding")]
    if no_embed:
        ax.plot(*zip(*no_embed), marker="s", linestyle="none", markerfacecolor="none", color="tab:gray",
                label="pooled run: everything but embedding\n(full ingest not measured)")
    ax.set(xscale="log", yscale="log", xlabel="chunks in store", ylabel="chunks / s", title="Ingest throughput")
    ax.legend(fontsize=8, loc="center left")

    ax = axes[0][1]
    points(ax, [r["store_bytes"] / 1e6 for r in runs], "data dir on disk", "tab:green")
    ax.set(xscale="log", yscale="log", xlabel="chunks in store", ylabel="MB", title="Store size on disk")
    ax.legend(fontsize=8)

    ax = axes[1][0]
    points(ax, [r["first_pass_p50_ms"] for r in runs], "p50, new questions", "tab:blue")
    points(ax, [r["first_pass_p95_ms"] for r in runs], "p95, new questions", "tab:red", "^")
    points(ax, [r["warm_p50_ms"] for r in runs], "p50, repeat questions", "tab:cyan", "s")
    ax.axhline(150, color="tab:blue", linestyle=":", linewidth=1, label="p50 target, corpus size (150 ms)")
    ax.axhline(250, color="tab:red", linestyle=":", linewidth=1, label="p50 target, 100k chunks (250 ms)")
    ax.set(xscale="log", xlabel="chunks in store", ylabel="ms", title="Query latency, models loaded (dev set, engine.ask)")
    ax.legend(fontsize=8)

    ax = axes[1][1]
    points(ax, [r["recall@5"] for r in runs], "recall@5", "tab:blue")
    points(ax, [r["mrr"] for r in runs], "MRR", "tab:orange", "s")
    points(ax, [r["answer_accuracy"] for r in runs], "answer accuracy", "tab:green", "^")
    points(ax, [r["abstention_accuracy"] for r in runs], "abstention accuracy", "tab:purple", "v")
    ax.set(xscale="log", ylim=(0, 1.05), xlabel="chunks in store", ylabel="score", title="Dev-set quality vs distractors")
    ax.legend(fontsize=8)

    date = results.get("machine", {}).get("date_utc", "")
    fig.suptitle(f"news-rag scale run: seed article + synthetic distractors ({date}, "
                 f"{results.get('machine', {}).get('nproc', '?')} cores)", fontsize=11)
    fig.tight_layout()
    path = out / "bench-scale.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_stages(results: dict, out: Path) -> Path | None:
    runs = [r for r in _runs(results) if r.get("stages")]
    if not runs:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.5))
    labels = [f"{r['chunks']:,}" + (" (pooled)" if r["embedding"] == "pooled" else "") for r in runs]
    bottom = [0.0] * len(runs)
    for key, name in STAGES:
        values = [r["stages"].get(key, {}).get("mean_ms", 0.0) for r in runs]
        ax.bar(labels, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set(xlabel="chunks in store", ylabel="mean ms per query",
           title="Where a repeat query's time goes (dev set mean; a new question adds ~65 ms of sentence embedding)")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    path = out / "bench-query-stages.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, nargs="+", default=[RESULTS],
                        help="one or more results files of bench.scale (their runs are merged)")
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    results: dict = {"runs": {}}
    for path in args.results:
        data = json.loads(path.read_text())
        results["runs"].update(data["runs"])
        results["machine"] = data.get("machine", {})
    args.out.mkdir(parents=True, exist_ok=True)
    for path in (plot_scale(results, args.out), plot_stages(results, args.out)):
        if path:
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
