"""Chroma client/server mode: a real `chroma run` on 127.0.0.1, ingest and ask through it, no local state.

Two engines with different (empty) data dirs stand for two UI replicas: both answer from the server,
with document texts for citations, and one sees what another process ingested.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import ingest
from ingest.storing import VERSION_TTL, Store, StoreError
from rag.cli import main
from rag.engine import Engine
from tests.conftest import SEED, make_settings
from tests.embedding_counter import EmbeddingCounter

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = Path(sys.executable).with_name("chroma")
    path = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = open(path / "server.log", "wb")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "CHROMA_TELEMETRY": "False"}
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path / "db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (path / "server.log").read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "chroma server did not answer its heartbeat within 60 s"
            time.sleep(0.2)
        yield ("127.0.0.1", port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


def _server_settings(data_dir: Path, server, collection: str):
    host, port = server
    return make_settings(data_dir, chroma_host=host, chroma_port=port, collection=collection)


def test_ingest_and_ask_through_server_with_no_local_state(tmp_path, chroma_server):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(SEED, src / SEED.name)
    shutil.copy(SEED.with_name(SEED.name + ".meta.json"), src / (SEED.name + ".meta.json"))
    writer = _server_settings(tmp_path / "writer", chroma_server, "server_news")

    report = ingest([str(src)], writer, show_progress=False)
    assert report.added == [str(src / SEED.name)] and report.chunks_written > 0 and not report.errors
    with EmbeddingCounter() as counter:
        again = ingest([str(src)], writer, show_progress=False)
    assert again.unchanged == report.added and counter.texts == 0 and again.chunks_total == report.chunks_total

    # Two "replicas" with empty, different data dirs answer from the server alone.
    for replica in ("replica-a", "replica-b"):
        engine = Engine(_server_settings(tmp_path / replica, chroma_server, "server_news"))
        answer = engine.ask("What did the Kremlin say about abandoning Iran?")
        assert not answer.abstained and answer.citations
        cite = answer.citations[0]
        assert "no intention of abandoning Iran" in cite.quote
        doc_text = engine.store.document_text(cite.doc_id)
        assert doc_text and doc_text[cite.start:cite.end] == cite.text
        assert [d.title for d in engine.store.documents()] == [
            "Kremlin says it won't abandon Iran as Israel weighs its retaliation"]
    for folder in ("writer", "replica-a", "replica-b"):
        left = list((tmp_path / folder).rglob("*")) if (tmp_path / folder).exists() else []
        assert left == [], f"server mode wrote local files: {left}"


def test_replica_sees_documents_ingested_elsewhere(tmp_path, chroma_server):
    engine = Engine(_server_settings(tmp_path / "replica", chroma_server, "server_shared"))
    before = engine.ask("Which harbour reopened after the storm in Port Alder?")
    assert before.abstained

    note = tmp_path / "harbour.txt"
    note.write_text("The harbour of Port Alder reopened on Monday after the storm, the port authority said.\n")
    ingest([str(note)], _server_settings(tmp_path / "other-writer", chroma_server, "server_shared"),
           show_progress=False)
    time.sleep(VERSION_TTL + 0.2)  # the replica re-reads the store version at most once per VERSION_TTL
    after = engine.ask("Which harbour reopened after the storm in Port Alder?")
    assert not after.abstained and "Port Alder reopened" in after.citations[0].quote

    assert Store(_server_settings(tmp_path / "x", chroma_server, "server_shared")).delete_document(
        after.citations[0].doc_id)
    time.sleep(VERSION_TTL + 0.2)
    assert engine.ask("Which harbour reopened after the storm in Port Alder?").abstained


def test_unreachable_server_is_a_clear_error(tmp_path, capsys, monkeypatch):
    port = _free_port()  # nothing listens there
    with pytest.raises(StoreError, match=f"cannot reach the Chroma server at 127.0.0.1:{port}"):
        Store(make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=port))
    monkeypatch.setenv("RAG_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("RAG_CHROMA_PORT", str(port))
    assert main(["docs"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the Chroma server" in err and "Traceback" not in err
