"""Security properties, checked against the real app: local-only binding by default, uploads limited
and stored under the data dir with safe names, HTML escaped, and the API key never in logs or output.

Covered elsewhere and not repeated: the warning for a non-loopback bind without auth and basic auth
(tests/test_ui_app.py: security_warnings, RAG_AUTH), crafted upload names in rag/library.py
(test_store_upload_stays_in_the_uploads_dir), escaping of hostile document text (tests/test_ui_render.py,
tests/test_ui_browser.py). A test never binds anything but 127.0.0.1, so the warning is not observed on
a real 0.0.0.0 launch.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess

import httpx
import pytest
from gradio_client import Client
from pydantic import SecretStr

from rag.cli import main as cli_main
from rag.config import Settings
from rag.engine import Engine
from tests.conftest import free_port, make_settings, running_app
from tests.fake_openai import FakeOpenAI
from ui import build_app, launch, message_text, server_settings_markdown

KEY = "sk-sec-0123456789abcdef-DO-NOT-LOG"
TIMEOUT = 120


def _machine_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (no packet is sent)."""
    found = set()
    for probe in ("192.0.2.1", "10.255.255.255", "172.31.255.255"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect((probe, 9))
                found.add(s.getsockname()[0])
            except OSError:
                continue
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, timeout=5).stdout
        found.update(line.split()[3].split("/")[0] for line in out.splitlines() if len(line.split()) > 3)
    except (OSError, subprocess.SubprocessError):
        pass
    return sorted(a for a in found if not a.startswith("127."))


def test_defaults_are_local_only(monkeypatch):
    for var in ("RAG_HOST", "RAG_SHARE", "RAG_AUTH"):
        monkeypatch.delenv(var, raising=False)
    s = Settings(_env_file=None)
    assert s.host == "127.0.0.1" and s.share is False and s.auth is None


@pytest.fixture(scope="module")
def default_app(seed_settings, seed_engine):
    settings = seed_settings.model_copy(update={"port": free_port(), "max_file_mb": 0.2})
    assert settings.host == "127.0.0.1"  # not set by the test: the default
    with running_app(settings, seed_engine) as url:
        yield url.rstrip("/"), settings


def test_ui_is_not_reachable_from_other_interfaces(default_app):
    url, settings = default_app
    assert httpx.get(url + "/", timeout=30).status_code == 200
    addresses = _machine_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    for address in addresses:
        with pytest.raises(OSError):  # connection refused: nothing listens there
            socket.create_connection((address, settings.port), timeout=3).close()


def test_oversized_upload_is_refused_before_it_reaches_the_library(default_app):
    url, settings = default_app
    cap = int(settings.max_file_mb * 2e6) + 1_000_000  # Gradio's transport cap set by ui.launch
    too_big = b"a" * (cap + 10_000)
    r = httpx.post(url + "/gradio_api/upload", files={"files": ("big.txt", too_big, "text/plain")}, timeout=60)
    assert r.status_code == 413
    assert not settings.uploads_dir.exists() or not any(settings.uploads_dir.iterdir())


