"""Ingestion of each format, folders and URLs, with clear errors for bad input. Real Chroma + MiniLM."""

from __future__ import annotations

import shutil

import pytest

from ingest.cleaning import clean_text
from ingest.loading import load_source, split_references
from ingest.pipeline import ingest
from ingest.sources import Source
from ingest.storing import Store
from tests.local_http import PageServer

ARTICLE_HTML = b"""<!doctype html><html><head><title>Kazan hosts summit</title>
<meta name="date" content="2024-10-23"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Kazan hosts summit</h1>
<p>Leaders gathered in the Russian city of Kazan on Wednesday for a summit of the BRICS group of nations.</p>
<p>Read more</p>
<p>The host said the meeting would focus on trade settlement in national currencies and on new members.</p>
<p>Delegations from more than thirty countries attended the two days of talks, officials said.</p>
</article><footer>Subscribe to our newsletter</footer></body></html>"""


def _pdf_bytes(lines: list[str]) -> bytes:
    from io import BytesIO

    from reportlab.pdfgen import canvas

    buf = BytesIO()
    pdf = canvas.Canvas(buf)
    pdf.setTitle("Drone supply report")
    y = 800
    for line in lines:
        pdf.drawString(40, y, line)
        y -= 20
    pdf.save()
    return buf.getvalue()


def test_cleaning_drops_boilerplate_and_control_chars():
    raw = "First line.\r\nRead more\n\x07Second\u200b line.\n\n\n\nSubscribe now\nThird line."
    assert clean_text(raw) == "First line.\nSecond line.\n\nThird line."


def test_references_section_becomes_metadata():
    text, urls = split_references("Body text here.\n\n## Sources\n\n- https://a.example/x\n- https://b.example/y\n")
    assert text.strip() == "Body text here."
    assert urls == ["https://a.example/x", "https://b.example/y"]


def test_txt_with_sidecar_metadata(seed_path):
    doc = load_source(Source(str(seed_path)), max_bytes=10**7, url_timeout=5)
    assert doc.metadata["publisher"] == "CNBC"
    assert doc.metadata["date"] == "2024-10-22"
    assert doc.metadata["kind"] == "news article"
    assert "Read more" not in doc.text.splitlines()
    assert "no intention of abandoning Iran" in doc.text


def test_markdown_front_matter(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("---\ntitle: A note\ndate: 2024-10-01\nkind: background note\n---\n# Heading\n\nBody.\n")
    doc = load_source(Source(str(path)), max_bytes=10**6, url_timeout=5)
    assert doc.metadata["title"] == "A note" and doc.metadata["kind"] == "background note"
    assert doc.text.startswith("# Heading") and "title:" not in doc.text


def test_each_format_and_folder_ingested(tmp_path, settings):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("Iran supplied drones to Russia according to Western officials.\n")
    (folder / "b.md").write_text("# Title\n\nThe summit took place in Kazan in October 2024.\n")
    (folder / "sub" / "c.html").write_bytes(ARTICLE_HTML)
    (folder / "sub" / "d.pdf").write_bytes(_pdf_bytes(["The report says short-range missiles were delivered."]))
    (folder / "ignored.xyz").write_text("not a supported type")
    report = ingest([str(folder)], settings, show_progress=False)
    assert not report.errors
    assert len(report.added) == 4
    store = Store(settings)
    texts = {d.source.rsplit("/", 1)[-1]: store.document_text(d.doc_id) for d in store.documents()}
    assert set(texts) == {"a.txt", "b.md", "c.html", "d.pdf"}
    assert "short-range missiles" in texts["d.pdf"]
    assert "Read more" not in texts["c.html"] and "Subscribe" not in texts["c.html"]
    assert "Home" not in texts["c.html"]
    assert "trade settlement in national currencies" in texts["c.html"]
    # every chunk's offsets point at its text inside the stored document
    for node in store.all_nodes():
        doc_text = store.document_text(node.ref_doc_id)
        assert doc_text[node.start_char_idx:node.end_char_idx] == node.get_content()


def test_url_ingest_from_local_server(settings):
    pages = {
        "/article": (200, "text/html; charset=utf-8", ARTICLE_HTML),
        "/plain.txt": (200, "text/plain", b"A plain text page about Kazan and the BRICS summit."),
    }
    with PageServer(pages, slow_seconds=3) as server:
        settings.url_timeout = 1.0
        report = ingest([f"{server.base_url}/article", f"{server.base_url}/plain.txt",
                         f"{server.base_url}/missing", f"{server.base_url}/slow"], settings, show_progress=False)
    assert sorted(report.added) == sorted([f"{server.base_url}/article", f"{server.base_url}/plain.txt"])
    errors = dict(report.errors)
    assert "HTTP 404" in errors[f"{server.base_url}/missing"]
    assert "timed out" in errors[f"{server.base_url}/slow"]
    docs = {d.source: d for d in Store(settings).documents()}
    assert docs[f"{server.base_url}/article"].title == "Kazan hosts summit"
    assert docs[f"{server.base_url}/article"].date == "2024-10-23"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\t\n", "empty"),
        ("binary.txt", bytes(range(256)) * 4, "binary"),
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "malformed PDF"),
        ("data.csv", b"a,b\n1,2\n", "unsupported file type"),
    ],
)
def test_bad_files_are_reported_and_nothing_is_lost(tmp_path, settings, seed_path, name, content, reason):
    good = tmp_path / "good.txt"
    shutil.copy(seed_path, good)
    assert ingest([str(good)], settings, show_progress=False).added
    before = Store(settings).chunk_count()
    bad = tmp_path / name
    bad.write_bytes(content)
    report = ingest([str(bad)], settings, show_progress=False)
    assert len(report.errors) == 1 and reason in report.errors[0][1]
    assert Store(settings).chunk_count() == before


def test_missing_path_and_oversized_file(tmp_path, settings):
    big = tmp_path / "big.txt"
    big.write_text("word " * 50_000)
    settings.max_file_mb = 0.1
    report = ingest([str(tmp_path / "nope.txt"), str(big)], settings, show_progress=False)
    reasons = dict(report.errors)
    assert reasons[str(tmp_path / "nope.txt")] == "no such file or folder"
    assert "over the 0.1 MB limit" in reasons[str(big)]
