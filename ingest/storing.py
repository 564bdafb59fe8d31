"""The store: chunks + embeddings in Chroma (cosine space), whole documents in a LlamaIndex docstore.

Chroma is the source of truth for chunks (BM25 reads them back from it); the docstore holds each
ingested document's cleaned text and content hash, which IngestionPipeline uses for dedup and the
citations use to show a passage in its document.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from dataclasses import dataclass

import chromadb
from chromadb.config import Settings as ChromaSettings
from llama_index.core.schema import TextNode
from llama_index.core.storage.docstore import SimpleDocumentStore
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.config import Settings

_PAGE = 5000


class StoreError(RuntimeError):
    """The data dir or the Chroma server cannot be used; the message says what to do."""


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    title: str
    source: str
    date: str
    kind: str
    chunks: int


def _chroma_client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:  # chromadb raises several kinds for an unreachable server
            raise StoreError(
                f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc})"
            ) from exc
    try:
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(
            f"cannot open the Chroma store in {settings.chroma_dir} ({exc.__class__.__name__}: {exc}); "
            "check permissions, or move the folder away and ingest again"
        ) from exc


def _load_docstore(settings: Settings) -> SimpleDocumentStore:
    path = settings.docstore_path
    if not path.exists():
        return SimpleDocumentStore()
    try:
        return SimpleDocumentStore.from_persist_path(str(path))
    except Exception as exc:
        raise StoreError(
            f"the document store {path} is unreadable ({exc.__class__.__name__}); "
            "move it away and run `rag ingest` again to rebuild it"
        ) from exc


class Store:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.client = _chroma_client(settings)
        try:
            self.collection = self.client.get_or_create_collection(
                name=settings.collection,
                metadata={"hnsw:space": "cosine"},
                embedding_function=None,  # we always pass our own embeddings
            )
        except Exception as exc:
            raise StoreError(f"cannot open collection {settings.collection!r} ({exc})") from exc
        self.vector_store = ChromaVectorStore(chroma_collection=self.collection)
        self.docstore = _load_docstore(settings)

    # -- persistence -------------------------------------------------------------------------
    def persist_docstore(self) -> None:
        """Write the docstore atomically (a crash never leaves a half-written file)."""
        path = self.settings.docstore_path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".docstore-", suffix=".json")
        os.close(fd)
        try:
            self.docstore.persist(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # -- reading -----------------------------------------------------------------------------
    def chunk_count(self) -> int:
        return self.collection.count()

    def _pages(self, include: list[str]):
        offset = 0
        while True:
            page = self.collection.get(include=include, limit=_PAGE, offset=offset)
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

    def all_nodes(self) -> list[TextNode]:
        """Every chunk, read back from Chroma (so BM25 works in server mode too)."""
        nodes: list[TextNode] = []
        for page in self._pages(["documents", "metadatas"]):
            for node_id, text, meta in zip(page["ids"], page["documents"], page["metadatas"]):
                node = metadata_dict_to_node(meta, text=text)
                node.id_ = node_id
                nodes.append(node)
        return nodes

    def document_ids(self) -> set[str]:
        return set(self.docstore.get_all_document_hashes().values())

    def document_text(self, doc_id: str) -> str | None:
        doc = self.docstore.get_document(doc_id, raise_error=False)
        return doc.get_content() if doc is not None else None

    def documents(self) -> list[DocumentInfo]:
        counts: Counter[str] = Counter()
        for page in self._pages(["metadatas"]):
            counts.update(m.get("document_id", "") for m in page["metadatas"])
        infos = []
        for doc_id in sorted(self.document_ids()):
            doc = self.docstore.get_document(doc_id, raise_error=False)
            meta = doc.metadata if doc is not None else {}
            infos.append(DocumentInfo(doc_id, meta.get("title", doc_id), meta.get("source", ""),
                                      meta.get("date", ""), meta.get("kind", ""), counts.get(doc_id, 0)))
        return sorted(infos, key=lambda d: d.title.lower())

    def version(self) -> str:
        """Changes whenever documents are added, replaced or deleted (for cache invalidation)."""
        hashes = "".join(sorted(self.docstore.get_all_document_hashes()))
        return f"{self.chunk_count()}:{hashlib.sha1(hashes.encode()).hexdigest()[:16]}"

    # -- writing -----------------------------------------------------------------------------
    def delete_chunks_of(self, doc_ids: list[str]) -> None:
        if doc_ids:
            self.collection.delete(where={"document_id": {"$in": list(doc_ids)}})

    def delete_document(self, doc_id: str) -> bool:
        known = doc_id in self.document_ids()
        self.delete_chunks_of([doc_id])
        if known:
            self.docstore.delete_ref_doc(doc_id, raise_error=False)
            self.docstore.delete_document(doc_id, raise_error=False)
            self.persist_docstore()
        return known
