"""A LlamaIndex key-value store kept in a Chroma collection, so the docstore lives where the chunks live.

Hand-written because LlamaIndex ships KV stores for Redis, MongoDB, Postgres and others but none for
Chroma. With it, LlamaIndex's own `KVDocumentStore` (document text + content hash, used by the
IngestionPipeline for dedup) needs no local file: in Chroma server mode every replica sees the same
documents, and in embedded mode the docstore shares Chroma's crash-safe SQLite storage.

Each (collection, key) pair is one Chroma record: id "<collection>::<key>", metadata
{"kv": collection, "value": <JSON>}. Chroma requires an embedding per record, so each gets a
2-number vector derived from its id (never queried; distinct values keep the HNSW index healthy).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from llama_index.core.storage.kvstore.types import DEFAULT_COLLECTION, BaseKVStore

_PAGE = 2000


def _record_id(collection: str, key: str) -> str:
    return f"{collection}::{key}"


def _placeholder_vector(record_id: str) -> list[float]:
    digest = hashlib.sha1(record_id.encode("utf-8")).digest()
    return [int.from_bytes(digest[:4], "big") / 2**32, int.from_bytes(digest[4:8], "big") / 2**32]


class ChromaKVStore(BaseKVStore):
    def __init__(self, chroma_collection: Any, max_batch: int = 1000):
        self._col = chroma_collection
        self._max_batch = max(1, max_batch)  # the client's get_max_batch_size()

    # -- writes ------------------------------------------------------------------------------
    def put(self, key: str, val: dict, collection: str = DEFAULT_COLLECTION) -> None:
        self.put_all([(key, val)], collection=collection)

    def put_all(self, kv_pairs: list[tuple[str, dict]], collection: str = DEFAULT_COLLECTION,
                batch_size: int = 1) -> None:
        """One Chroma upsert per batch of the client's maximum size (batch_size is ignored)."""
        pairs = list(dict(kv_pairs).items())  # last value wins for a repeated key
        for i in range(0, len(pairs), self._max_batch):
            part = pairs[i : i + self._max_batch]
            ids = [_record_id(collection, k) for k, _ in part]
            self._col.upsert(
                ids=ids,
                embeddings=[_placeholder_vector(rid) for rid in ids],
                metadatas=[{"kv": collection, "value": json.dumps(v, ensure_ascii=False)} for _, v in part],
            )

    def delete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        rid = _record_id(collection, key)
        if not self._col.get(ids=[rid], include=[])["ids"]:
            return False
        self._col.delete(ids=[rid])
        return True

    def delete_many(self, keys: list[str], collection: str = DEFAULT_COLLECTION) -> None:
        if keys:
            self._col.delete(ids=[_record_id(collection, k) for k in keys])

    # -- reads -------------------------------------------------------------------------------
    def get(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict | None:
        page = self._col.get(ids=[_record_id(collection, key)], include=["metadatas"])
        return json.loads(page["metadatas"][0]["value"]) if page["ids"] else None

    def get_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict]:
        prefix = len(collection) + 2
        found: dict[str, dict] = {}
        offset = 0
        while True:
            page = self._col.get(where={"kv": collection}, include=["metadatas"], limit=_PAGE, offset=offset)
            if not page["ids"]:
                return found
            for rid, meta in zip(page["ids"], page["metadatas"]):
                found[rid[prefix:]] = json.loads(meta["value"])
            offset += len(page["ids"])

    def keys(self, collection: str = DEFAULT_COLLECTION) -> set[str]:
        prefix = len(collection) + 2
        keys: set[str] = set()
        offset = 0
        while True:
            page = self._col.get(where={"kv": collection}, include=[], limit=_PAGE, offset=offset)
            if not page["ids"]:
                return keys
            keys.update(rid[prefix:] for rid in page["ids"])
            offset += len(page["ids"])

    # -- async variants (the pipeline runs synchronously; these just delegate) -------------------
    async def aput(self, key: str, val: dict, collection: str = DEFAULT_COLLECTION) -> None:
        self.put(key, val, collection)

    async def aput_all(self, kv_pairs: list[tuple[str, dict]], collection: str = DEFAULT_COLLECTION,
                       batch_size: int = 1) -> None:
        self.put_all(kv_pairs, collection, batch_size)

    async def aget(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict | None:
        return self.get(key, collection)

    async def aget_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict]:
        return self.get_all(collection)

    async def adelete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        return self.delete(key, collection)
