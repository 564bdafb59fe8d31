"""Ingest sources: load → clean → chunk → embed → Chroma, through LlamaIndex's IngestionPipeline.

Dedup is the pipeline's (docstore strategy UPSERTS on stable document ids and content hashes): an
unchanged source is skipped before any embedding work, a changed one has its old chunks replaced.
Crash safety (hand-written, the pipeline has none): each batch of 16 documents is journaled in the
store before it is written and committed after (ingest/storing.py); the next run first removes the
documents of a batch that never committed, then ingests them afresh, so a killed run followed by a
re-run ends with exactly the chunks and documents of a clean run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from llama_index.core import Document
from llama_index.core.ingestion import DocstoreStrategy, IngestionPipeline
from tqdm.auto import tqdm

from ingest.chunking import make_splitter
from ingest.errors import IngestError
from ingest.loading import load_source
from ingest.sources import Source, expand_inputs
from ingest.storing import Store
from rag.config import Settings
from rag.embeddings import load_embed_model

ProgressFn = Callable[[float, str], None]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # doc ids of an interrupted run, redone
    chunks_written: int = 0
    chunks_total: int = 0

    def to_dict(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "errors": [{"source": s, "error": e} for s, e in self.errors],
            "recovered": self.recovered,
            "chunks_written": self.chunks_written, "chunks_total": self.chunks_total,
        }


def _batches(items: list[Document], size: int) -> Iterable[list[Document]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def build_pipeline(settings: Settings, store: Store) -> IngestionPipeline:
    return IngestionPipeline(
        transformations=[make_splitter(settings), load_embed_model(settings)],
        docstore=store.docstore,
        vector_store=store.vector_store,
        docstore_strategy=DocstoreStrategy.UPSERTS,
    )


def load_documents(
    sources: list[Source], settings: Settings, report: IngestReport, show_progress: bool
) -> list[Document]:
    docs: dict[str, Document] = {}
    max_bytes = int(settings.max_file_mb * 1e6)
    for source in tqdm(sources, desc="Loading", unit="doc", disable=not show_progress):
        try:
            doc = load_source(source, max_bytes=max_bytes, url_timeout=settings.url_timeout)
        except IngestError as exc:
            report.errors.append((exc.source, exc.reason))
            continue
        docs[doc.doc_id] = doc
    return list(docs.values())


def ingest_documents(
    docs: list[Document],
    settings: Settings,
    store: Store,
    report: IngestReport,
    show_progress: bool = True,
    on_progress: ProgressFn | None = None,
    batch_docs: int = 16,
) -> IngestReport:
    with store.writing():
        report.recovered = store.recover()
        return _write_documents(docs, settings, store, report, show_progress, on_progress, batch_docs)


def _write_documents(
    docs: list[Document], settings: Settings, store: Store, report: IngestReport,
    show_progress: bool, on_progress: ProgressFn | None, batch_docs: int,
) -> IngestReport:
    known_hashes = store.document_hashes()
    todo: list[Document] = []
    for doc in docs:
        previous = known_hashes.get(doc.doc_id)
        if previous == doc.hash:
            report.unchanged.append(doc.metadata["source"])
        else:
            (report.updated if previous else report.added).append(doc.metadata["source"])
            todo.append(doc)
    if todo:
        pipeline = build_pipeline(settings, store)
        bar = tqdm(total=len(todo), desc="Embedding", unit="doc", disable=not show_progress)
        done = 0
        for batch in _batches(todo, batch_docs):
            store.begin([d.doc_id for d in batch])
            # Chunks of documents the docstore does not know (e.g. left by an older, unjournaled crash).
            store.delete_chunks_of([d.doc_id for d in batch if d.doc_id not in known_hashes])
            nodes = pipeline.run(documents=batch, show_progress=False)
            store.commit()
            report.chunks_written += len(nodes)
            done += len(batch)
            bar.update(len(batch))
            if on_progress:
                on_progress(done / len(todo), f"embedded {done}/{len(todo)} documents")
        bar.close()
    report.chunks_total = store.chunk_count()
    return report


def ingest(
    inputs: list[str],
    settings: Settings,
    store: Store | None = None,
    show_progress: bool = True,
    on_progress: ProgressFn | None = None,
) -> IngestReport:
    report = IngestReport()
    sources, problems = expand_inputs(inputs)
    report.errors.extend(problems)
    docs = load_documents(sources, settings, report, show_progress)
    store = store or Store(settings)
    return ingest_documents(docs, settings, store, report, show_progress, on_progress)
