"""The Gradio app driven through gradio_client over HTTP on 127.0.0.1 (real engine, Chroma, MiniLM),
plus the library helpers behind its Library tab (rag/library.py) and the launch helpers of ui.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from pydantic import SecretStr

from rag.library import UploadRejected, check_upload, safe_stem, store_upload
from tests.conftest import free_port, make_settings, running_app
from tests.fake_openai import FakeOpenAI
from tests.local_http import PageServer
from ui import (
    EngineVariants,
    build_app,
    build_parser,
    launch,
    main,
    message_text,
    parse_auth,
    security_warnings,
    session_defaults,
    validated_overrides,
)

TIMEOUT = 120  # seconds for any one request; nothing here should come close

HOSTILE_DOC = """# Harbour <script>window.__pwned = 1</script> gazette

The mayor of Port Elbrin, Anneli Varga, opened the new ferry terminal on Monday.
The terminal cost 40 million euros <img src=x onerror="window.__pwned=2"> and was finished ahead of schedule.
"We built this for the next fifty years," Varga said at the opening ceremony.
"""

OTHER_DOC = """# Orchard report

The apple harvest in the Valtern valley reached 12,000 tonnes this autumn, a record for the region.
Growers said the dry summer reduced fungal disease.
"""


def call(client: Client, *args, api_name: str):
    return client.submit(*args, api_name=api_name).result(timeout=TIMEOUT)


def bot_text(chat: list[dict]) -> str:
    return message_text(chat[-1])


def cards(sources_html: str) -> int:
    return sources_html.count('class="source-card"')


# -- the chat, over the seed store (session app from conftest.ui_url) ------------------------------

def test_ask_gives_a_cited_answer_with_highlighted_sources(ui_url):
    chat, box, sources, status = call(Client(ui_url, verbose=False), "What did Peskov say?", [], api_name="/ask")
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert message_text(chat[0]) == "What did Peskov say?"
    answer = bot_text(chat)
    markers = sorted({int(n) for n in re.findall(r"\\\[(\d+)\\\]", answer)})
    assert markers, answer
    assert "Peskov" in answer
    assert box == ""
    # one source card per cited number, each with the cited sentence highlighted
    assert cards(sources) == len(markers)
    for n in markers:
        assert f'id="source-{n}"' in sources
    assert sources.count("<mark>") >= len(markers)
    assert "Kremlin says it won&#x27;t abandon Iran" in sources
    assert "2024-10-22" in sources and re.search(r"score \d\.\d{3}", sources)
    assert "Answered by: offline extractive" in status and "Answered by: offline extractive" in answer


def test_answers_stream_before_the_final_message(ui_url):
    job = Client(ui_url, verbose=False).submit("What did Peskov say?", [], api_name="/ask")
    final = job.result(timeout=TIMEOUT)
    texts = [bot_text(out[0]) for out in job.outputs() if out and isinstance(out[0], list) and out[0]]
    partial = [t for t in texts if t.endswith("▌")]
    assert partial, texts  # the answer was shown while it was being written
    assert not bot_text(final[0]).endswith("▌")
    assert len({t for t in partial}) >= 2  # more than one growing state


def test_bad_questions_are_answered_in_the_chat(ui_url):
    client = Client(ui_url, verbose=False)
    chat, _, sources, _ = call(client, "   ", [], api_name="/ask")
    assert [m["role"] for m in chat] == ["assistant"]
    assert "Cannot answer: the question is empty" in bot_text(chat)
    assert "question is empty" in sources
    chat, *_ = call(client, "why " * 600, [], api_name="/ask")
    assert "the limit is 2000" in bot_text(chat)
    chat, *_ = call(client, "What did Peskov say?", chat, api_name="/ask")  # the session goes on
    assert re.search(r"\\\[1\\\]", bot_text(chat))


def test_follow_up_keeps_the_history_it_was_given(ui_url):
    client = Client(ui_url, verbose=False)
    chat, *_ = call(client, "What did Peskov say?", [], api_name="/ask")
    chat2, *_ = call(client, "Did he say anything about third countries?", chat, api_name="/ask")
    assert [m["role"] for m in chat2] == ["user", "assistant", "user", "assistant"]
    assert message_text(chat2[2]) == "Did he say anything about third countries?"
    assert "third countries" in bot_text(chat2)
    # another session starts from its own empty history
    other, *_ = call(Client(ui_url, verbose=False), "What did Peskov say?", [], api_name="/ask")
    assert len(other) == 2


def test_settings_overrides_stay_in_one_session(ui_url, seed_settings, seed_engine):
    mine, theirs = Client(ui_url, verbose=False), Client(ui_url, verbose=False)
    status = call(mine, 1, "extractive", "some-other-model", api_name="/apply_settings")
    assert "Applied for this browser session only: top-k 1" in status
    _, _, _, my_status = call(mine, "What did Peskov say?", [], api_name="/ask")
    _, _, _, their_status = call(theirs, "What did Peskov say?", [], api_name="/ask")
    assert "1 passage searched" in my_status
    searched = int(re.search(r"(\d+) passages searched", their_status).group(1))
    assert searched == min(seed_settings.top_k, seed_engine.store.chunk_count()) > 1
    assert seed_settings.top_k == 5 and seed_engine.settings.top_k == 5  # the shared settings are untouched
    assert seed_engine.settings.llm_model != "some-other-model"
    assert "give a model name" in call(mine, 3, "auto", "   ", api_name="/apply_settings")


def test_quotes_endpoint_lists_a_speakers_quotes_with_passages(ui_url):
    client = Client(ui_url, verbose=False)
    _, table, _, speakers, stats = call(client, api_name="/refresh_library")
    rows = {row[0]: row[1] for row in speakers["data"]}
    assert rows.get("Dmitry Peskov", 0) >= 2
    assert re.match(r"1 documents · \d+ chunks", stats)
    assert table["data"][0][0] == "Kremlin says it won't abandon Iran as Israel weighs its retaliation"
    html = call(client, "Dmitry Peskov", api_name="/quotes")
    assert html.count('class="source-card quote-card"') == rows["Dmitry Peskov"]
    assert "We are developing cooperation with Iran" in html
    assert html.count("<details") == rows["Dmitry Peskov"] and "<mark>" in html
    assert "Choose a speaker" in call(client, "", api_name="/quotes")


def test_llm_mode_without_an_endpoint_says_how_it_fell_back(ui_url):
    client = Client(ui_url, verbose=False)
    call(client, 5, "llm", "some-model", api_name="/apply_settings")
    chat, _, sources, status = call(client, "What did Peskov say?", [], api_name="/ask")
    assert "No LLM endpoint is configured" in status and "Answered by: offline extractive" in status
    assert "No LLM endpoint is configured" in bot_text(chat) and "<mark>" in sources


# -- LLM mode, against the local OpenAI-compatible fake server ------------------------------------

_PASSAGE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.DOTALL)


def embellishing_model(body: dict) -> str:
    """Repeats a plain sentence of the first passage faithfully, then adds a claim no passage makes."""
    prompt = body["messages"][-1]["content"]
    if "Standalone question:" in prompt:
        return re.search(r"Last question: (.*)", prompt).group(1)
    n, plain = next((n, s) for n, text in _PASSAGE.findall(prompt) for s in re.split(r"(?<=\.)\s+", text.strip())
                    if s.endswith(".") and not re.search("[“”\"\n]", s))
    return f"{plain} [{n}] The ministers also agreed to build a joint lunar base in 2031. [{n}]"


@pytest.fixture(scope="module")
def llm_app(seed_settings, seed_engine):
    from rag.engine import Engine

    with FakeOpenAI(responder=embellishing_model, api_key="sk-ui-test") as fake:
        settings = seed_settings.model_copy(update={
            "port": free_port(), "llm_base_url": fake.base_url, "llm_api_key": SecretStr("sk-ui-test"),
            "llm_model": "fake-ui-model", "llm_timeout": 5.0, "llm_max_retries": 0, "answer_mode": "auto"})
        with running_app(settings, Engine(settings, store=seed_engine.store)) as url:
            yield url, fake


def test_llm_answer_names_the_model_and_flags_the_unsupported_sentence(llm_app):
    url, fake = llm_app
    chat, _, sources, status = call(Client(url, verbose=False), "What did the Kremlin say about Iran?", [],
                                    api_name="/ask")
    answer = bot_text(chat)
    assert "Answered by: LLM (fake-ui-model)" in status and "Answered by: LLM (fake-ui-model)" in answer
    assert fake.requests and fake.requests[-1]["model"] == "fake-ui-model"
    flagged = re.findall(r'<span class="unsupported"[^>]*>(.*?)</span>', answer)
    assert flagged == ["⚠ The ministers also agreed to build a joint lunar base in 2031."]
    assert "1 sentence is not supported by the cited passage" in answer
    assert "unsupported sentence(s) flagged" in status
    assert "<mark>" in sources and "lunar" not in sources


def test_llm_failure_shows_the_fallback_notice(llm_app):
    url, fake = llm_app
    fake.fail_next("500", times=1)  # max_retries=0: one request, one failure
    chat, _, sources, status = call(Client(url, verbose=False), "What did Peskov say?", [], api_name="/ask")
    assert "Answered by: offline extractive" in status
    assert "fake-ui-model" in status and "extractive answer" in status  # the notice says what happened
    assert bot_text(chat).startswith("> ⚠ ") and "<mark>" in sources


# -- the library, on a fresh store --------------------------------------------------------------

@pytest.fixture(scope="module")
def library_app(tmp_path_factory):
    from rag.engine import Engine

    settings = make_settings(tmp_path_factory.mktemp("ui-library") / "data", port=free_port(), max_file_mb=0.005)
    engine = Engine(settings)
    with running_app(settings, engine) as url:
        yield url, engine, settings


def write(folder: Path, name: str, data: str | bytes) -> str:
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def test_upload_ask_and_delete(library_app, tmp_path):
    url, engine, settings = library_app
    client = Client(url, verbose=False)
    files = [
        write(tmp_path, "harbour.md", HOSTILE_DOC),
        write(tmp_path, "scan.txt", b"abc\x00\x01\x02" * 50),
        write(tmp_path, "blank.md", "  \n"),
        write(tmp_path, "tool.exe", "MZ not really"),
        write(tmp_path, "huge.txt", "word " * 3000),  # 15 KB > the 5 KB limit of this app
    ]
    status, table, choices, _, _ = call(client, [handle_file(f) for f in files], api_name="/ingest_files")
    assert "1 added" in status
    assert "**scan.txt**: looks like a binary file, not text" in status
    assert "**blank.md**: file is empty" in status
    assert "**tool.exe**: unsupported file type .exe" in status
    assert "**huge.txt**: file is 0.015 MB, over the 0.005 MB limit" in status
    assert [row[0] for row in table["data"]] == ["Harbour <script>window.__pwned = 1</script> gazette"]
    doc_id = table["data"][0][4]
    stored = list(settings.uploads_dir.iterdir())
    assert len(stored) == 1 and re.fullmatch(r"harbour-[0-9a-f]{12}\.md", stored[0].name)
    assert table["data"][0][1] == str(stored[0].resolve())

    chat, _, sources, _ = call(client, "What did Anneli Varga open?", [], api_name="/ask")
    assert "ferry terminal" in bot_text(chat)
    assert "Harbour &lt;script&gt;window.__pwned = 1&lt;/script&gt; gazette" in sources
    assert "<script" not in sources and "<img" not in sources

    # more uploads never lose what is there; the same file again is recognised as unchanged
    status, table, *_ = call(client, [handle_file(write(tmp_path, "orchard.md", OTHER_DOC))], api_name="/ingest_files")
    assert "1 added" in status and len(table["data"]) == 2
    status, table, *_ = call(client, [handle_file(files[0])], api_name="/ingest_files")
    assert "1 unchanged" in status and len(table["data"]) == 2
    assert doc_id in [v for _, v in choices["choices"]]

    status, table, choices, _, stats = call(client, doc_id, api_name="/delete_document")
    assert "Deleted **Harbour" in status
    assert [row[0] for row in table["data"]] == ["Orchard report"]
    assert doc_id not in [v for _, v in choices["choices"]]
    assert stats.startswith("1 documents")
    assert engine.store.collection.get(where={"document_id": doc_id})["ids"] == []
    assert not stored[0].exists()
    _, _, sources, _ = call(client, "What did Anneli Varga open?", [], api_name="/ask")
    assert "Harbour" not in sources  # BM25 and vectors no longer know the deleted document
    status, *_ = call(client, doc_id, api_name="/delete_document")
    assert "no longer in the library" in status


def test_ingest_url_and_its_errors(library_app):
    url, engine, _ = library_app
    client = Client(url, verbose=False)
    page = (b"<html><head><title>Valtern river festival</title></head><body><article><h1>Valtern river festival</h1>"
            b"<p>The Valtern river festival drew 8,000 visitors to the old town on Saturday, organisers said.</p>"
            b"<p>Boat races were held for the first time since 2019, and the mayor opened the new pier.</p>"
            b"</article></body></html>")
    with PageServer({"/festival.html": (200, "text/html; charset=utf-8", page)}) as server:
        status, table, *_ = call(client, f"{server.base_url}/festival.html", api_name="/ingest_url")
        assert "1 added" in status
        assert any(row[1] == f"{server.base_url}/festival.html" for row in table["data"])
        status, *_ = call(client, f"{server.base_url}/missing.html", api_name="/ingest_url")
        assert "HTTP 404" in status
    status, *_ = call(client, "ftp://example.org/x", api_name="/ingest_url")
    assert "enter an http:// or https:// URL" in status
    chat, _, sources, _ = call(client, "How many visitors did the Valtern river festival draw?", [], api_name="/ask")
    assert "8,000" in bot_text(chat) and "festival.html" in sources


# -- authentication ---------------------------------------------------------------------------------

def test_basic_auth_from_rag_auth(seed_settings, seed_engine):
    settings = seed_settings.model_copy(update={"port": free_port(), "auth": SecretStr("reader:s3cret-pass")})
    app = build_app(settings, seed_engine)
    launch(app, settings, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{settings.port}/"
    try:
        with pytest.raises(Exception):
            Client(url, verbose=False)
        with pytest.raises(Exception):
            Client(url, auth=("reader", "wrong"), verbose=False)
        client = Client(url, auth=("reader", "s3cret-pass"), verbose=False)
        chat, *_ = call(client, "What did Peskov say?", [], api_name="/ask")
        assert "Peskov" in bot_text(chat)
    finally:
        app.close()


# -- helpers of ui.py -------------------------------------------------------------------------------

def test_parse_auth_and_security_warnings(tmp_path):
    s = make_settings(tmp_path, auth="user:pa:ss")
    assert parse_auth(s) == ("user", "pa:ss")
    assert parse_auth(make_settings(tmp_path)) is None
    for bad in ("nocolon", ":pw", "user:"):
        with pytest.raises(ValueError, match="user:password"):
            parse_auth(make_settings(tmp_path, auth=bad))
    assert security_warnings(make_settings(tmp_path)) == []
    assert security_warnings(make_settings(tmp_path, host="::1")) == []
    assert security_warnings(make_settings(tmp_path, host="localhost")) == []
    (warning,) = security_warnings(make_settings(tmp_path, host="0.0.0.0"))
    assert "without authentication" in warning and "RAG_AUTH" in warning
    assert security_warnings(make_settings(tmp_path, host="0.0.0.0", auth="a:b")) == []
    assert any("--share" in w for w in security_warnings(make_settings(tmp_path, share=True)))


def test_command_line(tmp_path, monkeypatch):
    args = build_parser().parse_args(["--host", "0.0.0.0", "--port", "8123", "--share", "--data-dir", str(tmp_path)])
    assert (args.host, args.port, args.share, args.data_dir) == ("0.0.0.0", 8123, True, tmp_path)
    defaults = build_parser().parse_args([])
    assert defaults.share is None and defaults.host is None  # unset flags leave the RAG_* settings alone
    monkeypatch.setenv("RAG_AUTH", "missing-colon")
    assert main(["--data-dir", str(tmp_path), "--port", str(free_port())]) == 2  # refused before serving


def test_session_overrides_are_validated(tmp_path):
    assert validated_overrides(3.0, "llm", " m1 ") == {"top_k": 3, "answer_mode": "llm", "llm_model": "m1"}
    for bad in [(0, "auto", "m"), (51, "auto", "m"), ("x", "auto", "m"), (3, "magic", "m"), (3, "auto", "a\x00b")]:
        with pytest.raises(ValueError):
            validated_overrides(*bad)
    assert session_defaults(make_settings(tmp_path, top_k=7)) == {
        "top_k": 7, "answer_mode": "auto", "llm_model": make_settings(tmp_path).llm_model}


def test_engine_variants_share_the_store_and_never_touch_the_base(seed_engine):
    variants = EngineVariants(seed_engine, max_variants=2)
    assert variants.get(None) is seed_engine
    assert variants.get(session_defaults(seed_engine.settings)) is seed_engine
    two = variants.get({"top_k": 2})
    assert two is not seed_engine and two.store is seed_engine.store
    assert two.settings.top_k == 2 and seed_engine.settings.top_k == 5
    assert variants.get({"top_k": 2}) is two
    assert len(two.gather("What did Peskov say?")[0]) == 2  # top_k passages kept after re-ranking
    variants.get({"top_k": 3})
    variants.get({"top_k": 4})  # the oldest variant is dropped
    assert variants.get({"top_k": 2}) is not two


def test_message_text_reads_both_content_shapes():
    assert message_text({"role": "user", "content": "hi"}) == "hi"
    assert message_text({"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}) == "a b"
    assert message_text({"role": "user", "content": [{"type": "file", "file": {}}]}) == ""


# -- upload checks and safe names (rag/library.py) ---------------------------------------------------

@pytest.mark.parametrize("name, stem", [
    ("../../etc/passwd.md", "passwd"),
    ("..\\..\\windows\\evil.txt", "evil"),
    ("/abs/path/Report 2024 (final).PDF", "Report-2024-final"),
    ("..", "upload"),
    (".hidden.md", "hidden"),
    ("naïve café.html", "naive-cafe"),
    ("a" * 300 + ".md", "a" * 80),
])
def test_safe_stem(name, stem):
    assert safe_stem(name) == stem


def test_store_upload_stays_in_the_uploads_dir(tmp_path):
    src = Path(write(tmp_path, "src.md", "Some text about a harbour.\n"))
    uploads = tmp_path / "data" / "uploads"
    for crafted in ("../../../escape.md", "/etc/cron.d/job.md", "..\\..\\x.md", "....//....//y.md"):
        target = store_upload(src, crafted, uploads, max_file_mb=1)
        assert target.parent == uploads.resolve()
        assert target.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in tmp_path.rglob("*.md") if p.parent != uploads) == ["src.md"]
    assert not Path("/etc/cron.d/job.md").exists()
    again = store_upload(src, "escape.md", uploads, max_file_mb=1)
    assert again == store_upload(src, "escape.md", uploads, max_file_mb=1)  # same content, same name
    other = Path(write(tmp_path, "src2.md", "Different text.\n"))
    assert store_upload(other, "escape.md", uploads, max_file_mb=1) != again  # never overwrites another upload


@pytest.mark.parametrize("name, data, reason", [
    ("a.docx", b"PK\x03\x04", "unsupported file type .docx"),
    ("noext", b"text", "unsupported file type (no extension)"),
    ("e.txt", b"", "file is empty"),
    ("ws.md", b" \n\t ", "file is empty"),
    ("bin.txt", b"ab\x00cd", "looks like a binary file"),
    ("fake.pdf", b"hello", "is not a PDF"),
    ("big.md", b"x" * 2001, "over the 0.002 MB limit"),
])
def test_check_upload_reasons(tmp_path, name, data, reason):
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    with pytest.raises(UploadRejected, match=re.escape(reason)):
        check_upload(path, name, max_file_mb=0.002)


def test_check_upload_accepts_supported_files(tmp_path):
    path = tmp_path / "ok"
    path.write_bytes(b"%PDF-1.4 ...")
    assert check_upload(path, "Paper.PDF", max_file_mb=1) == ".pdf"
    path.write_text("Plain text", encoding="utf-8")
    assert check_upload(path, "notes.markdown", max_file_mb=1) == ".markdown"
