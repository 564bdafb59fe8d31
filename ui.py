"""The Gradio chat UI: cited, streamed answers with their sources, a document library, quotes, settings.

Gradio does the web app, sessions, queue/concurrency, uploads and progress bars; rendering of answers
and sources is rag/ui_render.py, library operations rag/library.py. Per-user state lives only in the
chatbot value and gr.State (per browser session); the shared objects (the engine and its variants for
other settings) hold read-mostly data. The one Settings object is never changed for one user: per-session
overrides make (cached) engine variants that share the store.

Run: ``python ui.py [--host H] [--port P] [--share] [--data-dir DIR]`` (defaults from RAG_* settings).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
import threading
from collections import OrderedDict
from pathlib import Path

import gradio as gr

from rag import ui_render as render
from rag.config import Settings, load_settings
from rag.engine import BadQuestion, Engine
from rag.library import Library

log = logging.getLogger("news_rag.ui")

ANSWER_MODES = ["auto", "llm", "extractive"]
EXAMPLES = [
    "What did Peskov say?",
    "Where did the 2024 BRICS summit take place?",
    "When did Iran launch its missile attack on Israel?",
    "What does the Russia–Iran partnership treaty cover?",
]
DOC_HEADERS = ["Title", "Source", "Chunks", "Date", "Id"]

CSS = """
#sources-panel { max-height: 72vh; overflow-y: auto; }
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin: 0 0 10px 0; background: var(--background-fill-secondary); }
.source-head { font-weight: 600; line-height: 1.3; }
.source-n { color: var(--color-accent); margin-right: 2px; }
.source-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin: 3px 0 6px; word-break: break-all; }
.source-passage { margin: 0 !important; padding: 2px 0 2px 10px; border-left: 3px solid var(--border-color-accent);
  font-size: 0.93em; line-height: 1.45; white-space: pre-wrap; }
