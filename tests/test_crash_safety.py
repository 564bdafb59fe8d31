"""SIGKILL during `rag ingest`, then re-run: the store ends exactly like a clean run's (real Chroma, MiniLM).

Two kinds of kill: a real `rag ingest` killed from outside at a time-based point after its first batch
was reported (where it dies is up to the scheduler), and a helper process that kills itself at the two
exact worst moments inside batch 2 (tests/crash_ingest.py), which proves the journal replay path runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ingest.pipeline import ingest
from ingest.storing import Store
from tests.conftest import ROOT, make_settings

N_DOCS = 80  # 5 batches of 16
WORDS = ("harbour", "grain", "pipeline", "tariff", "drone", "summit", "ceasefire", "election", "reactor",
         "currency", "embargo", "satellite", "refinery", "railway", "vaccine", "drought")

pytestmark = pytest.mark.slow


def _write_corpus(folder: Path) -> Path:
    folder.mkdir()
    for i in range(N_DOCS):
        a, b, c = WORDS[i % 16], WORDS[(i * 7 + 3) % 16], WORDS[(i * 5 + 1) % 16]
        paragraphs = [
            f"Report {i} concerns the {a} question raised by delegation number {i}.",
            f"Officials in district {i * 3} said the {b} plan would be reviewed before month {i % 12 + 1}. "
            f"A spokesperson added that the {c} talks had made progress in round {i + 2}.",
            f"Analysts counted {i * 11 + 5} related incidents and expected a decision on the {a} file soon. "
            f"The report closes with a note on the {b} and {c} budgets for year {2000 + i}.",
        ]
        (folder / f"report-{i:03d}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return folder


def _snapshot(settings) -> dict:
    store = Store(settings)
    nodes = store.all_nodes()
    ids = [n.node_id for n in nodes]
    hashes = store.document_hashes()
    texts = {doc_id: store.document_text(doc_id) for doc_id in hashes}
    return {
        "chunk_ids": sorted(ids),
        "chunk_texts": {n.node_id: n.get_content() for n in nodes},
        "chunk_docs": {n.ref_doc_id for n in nodes},
        "doc_hashes": hashes,
        "doc_texts": texts,
        "count": store.chunk_count(),
    }


def _assert_same_as_clean(state: dict, clean: dict) -> None:
    assert state["count"] == len(state["chunk_ids"]) == len(set(state["chunk_ids"])), "duplicate chunks"
    assert state["chunk_ids"] == clean["chunk_ids"]
    assert state["chunk_texts"] == clean["chunk_texts"]
    assert state["doc_hashes"] == clean["doc_hashes"]
    assert state["doc_texts"] == clean["doc_texts"] and all(state["doc_texts"].values())
    # no orphans either way: every chunk's document is stored, every stored document has chunks
    assert state["chunk_docs"] == set(state["doc_hashes"])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return _write_corpus(tmp_path_factory.mktemp("crash") / "corpus")


@pytest.fixture(scope="module")
def clean(corpus, tmp_path_factory) -> dict:
    settings = make_settings(tmp_path_factory.mktemp("clean") / "data")
    report = ingest([str(corpus)], settings, show_progress=False)
    assert len(report.added) == N_DOCS and not report.errors
    state = _snapshot(settings)
    assert len(state["doc_hashes"]) == N_DOCS and state["count"] >= N_DOCS
    return state


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**env, "RAG_DATA_DIR": str(data_dir), "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"}


@pytest.mark.parametrize("delay", [0.0, 0.4])
def test_rag_ingest_killed_from_outside_then_rerun(tmp_path, corpus, clean, delay):
    data_dir = tmp_path / "data"
    rag = str(Path(sys.executable).with_name("rag"))
    proc = subprocess.Popen([rag, "ingest", str(corpus)], cwd=ROOT, env=_env(data_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = bytearray()

    def read() -> None:
        for chunk in iter(lambda: proc.stderr.read1(4096), b""):
            seen.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    marker = f"16/{N_DOCS}".encode()
    deadline = time.monotonic() + 240
    try:
        while marker not in seen and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker in seen, f"first batch never reported: {bytes(seen[-2000:])!r}"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        reader.join(timeout=10)
    assert proc.returncode == -signal.SIGKILL, "ingest finished before it could be killed"

    partial = Store(make_settings(data_dir))
    assert 0 < partial.chunk_count() < clean["count"], "the kill did not land midway"
    del partial

    report = ingest([str(corpus)], make_settings(data_dir), show_progress=False)
    assert not report.errors
    assert len(report.added) + len(report.unchanged) == N_DOCS and len(report.unchanged) >= 16
    _assert_same_as_clean(_snapshot(make_settings(data_dir)), clean)


@pytest.mark.parametrize("point", ["after_chunks", "after_hashes"])
def test_killed_at_worst_moment_then_rerun(tmp_path, corpus, clean, point):
    data_dir = tmp_path / "data"
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "crash_ingest.py"), str(data_dir), str(corpus), point],
                          cwd=ROOT, env=_env(data_dir), capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr[-3000:]

    # The killed batch's chunks are in Chroma (and, at the second point, its hashes in the docstore
    # without its texts) but the batch never committed: the journal names its 16 documents.
    partial = Store(make_settings(data_dir))
    assert partial.chunk_count() > 0
    pending = partial.kv.get("journal", collection="store/state")
    assert pending and len(pending["doc_ids"]) == 16
    del partial

    report = ingest([str(corpus)], make_settings(data_dir), show_progress=False)
    assert sorted(report.recovered) == sorted(pending["doc_ids"])
    assert len(report.unchanged) == 16 and len(report.added) == N_DOCS - 16 and not report.errors
    _assert_same_as_clean(_snapshot(make_settings(data_dir)), clean)


def test_interrupted_delete_is_completed_by_next_writer(tmp_path, corpus, clean):
    """A delete journaled but never committed: the next writer removes the document from both sides."""
    settings = make_settings(tmp_path / "data")
    docs = sorted(corpus.iterdir())[:3]
    ingest([str(p) for p in docs], settings, show_progress=False)
    store = Store(settings)
    victim = next(d for d in store.documents() if d.source == str(docs[0]))
    store.begin([victim.doc_id])
    store.delete_chunks_of([victim.doc_id])  # died here: chunks gone, docstore still lists the document
    report = ingest([str(p) for p in docs[1:]], make_settings(tmp_path / "data"), show_progress=False)
    assert report.recovered == [victim.doc_id] and len(report.unchanged) == 2
    after = Store(make_settings(tmp_path / "data"))
    assert victim.doc_id not in after.document_ids()
    assert {n.ref_doc_id for n in after.all_nodes()} == after.document_ids()