def test_crafted_upload_name_cannot_leave_the_uploads_dir(tmp_path):
    """Raw multipart upload with a traversal name, then the ingest endpoint, on a fresh store."""
    settings = make_settings(tmp_path / "data", port=free_port())
    app = build_app(settings)
    launch(app, settings, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{settings.port}"
    crafted = "../../../../../../tmp/" + tmp_path.name + "-escaped.md"
    try:
        r = httpx.post(url + "/gradio_api/upload", timeout=60, files={
            "files": (crafted, b"# Escape attempt\n\nThe harbour of Port Elbrin reopened on Monday.\n", "text/markdown")})
        assert r.status_code == 200, r.text
        (server_path,) = r.json()
        client = Client(url + "/", verbose=False)
        upload = {"path": server_path, "orig_name": crafted, "meta": {"_type": "gradio.FileData"}}
        status, table, *_ = client.submit([upload], api_name="/ingest_files").result(timeout=TIMEOUT)
    finally:
        app.close()
    assert "1 added" in status, status
    stored = list(settings.uploads_dir.iterdir())
    assert len(stored) == 1 and stored[0].suffix == ".md" and ".." not in stored[0].name
    assert table["data"][0][1] == str(stored[0].resolve())
    assert not list(tmp_path.parent.glob(f"{tmp_path.name}-escaped*")) and not list(
        __import__("pathlib").Path("/tmp").glob(f"{tmp_path.name}-escaped*"))


def test_html_written_by_the_model_is_escaped_in_the_chat(seed_settings, seed_engine):
    """An LLM reply (or a passage it copies) with markup reaches the page as text, never as HTML."""
    hostile = 'Peskov said <img src=x onerror="window.__pwned=1"> cooperation goes on <script>alert(1)</script> [1].'
    with FakeOpenAI(api_key=KEY, responder=lambda body: hostile) as fake:
        settings = seed_settings.model_copy(update={
            "port": free_port(), "llm_base_url": fake.base_url, "llm_api_key": SecretStr(KEY),
            "llm_model": "fake-model", "llm_timeout": 5.0, "llm_max_retries": 0, "answer_mode": "llm"})
        with running_app(settings, Engine(settings, store=seed_engine.store)) as url:
            chat, _, sources, status = Client(url, verbose=False).submit(
                "What did Peskov say?", [], api_name="/ask").result(timeout=TIMEOUT)
    answer = message_text(chat[-1])
    assert "Answered by: LLM (fake-model)" in answer  # the model's text is what is shown
    assert "&lt;img src=x onerror=" in answer and "&lt;script&gt;" in answer
    for html in (answer, sources, status):
        assert "<img" not in html and "<script" not in html


# -- the API key -------------------------------------------------------------------------------------
def test_settings_never_show_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    s = Settings(data_dir=tmp_path, _env_file=None)
    assert s.llm_api_key.get_secret_value() == KEY
    for text in (repr(s), str(s), s.model_dump_json(), json.dumps(s.model_dump(mode="json")),
                 server_settings_markdown(s)):
        assert KEY not in text


@pytest.mark.parametrize("failure", [None, "401", "500", "timeout", "malformed"])
def test_key_is_never_logged_or_returned(seed_engine, caplog, capsys, failure):
    with FakeOpenAI(api_key=KEY, timeout_delay=3.0) as fake:
        settings = seed_engine.settings.model_copy(update={
            "llm_base_url": fake.base_url, "llm_api_key": SecretStr(KEY), "llm_model": "fake-model",
            "llm_timeout": 1.0, "llm_max_retries": 1, "answer_mode": "llm"})
        if failure:
            fake.fail_next(failure, times=5)
        caplog.set_level(logging.DEBUG)  # every logger: openai, httpx, llama_index, ours
        answer = Engine(settings, store=seed_engine.store).ask("What kind of missiles has Iran supplied to Russia?")
        sent = [r["headers"].get("Authorization") or r["headers"].get("authorization") for r in fake.request_log]
    assert f"Bearer {KEY}" in sent  # the key was really used
    assert (answer.mode == "llm") == (failure is None)
    if failure:
        assert answer.notice and KEY not in answer.notice
    out, err = capsys.readouterr()
    for text in (json.dumps(answer.to_dict()), caplog.text, out, err):
        assert KEY not in text
    assert caplog.records, "nothing was logged, so the check above proves nothing"


def test_cli_errors_never_show_the_key(seed_settings, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")  # nothing listens
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "1")
    monkeypatch.setenv("RAG_LLM_MAX_RETRIES", "0")
    assert cli_main(["ask", "--json", "--data-dir", str(seed_settings.data_dir), "What did Peskov say?"]) == 0
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "not-a-number")  # an invalid setting next to the key
    assert cli_main(["ask", "--data-dir", str(seed_settings.data_dir), "What did Peskov say?"]) == 2
    out, err = capsys.readouterr()
    assert "could not be reached" in out and "invalid setting" in err
    for text in (out, err, caplog.text):
        assert KEY not in text