.source-passage mark, .quote-passage mark { background: #fde68a; color: #111; padding: 0 1px; border-radius: 2px; }
.sources-empty { color: var(--body-text-color-subdued); font-style: italic; padding: 6px 2px; }
.unsupported { text-decoration: underline wavy #dc2626; text-underline-offset: 3px; }
.mode-line { color: var(--body-text-color-subdued); }
.status-line { font-size: 0.9em; color: var(--body-text-color-subdued); display: flex; gap: 14px; flex-wrap: wrap; }
.status-line .notice { color: #b45309; }
.status-line .ok { color: #15803d; }
.quote-text { margin: 4px 0; }
.quote-kind { font-weight: normal; color: var(--body-text-color-subdued); font-size: 0.85em; }
"""


# -- shared helpers (no per-user state) ---------------------------------------------------------

def session_defaults(settings: Settings) -> dict:
    return {"top_k": settings.top_k, "answer_mode": settings.answer_mode, "llm_model": settings.llm_model}


class EngineVariants:
    """Engines for per-session setting overrides (top-k, answer mode, model), sharing one store.

    The base engine answers for the server's settings; a session that overrides them gets an engine
    built from a *copy* of the settings (cached, a few at most). Only derived, read-mostly data lives here.
    """

    def __init__(self, base: Engine, max_variants: int = 4):
        self.base = base
        self.max_variants = max_variants
        self._lock = threading.Lock()
        self._variants: OrderedDict[tuple, Engine] = OrderedDict()

    def get(self, overrides: dict | None) -> Engine:
        wanted = {**session_defaults(self.base.settings), **(overrides or {})}
        if wanted == session_defaults(self.base.settings):
            return self.base
        key = tuple(sorted(wanted.items()))
        with self._lock:
            if key in self._variants:
                self._variants.move_to_end(key)
                return self._variants[key]
            settings = self.base.settings.model_copy(update=wanted)
            engine = type(self.base)(settings, store=self.base.store)
            self._variants[key] = engine
            while len(self._variants) > self.max_variants:
                self._variants.popitem(last=False)
            return engine

    def invalidate(self) -> None:
        """After the documents changed: every engine rebuilds its retriever (BM25) on next use."""
        self.base.invalidate()
        with self._lock:
            for engine in self._variants.values():
                engine.invalidate()


def message_text(message: dict) -> str:
    """The plain text of a chat message (Gradio 6 gives content as a list of parts)."""
    content = message.get("content") if isinstance(message, dict) else getattr(message, "content", "")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content
                        if not isinstance(p, dict) or p.get("type", "text") == "text").strip()
    return ""


def parse_auth(settings: Settings) -> tuple[str, str] | None:
    if settings.auth is None:
        return None
    raw = settings.auth.get_secret_value() if hasattr(settings.auth, "get_secret_value") else str(settings.auth)
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise ValueError("RAG_AUTH must look like user:password")
    return user, password


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validated_overrides(top_k, answer_mode, llm_model) -> dict:
    try:
        k = int(top_k)
    except (TypeError, ValueError) as exc:
        raise ValueError("top-k must be a whole number") from exc
    if not 1 <= k <= 50:
        raise ValueError("top-k must be between 1 and 50")
    if answer_mode not in ANSWER_MODES:
        raise ValueError(f"answer mode must be one of {', '.join(ANSWER_MODES)}")
    model = (llm_model or "").strip()
    if not model or len(model) > 200 or any(not ch.isprintable() for ch in model):
        raise ValueError("give a model name (printable, at most 200 characters)")
    return {"top_k": k, "answer_mode": answer_mode, "llm_model": model}


def document_rows(library: Library) -> list[list]:
    return [[d.title, d.source, d.chunks, d.date, d.doc_id] for d in library.documents()]


def document_choices(library: Library) -> list[tuple[str, str]]:
    return [(f"{d.title} — {d.source}", d.doc_id) for d in library.documents()]


def server_settings_markdown(settings: Settings) -> str:
    llm = f"configured ({settings.llm_base_url or 'OpenAI default URL'})" if settings.llm_configured else "not configured"
    rows = [
        ("data dir", settings.data_dir), ("top-k", settings.top_k), ("answer mode", settings.answer_mode),
        ("LLM model", settings.llm_model), ("LLM endpoint", llm), ("candidates per retriever", settings.candidate_k),
        ("abstain threshold", settings.abstain_threshold), ("chunk size (tokens)", settings.chunk_size),
        ("upload limit", f"{settings.max_file_mb:g} MB"), ("concurrent requests", settings.concurrency_limit),
    ]
    return "| server setting | value |\n| --- | --- |\n" + "\n".join(
        f"| {name} | {render.escape_markdown(str(value))} |" for name, value in rows
    )


# -- the app ------------------------------------------------------------------------------------

def build_app(settings: Settings, engine: Engine | None = None) -> gr.Blocks:
    """The Gradio Blocks app over `engine` (built from `settings` when not given); queue configured."""
    if engine is None:
        from rag.service import build_engine

        engine = build_engine(settings)
    engine.warm_up()
    variants = EngineVariants(engine)
    library = Library(engine, on_change=variants.invalidate)
    quotes = QuotesView(engine)

    # ---- chat -----------------------------------------------------------------------------
    def respond(question, history, overrides, turn_sources):
        question = question or ""
        history = list(history or [])
        prior = [message_text(m) for m in history if isinstance(m, dict) and m.get("role") == "user"]
        prior = prior[-settings.history_turns:] if settings.history_turns else []
        turn_sources = dict(turn_sources or {})
        if question.strip():
            history.append({"role": "user", "content": question})
        history.append({"role": "assistant", "content": "Searching the documents…"})
        slot = len(history) - 1
        yield history, "", render.sources_message("Searching the documents…"), "", turn_sources
        try:
            text, answer = "", None
            for item in variants.get(overrides).stream(question, prior):
                if isinstance(item, str):
                    text += item
                    history[slot] = {"role": "assistant", "content": render.streaming_markdown(text)}
                    yield history, gr.skip(), gr.skip(), gr.skip(), gr.skip()
                else:
                    answer = item
            if answer is None:
                raise RuntimeError("the engine returned no answer")
        except BadQuestion as exc:
            message = f"Cannot answer: {exc}."
            history[slot] = {"role": "assistant", "content": render.error_markdown(message)}
            yield history, gr.skip(), render.sources_message(message), "", turn_sources
            return
        except Exception as exc:  # the chat must survive any failure; the log has the traceback
            log.exception("answering %r failed", question[:200])
            message = f"Something went wrong while answering ({exc.__class__.__name__}: {exc})."
            history[slot] = {"role": "assistant", "content": render.error_markdown(message)}
            yield history, gr.skip(), render.sources_message(message), "", turn_sources
            return
        sources = render.sources_html(answer)
        turn_sources[slot] = sources
        history[slot] = {"role": "assistant", "content": render.answer_markdown(answer)}
        yield history, "", sources, render.status_html(answer), turn_sources

    def show_turn_sources(turn_sources, evt: gr.SelectData):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        found = (turn_sources or {}).get(index)
        return found if found is not None else gr.skip()

    def clear_chat():
        return [], "", render.sources_html(None), "", {}

    # ---- library --------------------------------------------------------------------------
    def library_outputs(status: str):
        return (status, document_rows(library), gr.update(choices=document_choices(library), value=None),
                quotes.speaker_rows(), stats_markdown())

    def failed(action: str, exc: Exception):
        log.exception("%s failed", action)
        return library_outputs(render.error_markdown(f"{action} failed ({exc.__class__.__name__}: {exc}); "
                                                     "the documents already in the library are unchanged."))

    def ingest_files(files, progress=gr.Progress()):
        if not files:
            return library_outputs("Choose one or more files first.")
        progress(0, desc="Checking uploads")
        pairs = [(Path(f), Path(f).name) for f in (files if isinstance(files, list) else [files])]
        try:
            result = library.add_files(pairs, on_progress=lambda f, m: progress(f, desc=m))
        except Exception as exc:  # e.g. the store became unwritable: say so, keep the app alive
            return failed("Ingesting the uploads", exc)
        return library_outputs(render.ingest_report_markdown(result.report, result.rejected))

    def ingest_url(url, progress=gr.Progress()):
        progress(0, desc="Fetching")
        try:
            result = library.add_url(url, on_progress=lambda f, m: progress(f, desc=m))
        except Exception as exc:
            return failed("Ingesting the URL", exc)
        return library_outputs(render.ingest_report_markdown(result.report, result.rejected))

    def delete_document(doc_id):
        if not doc_id:
            return library_outputs("Choose a document to delete first.")
        try:
            info = library.delete(doc_id)
        except Exception as exc:
            return failed("Deleting the document", exc)
        if info is None:
            return library_outputs("That document is no longer in the library.")
        return library_outputs(
            f"Deleted **{render.escape_markdown(info.title)}** ({info.chunks} chunks removed)."
        )

    def refresh_library():
        return library_outputs("")

    def stats_markdown() -> str:
        docs = library.documents()
        chunks = sum(d.chunks for d in docs)
        if not docs:
            return "**The library is empty** — add documents in the *Library* tab (or run `rag ingest corpus/`)."
        return f"{len(docs)} documents · {chunks} chunks in the library"

    # ---- settings -------------------------------------------------------------------------
    def apply_settings(top_k, answer_mode, llm_model):
        try:
            overrides = validated_overrides(top_k, answer_mode, llm_model)
        except ValueError as exc:
            return gr.skip(), render.error_markdown(str(exc))
        note = ""
        if overrides["answer_mode"] == "llm" and not settings.llm_configured:
            note = " No LLM endpoint is configured on the server (OPENAI_BASE_URL), so answers will say how they fell back."
        return overrides, (f"Applied for this browser session only: top-k {overrides['top_k']}, mode "
                           f"{overrides['answer_mode']}, model {render.escape_markdown(overrides['llm_model'])}.{note}")

    def reset_settings():
        d = session_defaults(settings)
        return d, d["top_k"], d["answer_mode"], d["llm_model"], "Back to the server settings."

    # ---- quotes ---------------------------------------------------------------------------
    def show_speaker(evt: gr.SelectData):
        row = evt.row_value or []
        speaker = row[0] if row else evt.value
        return quotes.quotes_html(str(speaker))

    with gr.Blocks(title="News RAG — cited answers", analytics_enabled=False) as app:
        overrides = gr.State(session_defaults(settings))
        turn_sources = gr.State({})
        with gr.Row():
            gr.Markdown("## News RAG — answers with citations")
            stats = gr.Markdown(stats_markdown(), elem_id="library-stats")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=360):
                        chatbot = gr.Chatbot(
                            label="Answer", height=520, elem_id="chatbot", buttons=["copy", "copy_all"],
                            feedback_options=None, latex_delimiters=[],
                            placeholder="Ask a question about the ingested news. Every claim cites its source [n].",
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                show_label=False, placeholder="Ask a question, e.g. What did Peskov say?",
                                scale=5, elem_id="question", max_lines=4, submit_btn=False,
                            )
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                            clear_btn = gr.Button("Clear", scale=1, min_width=80)
                        status = gr.HTML("", elem_id="status-line")
                        gr.Examples(EXAMPLES, inputs=[question], label="Example questions")
                    with gr.Column(scale=2, min_width=320):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(render.sources_html(None), elem_id="sources-panel")
            with gr.Tab("Library", id="library"):
                docs_table = gr.Dataframe(
                    value=document_rows(library), headers=DOC_HEADERS, interactive=False, wrap=True,
                    label="Ingested documents", elem_id="docs-table",
                    column_widths=["38%", "34%", "8%", "10%", "10%"],
                )
                with gr.Row():
                    with gr.Column():
                        files = gr.File(
                            file_count="multiple", type="filepath", elem_id="upload",
                            label=f"Upload .txt .md .html .pdf (at most {settings.max_file_mb:g} MB each)",
                        )
                        upload_btn = gr.Button("Ingest uploaded files", variant="primary")
                    with gr.Column():
                        url = gr.Textbox(label="Or paste an http(s) URL", placeholder="https://…", elem_id="url")
                        url_btn = gr.Button("Ingest URL", variant="primary")
                        delete_choice = gr.Dropdown(
                            choices=document_choices(library), value=None, label="Delete a document",
                            elem_id="delete-choice", allow_custom_value=True,  # checked by Library.delete
                        )
                        with gr.Row():
                            delete_btn = gr.Button("Delete document", variant="stop")
                            refresh_btn = gr.Button("Refresh list")
                library_status = gr.Markdown("", elem_id="library-status")
            with gr.Tab("Quotes", id="quotes"):
                gr.Markdown("Who is quoted in the documents. Click a speaker to see their quotes; "
                            "each quote opens onto its passage.")
                with gr.Row(equal_height=False):
                    speakers = gr.Dataframe(
                        value=quotes.speaker_rows(), headers=["Speaker", "Quotes"], interactive=False,
                        label="Speakers", elem_id="speakers", scale=1,
                    )
                    speaker_quotes = gr.HTML(render.sources_message("Choose a speaker."), elem_id="speaker-quotes")
            with gr.Tab("Settings", id="settings"):
                gr.Markdown("Changes here apply to **your browser session only**; the server settings "
                            "(from `RAG_*` variables) stay as they are for everyone else.")
                with gr.Row():
                    top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="top-k (passages retrieved)")
                    mode = gr.Radio(ANSWER_MODES, value=settings.answer_mode, label="Answer mode")
                    model = gr.Textbox(value=settings.llm_model, label="LLM model name")
                with gr.Row():
                    apply_btn = gr.Button("Apply to my session", variant="primary")
                    reset_btn = gr.Button("Reset to server settings")
                settings_status = gr.Markdown("")
                gr.Markdown(server_settings_markdown(settings))

        chat_outputs = [chatbot, question, sources, status, turn_sources]
        chat_inputs = [question, chatbot, overrides, turn_sources]
        question.submit(respond, chat_inputs, chat_outputs, api_name="ask")
        ask_btn.click(respond, chat_inputs, chat_outputs, api_name=False)
        clear_btn.click(clear_chat, None, chat_outputs, api_name=False, queue=False)
        chatbot.clear(clear_chat, None, chat_outputs, api_name=False, queue=False)
        chatbot.select(show_turn_sources, [turn_sources], [sources], api_name=False, queue=False)

        lib_outputs = [library_status, docs_table, delete_choice, speakers, stats]
        lib_events = dict(outputs=lib_outputs, concurrency_limit=1, concurrency_id="library")
        upload_btn.click(ingest_files, [files], api_name="ingest_files", **lib_events)
        url_btn.click(ingest_url, [url], api_name="ingest_url", **lib_events)
        url.submit(ingest_url, [url], api_name=False, **lib_events)
        delete_btn.click(delete_document, [delete_choice], api_name="delete_document", **lib_events)
        refresh_btn.click(refresh_library, None, api_name="refresh_library", **lib_events)
        app.load(refresh_library, None, api_name=False, **lib_events)

        speakers.select(show_speaker, None, [speaker_quotes], api_name=False)

        def quotes_of(speaker: str) -> str:
            """The quotes of one speaker as HTML (what the Quotes tab shows on a click)."""
            return quotes.quotes_html(speaker)

        gr.api(quotes_of, api_name="quotes")

        apply_btn.click(apply_settings, [top_k, mode, model], [overrides, settings_status], api_name="apply_settings")
        reset_btn.click(reset_settings, None, [overrides, top_k, mode, model, settings_status], api_name=False)

    app.queue(default_concurrency_limit=settings.concurrency_limit)
    return app


class QuotesView:
    """Speakers and their quotes for the Quotes tab (rag.quote_index; one index per store version).

    Each quote links to its passage: the stored chunk that holds it (``quote_index.chunk_for``), shown
    with the quote highlighted.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._cached: tuple[str, object] | None = None

    def index(self):
        if hasattr(self.engine, "quote_index"):
            return self.engine.quote_index()
        from rag.quote_index import QuoteIndex

        version = self.engine.store.version()
        with self._lock:
            if self._cached is None or self._cached[0] != version:
                self._cached = (version, QuoteIndex.build(self.engine.store))
            return self._cached[1]

    def speaker_rows(self) -> list[list]:
        return [[speaker, count] for speaker, count in self.index().speakers()]

    def quotes_html(self, speaker: str) -> str:
        from rag.quote_index import chunk_for, document_chunks

        speaker = (speaker or "").strip()
        if not speaker:
            return render.sources_message("Choose a speaker.")
        chunks: dict[str, list] = {}

        def context_of(record) -> tuple[str, list[tuple[int, int]]]:
            if record.doc_id not in chunks:
                chunks[record.doc_id] = document_chunks(self.engine.store, record.doc_id)
            found = chunk_for(chunks[record.doc_id], record.start, record.end)
            if found is None:
                at = record.sentence.find(record.quote)
                return record.sentence, ([(at, at + len(record.quote))] if at >= 0 else [])
            passage = found[0] if isinstance(found, tuple) else found
            span = (max(record.start, passage.start) - passage.start, min(record.end, passage.end) - passage.start)
            return passage.text, [span]

        records = self.index().quotes(speaker)
        if not records:
            return render.sources_message(f"No quotes found for {speaker}.")
        return render.quote_cards(records, context_of)


# -- launching ------------------------------------------------------------------------------------

def theme() -> gr.themes.Base:
    # Local fonts only: the default theme would ask Google Fonts, which an offline machine cannot reach.
    return gr.themes.Default(
        primary_hue="blue", font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )


def security_warnings(settings: Settings) -> list[str]:
    """What is risky about how the UI is about to be exposed (logged at start)."""
    warnings = []
    if settings.auth is None and not is_loopback(settings.host):
        warnings.append(f"the UI listens on {settings.host} without authentication: anyone who can reach this "
                        "host can use it and change the library (set RAG_AUTH=user:password)")
    if settings.share and settings.auth is None:
        warnings.append("--share publishes the UI on a public gradio.live link without authentication")
    return warnings


def launch(app: gr.Blocks, settings: Settings, *, prevent_thread_lock: bool = False, quiet: bool = False):
    """Start the web server for `app` as configured (host, port, share, auth); returns Gradio's (app, url, share_url)."""
    auth = parse_auth(settings)
    for warning in security_warnings(settings):
        log.warning(warning)
    return app.launch(
        server_name=settings.host, server_port=settings.port, share=settings.share, auth=auth,
        prevent_thread_lock=prevent_thread_lock, quiet=quiet, show_error=True, ssr_mode=False,
        # Gradio's own cap protects the disk; uploads above settings.max_file_mb but under it get our message.
        max_file_size=int(settings.max_file_mb * 2e6) + 1_000_000,
        css=CSS, theme=theme(), footer_links=["api", "settings"],
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Chat UI for cited answers over the ingested news.")
    p.add_argument("--host", help="interface to listen on (default 127.0.0.1, RAG_HOST)")
    p.add_argument("--port", type=int, help="port (default 7860, RAG_PORT)")
    p.add_argument("--share", action="store_true", default=None, help="also publish a public gradio.live link")
    p.add_argument("--data-dir", type=Path, help="store location (default ./.rag, RAG_DATA_DIR)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "bm25s", "sentence_transformers"):  # per-request / per-build chatter
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from ingest.storing import StoreError
    from rag.service import build_engine

    try:
        settings = load_settings(host=args.host, port=args.port, share=args.share, data_dir=args.data_dir)
        parse_auth(settings)
        engine = build_engine(settings)
    except (StoreError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if engine.store.chunk_count() == 0:
        log.warning("the store in %s is empty: ingest documents in the Library tab or with `rag ingest`",
                    settings.data_dir)
    app = build_app(settings, engine)
    launch(app, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
