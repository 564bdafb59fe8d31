"""`rag` command line: ingest, ask, eval, docs, delete, quotes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.config import Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        data_dir=getattr(args, "data_dir", None),
        top_k=getattr(args, "top_k", None),
        answer_mode=getattr(args, "mode", None),
    )


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import ingest

    report = ingest(args.paths, _settings(args), show_progress=not args.no_progress and not args.json)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)} "
              f"documents; wrote {report.chunks_written} chunks; store holds {report.chunks_total} chunks")
        for source, error in report.errors:
            print(f"  skipped {source}: {error}", file=sys.stderr)
        if report.recovered:
            print(f"  an earlier ingest was interrupted: removed its {len(report.recovered)} unfinished "
                  "documents first (re-added above if they were among the inputs)", file=sys.stderr)
    nothing_usable = report.errors and not (report.added or report.updated or report.unchanged)
    return 1 if nothing_usable else 0


def format_answer(answer: dict) -> str:
    lines = [answer["answer"], ""]
    if answer.get("notice"):
        lines.insert(0, f"[{answer['notice']}]")
    mode = answer["mode"] if answer["mode"] != "llm" else f"llm ({answer.get('model', '')})"
    for c in answer["citations"]:
        lines.append(f"[{c['n']}] {c['title']} — {c['source']} (score {c['score']:.3f})")
        lines.append(f"    “{c['quote']}”")
    lines.append(f"(answered by: {mode}; {answer['timings_ms'].get('total', 0):.0f} ms)")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.engine import BadQuestion
    from rag.question_file import read_records
    from rag.service import build_engine

    if args.question is None and not args.batch:
        return _fail("give a question, or --batch FILE.jsonl")
    if args.batch and not Path(args.batch).is_file():
        return _fail(f"no such batch file: {args.batch}")
    engine = build_engine(_settings(args))
    if engine.store.chunk_count() == 0:
        print("warning: the store is empty; run `rag ingest PATH` first", file=sys.stderr)
    if args.batch:
        status = 0
        for _, record, problem in read_records(Path(args.batch)):
            if problem:
                print(json.dumps({"error": problem}))
                status = 1
                continue
            turns = record["turns"]
            try:
                print(json.dumps(engine.ask(turns[-1], turns[:-1]).to_dict(), ensure_ascii=False), flush=True)
            except BadQuestion as exc:
                print(json.dumps({"question": turns[-1], "error": str(exc)}, ensure_ascii=False), flush=True)
                status = 1
        return status
    try:
        answer = engine.ask(args.question).to_dict()
    except BadQuestion as exc:
        return _fail(str(exc))
    print(json.dumps(answer, ensure_ascii=False, indent=None) if args.json else format_answer(answer))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.evaluation import evaluate, read_items
    from rag.service import build_engine

    try:
        items = read_items(Path(args.file))
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    engine = build_engine(_settings(args))
    engine.warm_up()  # latency figures are of warm queries; model loading is not counted
    report = evaluate(items, engine.ask, k=5)
    print(report.table())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"metrics": report.metrics, "rows": report.rows}, indent=2, ensure_ascii=False))
    print(f"\nwrote {out}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from ingest.storing import Store

    docs = Store(_settings(args)).documents()
    if args.json:
        print(json.dumps([d.__dict__ for d in docs], ensure_ascii=False))
    else:
        for d in docs:
            print(f"{d.doc_id}  {d.chunks:>4} chunks  {d.date or '-':<10}  {d.title}  ({d.source})")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from ingest.storing import Store

    store = Store(_settings(args))
    matches = [d for d in store.documents() if args.doc in (d.doc_id, d.source)]
    if not matches:
        return _fail(f"no ingested document has id or source {args.doc!r} (see `rag docs`)")
    for d in matches:
        store.delete_document(d.doc_id)
        print(f"deleted {d.doc_id} ({d.source}, {d.chunks} chunks)")
    return 0


def cmd_quotes(args: argparse.Namespace) -> int:
    from ingest.storing import Store
    from rag.quote_index import QuoteIndex, display_quote

    def line(r) -> str:
        return f"{r.kind:<8} “{display_quote(r.quote)}” — {r.title} [{r.start}:{r.end}]"

    index = QuoteIndex.build(Store(_settings(args)))
    records = index.unattributed() if args.terms else index.quotes(args.speaker)
    if args.json:
        print(json.dumps([r.to_dict() for r in records], ensure_ascii=False))
        return 0
    if args.speaker and not records:
        known = ", ".join(name for name, _ in index.speakers()) or "none"
        print(f"no quotes from {args.speaker!r} in the sources (quoted: {known})", file=sys.stderr)
        return 0
    if args.terms:
        for r in records:
            print(line(r))
        return 0
    for name, count in index.speakers():
        mine = [r for r in records if r.speaker == name]
        if mine:
            print(f"{name} ({count} quote{'s' if count != 1 else ''})")
            for r in mine:
                print(f"  {line(r)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Cited-answer chatbot over news articles.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, help="store location (default ./.rag or RAG_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="ingest files, folders or http(s) URLs")
    p.add_argument("paths", nargs="+")
    p.add_argument("--json", action="store_true", help="print the ingest report as JSON")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    p.add_argument("question", nargs="?")
    p.add_argument("--json", action="store_true")
    p.add_argument("--batch", help="JSONL file of {\"question\": ...} or {\"turns\": [...]} lines")
    p.add_argument("--top-k", type=int)
    p.add_argument("--mode", choices=["auto", "llm", "extractive"])
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", parents=[common], help="score a question file (dev.jsonl format)")
    p.add_argument("file")
    p.add_argument("--out", default="eval-report.json")
    p.add_argument("--top-k", type=int)
    p.add_argument("--mode", choices=["auto", "llm", "extractive"])
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("docs", parents=[common], help="list ingested documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("delete", parents=[common], help="delete a document (by id or source)")
    p.add_argument("doc")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("quotes", parents=[common], help="list who said what (quotations and their speakers)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--speaker", help="only this speaker (case-insensitive; a surname is enough)")
    which.add_argument("--terms", action="store_true", help="list quotations without a speaker (scare quotes)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_quotes)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from pydantic import ValidationError

        return args.func(args)
    except ValidationError as exc:
        return _fail(f"invalid setting: {exc.errors()[0].get('loc')} {exc.errors()[0].get('msg')}")
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:  # a clear message instead of a traceback for store problems
        from ingest.storing import StoreError

        if isinstance(exc, StoreError):
            return _fail(str(exc), 1)
        raise


if __name__ == "__main__":
    sys.exit(main())
