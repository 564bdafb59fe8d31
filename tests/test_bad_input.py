"""Bad input never crashes and never loses stored data: questions, files, URLs, damaged data dirs.

Not repeated here (already in tests/test_ingest.py and tests/test_cli.py): empty/blank question at
the CLI, empty file, binary bytes with NULs renamed .txt, a non-PDF named .pdf, unsupported type,
missing path, oversized file, URL 404 and URL timeout.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import random
import shutil
import socket
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest

import ingest.storing as storing
from ingest.pipeline import ingest
from ingest.storing import Store, StoreError
from rag.cli import main
from rag.engine import BadQuestion, validate_question
from tests.conftest import ROOT, make_settings
from tests.local_http import PageServer

CLEAN_QUESTION = "What did the Kremlin say about abandoning Iran?"


def _pdf(lines: list[str]) -> bytes:
    from reportlab.pdfgen import canvas

    buf = BytesIO()
    pdf = canvas.Canvas(buf)
    for i, line in enumerate(lines):
        pdf.drawString(40, 800 - 20 * i, line)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


# -- questions ---------------------------------------------------------------------------------
def test_100kb_question_is_refused_with_its_length(seed_engine, capsys, seed_settings):
    question = "Why did Iran supply drones to Russia? " * 2700  # ~100 kB
    assert len(question) > 100_000
    with pytest.raises(BadQuestion, match=r"characters long; the limit is 2000"):
        seed_engine.ask(question)
    assert main(["ask", "--data-dir", str(seed_settings.data_dir), question]) == 2
    err = capsys.readouterr().err
    assert "the limit is 2000" in err and "Traceback" not in err


def test_control_and_invisible_characters_are_dropped(seed_engine):
    noisy = "What did the\x00 Kremlin say\x07 about\u200b abandoning\u202e Iran?\x1b"
    assert validate_question(noisy) == CLEAN_QUESTION
    answer, clean = seed_engine.ask(noisy), seed_engine.ask(CLEAN_QUESTION)
    assert answer.question == CLEAN_QUESTION
    assert answer.answer == clean.answer and not answer.abstained
    assert "no intention of abandoning Iran" in answer.citations[0].quote


@pytest.mark.parametrize("question", [
    "Что сказал Кремль о том, чтобы оставить Иран?",  # Russian
    "ماذا قال الكرملين عن التخلي عن إيران؟",  # Arabic
    "克里姆林宫对伊朗说了什么？",  # Chinese
    "🙂🚀❓",
])
def test_question_in_another_script_is_answered_or_abstained(seed_engine, question):
    answer = seed_engine.ask(question)
    data = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    assert data["question"] == question and data["answer"]
    if answer.abstained:
        assert answer.citations == [] and "do not contain" in answer.answer
    else:  # an answer must still be a verbatim, cited quote
        assert answer.citations and all(c.quote in c.text for c in answer.citations)


# -- files ---------------------------------------------------------------------------------------
def test_unusual_files_in_a_folder_are_skipped_and_nothing_is_lost(tmp_path, seed_path):
    """A real `rag ingest` subprocess (bounded), so a read that blocks (a FIFO) fails the test, not hangs it."""
    data_dir = tmp_path / "data"
    kept = tmp_path / "kept.txt"
    shutil.copy(seed_path, kept)
    assert ingest([str(kept)], make_settings(data_dir), show_progress=False).added

    folder = tmp_path / "inbox"
    (folder / "folder.txt").mkdir(parents=True)  # a folder with a text suffix: walked into, not read
    (folder / "folder.txt" / "inner.md").write_text("# Inner\n\nThe inner note mentions the port of Tartus.\n")
    (folder / "good.txt").write_text("The summit in Kazan ended with a joint declaration on Wednesday.\n")
    os.mkfifo(folder / "pipe.txt")
    (folder / "dangling.txt").symlink_to(tmp_path / "does-not-exist.txt")
    (folder / "proc.txt").symlink_to("/proc/self/mem")  # a regular file whose read fails (EIO), even for root
    (folder / "archive.txt").write_bytes(gzip.compress(b"Kazan summit " * 500))
    (folder / "image.txt").write_bytes(bytes.fromhex("89504e470d0a1a0a") + random.Random(1).randbytes(3000))
    (folder / "high-bytes.txt").write_bytes(bytes(b for b in random.Random(2).randbytes(5000) if b))
    (folder / "utf16.txt").write_bytes("A note in UTF-16 about Kazan.".encode("utf-16"))
    full = _pdf(["The report says short-range missiles were delivered."])
    (folder / "truncated.pdf").write_bytes(full[: len(full) // 2])
    (folder / "blank.pdf").write_bytes(_pdf([]))

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RAG_")}, "RAG_DATA_DIR": str(data_dir)}
    rag = str(Path(sys.executable).with_name("rag"))
    proc = subprocess.run([rag, "ingest", "--json", str(folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert sorted(Path(p).name for p in report["added"]) == ["good.txt", "inner.md"]
    errors = {Path(e["source"]).name: e["error"] for e in report["errors"]}
    assert errors.pop("truncated.pdf").startswith("malformed PDF (")
    assert errors == {
        "pipe.txt": "not a regular file (a pipe, socket or device)",
        "dangling.txt": "broken symbolic link (its target does not exist)",
        "proc.txt": "cannot read file (Input/output error)",
        "archive.txt": "looks like a binary file, not text",
        "image.txt": "looks like a binary file, not text",
        "high-bytes.txt": "text is not valid UTF-8",
        "utf16.txt": "looks like a binary file, not text",
        "blank.pdf": "no text left after extraction and cleaning",
    }
    sources = {d.source for d in Store(make_settings(data_dir)).documents()}
    assert sources == {str(kept), str(folder / "good.txt"), str(folder / "folder.txt" / "inner.md")}


def test_unreadable_file_permission_denied(tmp_path, settings):
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading, so the 'permission denied' "
                    "path cannot be reached here; unreadable files are covered by /proc/self/mem and FIFOs")
    locked = tmp_path / "locked.txt"
    locked.write_text("Secret text.\n")
    locked.chmod(0)
    try:
        report = ingest([str(locked)], settings, show_progress=False)
    finally:
        locked.chmod(0o644)
    assert report.errors == [(str(locked), "permission denied")]


# -- URLs ----------------------------------------------------------------------------------------
def test_bad_urls_are_reported(settings):
    pages = {
        "/error": (500, "text/plain", b"boom"),
        "/image": (200, "image/png", bytes.fromhex("89504e470d0a1a0a") + b"\x00" * 64),
        "/empty-page": (200, "text/html", b"<html><head><title>t</title></head><body></body></html>"),
        "/ok": (200, "text/plain", b"A plain page about the BRICS summit in Kazan."),
    }
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/nothing-listens"
    with PageServer(pages) as server:
        base = server.base_url
        report = ingest([f"{base}/error", f"{base}/image", f"{base}/empty-page", closed, f"{base}/ok"],
                        settings, show_progress=False)
    errors = dict(report.errors)
    assert report.added == [f"{base}/ok"]
    assert errors[f"{base}/error"] == "HTTP 500 Internal Server Error"
    assert errors[f"{base}/image"] == "unsupported content type image/png"
    assert errors[f"{base}/empty-page"] == "no readable article text found in the HTML"
    assert errors[closed].startswith("could not fetch (ConnectError")


# -- damaged or busy data dir --------------------------------------------------------------------
def _small_store(data_dir: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("A short note about the summit in Kazan.\n")
    assert ingest([str(note)], make_settings(data_dir), show_progress=False).added


def _damage(kind: str, tmp_path: Path) -> tuple[Path, Path, str]:
    """Returns (data dir, the damaged file, expected message part)."""
    data_dir = tmp_path / "data"
    if kind == "data dir is a file":
        data_dir.write_text("not a folder")
        return data_dir, data_dir, "is a file, not a folder"
    if kind == "garbage chroma.sqlite3":
        (data_dir / "chroma").mkdir(parents=True)
        target = data_dir / "chroma" / "chroma.sqlite3"
        target.write_bytes(random.Random(3).randbytes(8192))
        return data_dir, target, "file is not a database"
    if kind == "truncated chroma.sqlite3":
        _small_store(data_dir, tmp_path)
        target = data_dir / "chroma" / "chroma.sqlite3"
        with target.open("r+b") as f:
            f.truncate(target.stat().st_size // 3)
        return data_dir, target, "database disk image is malformed"
    if kind == "garbage docstore.json":  # the pre-Chroma docstore file is imported on open
        data_dir.mkdir()
        target = data_dir / "docstore.json"
        target.write_text('{"docstore/data": {')
        return data_dir, target, "docstore.json is unreadable (JSONDecodeError)"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["data dir is a file", "garbage chroma.sqlite3", "truncated chroma.sqlite3",
                                  "garbage docstore.json"])
def test_damaged_data_dir_is_a_clear_error_and_left_untouched(tmp_path, capsys, kind):
    data_dir, damaged, message = _damage(kind, tmp_path)
    before = damaged.read_bytes()
    note = tmp_path / "new.txt"
    note.write_text("A new note about drones.\n")
    for argv in (["ask", "--data-dir", str(data_dir), CLEAN_QUESTION],
                 ["ingest", "--no-progress", "--data-dir", str(data_dir), str(note)],
                 ["docs", "--data-dir", str(data_dir)]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "error: " in err and message in err and "Traceback" not in err
    assert damaged.read_bytes() == before  # nothing overwritten: the user can still rescue it


def test_damaged_store_from_the_real_console_script(tmp_path):
    data_dir, _, message = _damage("garbage chroma.sqlite3", tmp_path)
    rag = str(Path(sys.executable).with_name("rag"))
    proc = subprocess.run([rag, "docs", "--data-dir", str(data_dir)], capture_output=True, text=True,
                          cwd=ROOT, timeout=240)
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_second_writer_gets_a_clear_error_while_the_first_holds_the_lock(tmp_path, capsys, monkeypatch):
    data_dir = tmp_path / "data"
    _small_store(data_dir, tmp_path)
    other = tmp_path / "other.txt"
    other.write_text("Another note, about the harbour of Tartus.\n")
    monkeypatch.setattr(storing, "WRITE_LOCK_WAIT", 0.5)
    fd = os.open(data_dir / "write.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # stands for another process in the middle of an ingest
        assert main(["ingest", "--no-progress", "--data-dir", str(data_dir), str(other)]) == 1
        assert "another ingest or delete is writing to" in capsys.readouterr().err
        with pytest.raises(StoreError, match="another ingest or delete"):
            Store(make_settings(data_dir)).delete_document("doc-anything")
    finally:
        os.close(fd)
    assert main(["ingest", "--no-progress", "--data-dir", str(data_dir), str(other)]) == 0
    assert len(Store(make_settings(data_dir)).documents()) == 2

