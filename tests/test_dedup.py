"""Re-ingesting unchanged sources embeds nothing and adds nothing; a changed source replaces its chunks."""

from __future__ import annotations

import shutil

from ingest.pipeline import ingest
from ingest.storing import Store
from tests.embedding_counter import EmbeddingCounter


def _chunk_ids(settings) -> set[str]:
    return {n.node_id for n in Store(settings).all_nodes()}


def test_unchanged_reingest_embeds_nothing(tmp_path, settings, seed_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(seed_path, folder / seed_path.name)
    (folder / "note.md").write_text("# Note\n\nThe BRICS summit was held in Kazan in October 2024.\n")

    with EmbeddingCounter() as first:
        report = ingest([str(folder)], settings, show_progress=False)
    assert len(report.added) == 2 and first.texts == report.chunks_written > 0
    ids = _chunk_ids(settings)

    with EmbeddingCounter() as second:
        again = ingest([str(folder)], settings, show_progress=False)
    assert second.texts == 0
    assert again.chunks_written == 0 and len(again.unchanged) == 2
    assert _chunk_ids(settings) == ids and again.chunks_total == len(ids)


def test_changed_source_replaces_its_chunks(tmp_path, settings):
    doc = tmp_path / "story.txt"
    doc.write_text("The first version says the summit was in Moscow.\n")
    other = tmp_path / "other.txt"
    other.write_text("An unrelated document about drones.\n")
    ingest([str(doc), str(other)], settings, show_progress=False)
    store = Store(settings)
    before = {n.node_id: n.get_content() for n in store.all_nodes()}

    doc.write_text("The corrected version says the summit was in Kazan.\n")
    with EmbeddingCounter() as counter:
        report = ingest([str(doc), str(other)], settings, show_progress=False)
    assert report.updated == [str(doc)] and report.unchanged == [str(other)]
    assert counter.texts == report.chunks_written == 1
    nodes = Store(settings).all_nodes()
    texts = [n.get_content() for n in nodes]
    assert any("Kazan" in t for t in texts) and not any("Moscow" in t for t in texts)
    assert len(nodes) == len(before)
    # the untouched document kept its chunk ids; the changed one got new ones
    other_before = {i for i, text in before.items() if "drones" in text}
    other_after = {n.node_id for n in nodes if "drones" in n.get_content()}
    assert other_before == other_after and len(other_after) == 1


def test_delete_document_removes_chunks_and_docstore_entry(tmp_path, settings):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("Alpha document about Kazan.\n")
    b.write_text("Beta document about drones.\n")
    ingest([str(a), str(b)], settings, show_progress=False)
    store = Store(settings)
    doc_a = next(d for d in store.documents() if d.source == str(a))
    assert store.delete_document(doc_a.doc_id)
    reopened = Store(settings)
    assert [d.source for d in reopened.documents()] == [str(b)]
    assert all(n.ref_doc_id != doc_a.doc_id for n in reopened.all_nodes())
