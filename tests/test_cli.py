"""The `rag` CLI and its JSON contract (in-process for speed, plus one real subprocess run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.cli import main
from tests.conftest import DEV_SET, ROOT

CITATION_KEYS = {"n", "doc_id", "title", "source", "text", "quote", "start", "end", "score"}


def _ask(capsys, data_dir, *args):
    code = main(["ask", "--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_json_contract(capsys, seed_settings):
    code, out, _ = _ask(capsys, seed_settings.data_dir, "What did the Kremlin say about abandoning Iran?", "--json")
    assert code == 0
    data = json.loads(out)
    assert {"question", "answer", "abstained", "mode", "citations", "retrieved", "timings_ms"} <= set(data)
    assert data["mode"] == "extractive" and data["abstained"] is False
    assert set(data["timings_ms"]) >= {"retrieve", "answer", "total"}
    assert data["citations"] and CITATION_KEYS <= set(data["citations"][0])
    cite = data["citations"][0]
    assert cite["quote"] in cite["text"] and "no intention of abandoning Iran" in cite["quote"]
    assert cite["title"] == "Kremlin says it won't abandon Iran as Israel weighs its retaliation"
    assert len(data["retrieved"]) == 5 and {"doc_id", "text", "score"} <= set(data["retrieved"][0])


def test_ask_batch_with_turns(capsys, tmp_path, seed_settings):
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join([
        json.dumps({"question": "What is the GDP of Iran?"}),
        json.dumps({"turns": ["Who is Burcu Ozcelik?", "What did she say about the audience?"]}),
        "not json",
    ]) + "\n")
    code, out, _ = _ask(capsys, seed_settings.data_dir, "--json", "--batch", str(batch))
    rows = [json.loads(line) for line in out.strip().splitlines()]
    assert code == 1  # the malformed line is reported, the others answered
    assert rows[0]["abstained"] is True and rows[0]["citations"] == []
    assert rows[1]["question"] == "What did she say about the audience?"
    assert rows[1]["standalone_question"] == "What did Burcu Ozcelik say about the audience?"
    assert "error" in rows[2]


def test_readable_output_lists_sources(capsys, seed_settings):
    code, out, _ = _ask(capsys, seed_settings.data_dir, "Where is the BRICS summit taking place?")
    assert code == 0 and "Kazan" in out and "[1] Kremlin says" in out and "answered by: extractive" in out


@pytest.mark.parametrize("question", ["", "   ", "\x00\x01"])
def test_empty_question_is_a_clear_error(capsys, seed_settings, question):
    code, _, err = _ask(capsys, seed_settings.data_dir, question)
    assert code == 2 and "question is empty" in err


def test_eval_reports_metrics(capsys, tmp_path, seed_settings):
    out_file = tmp_path / "report.json"
    code = main(["eval", str(DEV_SET), "--data-dir", str(seed_settings.data_dir), "--out", str(out_file)])
    printed = capsys.readouterr().out
    assert code == 0 and "recall@5" in printed
    metrics = json.loads(out_file.read_text())["metrics"]
    assert metrics["items"] == 13
    # regression guard for the figures reported in docs/evaluation.md
    assert metrics["recall@5"] >= 0.95 and metrics["answer_accuracy"] >= 0.85
    assert metrics["abstention_accuracy"] >= 0.9


def test_docs_and_delete(capsys, tmp_path, settings, seed_path):
    doc = tmp_path / "x.txt"
    doc.write_text("A short note about Kazan.\n")
    assert main(["ingest", "--data-dir", str(settings.data_dir), "--no-progress", str(doc)]) == 0
    capsys.readouterr()
    assert main(["docs", "--data-dir", str(settings.data_dir), "--json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert [d["source"] for d in docs] == [str(doc)] and docs[0]["chunks"] == 1
    assert main(["delete", "--data-dir", str(settings.data_dir), str(doc)]) == 0
    assert main(["delete", "--data-dir", str(settings.data_dir), "nope"]) == 2


def test_ingest_of_nothing_usable_fails(capsys, settings, tmp_path):
    assert main(["ingest", "--data-dir", str(settings.data_dir), str(tmp_path / "missing")]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_console_script_runs_for_real(tmp_path, seed_settings):
    env = {**os.environ, "RAG_DATA_DIR": str(seed_settings.data_dir)}
    rag = os.path.join(os.path.dirname(sys.executable), "rag")
    proc = subprocess.run([rag, "ask", "--json", "What war did Netanyahu vow to continue?"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "war of revival" in json.loads(proc.stdout)["answer"]
