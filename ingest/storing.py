"""The store: chunks + embeddings in one Chroma collection, whole documents in a second one.

Chroma is the source of truth for everything: the chunks (BM25 reads them back from it) and, through
LlamaIndex's `KVDocumentStore` on a Chroma-backed KV store (ingest/chroma_kv.py), each document's
cleaned text and content hash, which the IngestionPipeline uses for dedup and the citations use to
show a passage in its document. So Chroma server mode (RAG_CHROMA_HOST) needs no local state and
several UI replicas can share one server.

Crash safety (hand-written; neither Chroma nor LlamaIndex has multi-collection transactions): a writer
records the documents it is about to change in a journal record before touching them and clears it
when done (`begin` / `commit`). A journal left behind by a killed run is replayed by the next writer
(`recover`): those documents are removed from both collections and then ingested afresh. Only one
writer at a time: in embedded mode a lock file in the data dir enforces it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import chromadb
from chromadb.config import Settings as ChromaSettings
from llama_index.core.schema import TextNode
from llama_index.core.storage.docstore.keyval_docstore import KVDocumentStore
from llama_index.core.storage.docstore.utils import json_to_doc
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.vector_stores.chroma import ChromaVectorStore

from ingest.chroma_kv import ChromaKVStore
from rag.config import Settings

_PAGE = 5000
_STATE = "store/state"  # KV collection: "generation" (changes on every commit), "journal" (pending doc ids)
_DOC_DATA = "docstore/data"
_DOC_META = "docstore/metadata"
VERSION_TTL = 1.0  # seconds a version() read is reused; our own writes reset it at once
WRITE_LOCK_WAIT = 30.0  # seconds a writer waits for another writer of the same data dir


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


def docstore_collection_name(settings: Settings) -> str:
    return f"{settings.collection}_docstore"


def _chroma_client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:  # chromadb raises several kinds for an unreachable server
            raise StoreError(
                f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc})"
            ) from exc
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise StoreError(f"the data dir {settings.data_dir} is a file, not a folder; "
                         "point RAG_DATA_DIR / --data-dir at a folder")
    try:
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except BaseException as exc:  # the Rust bindings raise pyo3 PanicException (a BaseException) on garbage
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        _forget_failed_client(str(settings.chroma_dir))
        raise StoreError(
            f"cannot open the Chroma store in {settings.chroma_dir} ({exc.__class__.__name__}: {exc}); "
            "check permissions, or move the folder away and ingest again"
        ) from exc


def _forget_failed_client(path: str) -> None:
    # chromadb caches one System per path even when its start-up failed, so a second open in the same
    # process would fail with an unrelated AttributeError; drop the broken entry (a private map).
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)


class _LRU:
    """A small thread-safe LRU of derived values (document texts)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)


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
            docs = self.client.get_or_create_collection(name=docstore_collection_name(settings),
                                                        embedding_function=None)
            max_batch = int(self.client.get_max_batch_size())
        except Exception as exc:
            raise StoreError(f"cannot open collection {settings.collection!r} ({exc.__class__.__name__}: {exc}); "
                             "if the data dir is damaged, move it away and ingest again") from exc
        self.vector_store = ChromaVectorStore(chroma_collection=self.collection)
        self.kv = ChromaKVStore(docs, max_batch=max_batch)
        self.docstore = KVDocumentStore(self.kv, batch_size=max_batch)
        self._version: tuple[float, str] | None = None
        self._texts = _LRU(64)
        if not settings.chroma_host:
            self._import_legacy_docstore()

    def _import_legacy_docstore(self) -> None:
        """Stores made before the docstore moved into Chroma kept it in data_dir/docstore.json."""
        path = self.settings.docstore_path
        if not path.exists():
            return
        from llama_index.core.storage.docstore import SimpleDocumentStore

        try:
            legacy = SimpleDocumentStore.from_persist_path(str(path))
            with self.writing():
                for name in (_DOC_DATA, _DOC_META, "docstore/ref_doc_info"):
                    self.kv.put_all(list(legacy._kvstore.get_all(name).items()), collection=name)
                self.commit()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(
                f"the document store {path} is unreadable ({exc.__class__.__name__}); "
                "move it away and run `rag ingest` again to rebuild it"
            ) from exc
        os.replace(path, path.with_name(path.name + ".imported"))

    # -- one writer at a time ----------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, wait: float | None = None) -> Iterator[None]:
        """Hold the data dir's writer lock (embedded mode; a Chroma server has no local dir to lock)."""
        wait = WRITE_LOCK_WAIT if wait is None else wait
        if self.settings.chroma_host:
            yield
            return
        path = self.settings.data_dir / "write.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                        raise StoreError(
                            f"another ingest or delete is writing to {self.settings.data_dir}; "
                            "wait for it to finish and try again"
                        ) from exc
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # -- journal -------------------------------------------------------------------------------
    def begin(self, doc_ids: list[str]) -> None:
        """Record the documents about to change; `recover` undoes them if we die before `commit`."""
        self.kv.put("journal", {"doc_ids": sorted(set(doc_ids)), "pid": os.getpid()}, collection=_STATE)

    def commit(self) -> None:
        self.kv.put("generation", {"id": uuid.uuid4().hex}, collection=_STATE)
        self.kv.delete_many(["journal"], collection=_STATE)
        self._version = None

    def recover(self) -> list[str]:
        """Remove the half-written documents of an interrupted run (they are then ingested afresh)."""
        journal = self.kv.get("journal", collection=_STATE)
        if not journal:
            return []
        doc_ids = list(journal.get("doc_ids", []))
        self.forget(doc_ids)
        self.commit()
        return doc_ids

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

    def document_hashes(self) -> dict[str, str]:
        """doc_id -> content hash of every stored document."""
        return {doc_id: h for h, doc_id in self.docstore.get_all_document_hashes().items()}

    def document_ids(self) -> set[str]:
        return set(self.document_hashes())

    def document_text(self, doc_id: str) -> str | None:
        key = (doc_id, self.version())
        text = self._texts.get(key)
        if text is None:
            doc = self.docstore.get_document(doc_id, raise_error=False)
            if doc is None:
                return None
            text = doc.get_content()
            self._texts.put(key, text)
        return text

    def documents(self) -> list[DocumentInfo]:
        counts: Counter[str] = Counter()
        for page in self._pages(["metadatas"]):
            counts.update(m.get("document_id", "") for m in page["metadatas"])
        stored = self.kv.get_all(_DOC_DATA)
        infos = []
        for doc_id in self.document_ids():
            meta = json_to_doc(stored[doc_id]).metadata if doc_id in stored else {}
            infos.append(DocumentInfo(doc_id, meta.get("title", doc_id), meta.get("source", ""),
                                      meta.get("date", ""), meta.get("kind", ""), counts.get(doc_id, 0)))
        return sorted(infos, key=lambda d: (d.title.lower(), d.doc_id))

    def version(self) -> str:
        """Changes whenever documents are added, replaced or deleted (for cache invalidation).

        Cheap (a count and one record) and reused for VERSION_TTL seconds, so other processes'
        writes (e.g. another replica ingesting into the same Chroma server) show up within that time.
        """
        cached = self._version
        now = time.monotonic()
        if cached is not None and now - cached[0] < VERSION_TTL:
            return cached[1]
        state = self.kv.get("generation", collection=_STATE) or {}
        version = f"{self.chunk_count()}:{state.get('id', '-')}"
        self._version = (now, version)
        return version

    # -- writing -----------------------------------------------------------------------------
    def delete_chunks_of(self, doc_ids: list[str]) -> None:
        if doc_ids:
            self.collection.delete(where={"document_id": {"$in": list(doc_ids)}})

    def forget(self, doc_ids: list[str]) -> None:
        """Remove documents from both collections (chunks first, then text and hash)."""
        self.delete_chunks_of(doc_ids)
        self.kv.delete_many(list(doc_ids), collection=_DOC_DATA)
        self.kv.delete_many(list(doc_ids), collection=_DOC_META)
        self._version = None

    def delete_document(self, doc_id: str) -> bool:
        with self.writing():
            self.recover()
            known = doc_id in self.document_ids()
            self.begin([doc_id])
            self.forget([doc_id])
            self.commit()
        return known
