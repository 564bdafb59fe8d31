"""Test helper run as a subprocess: ingest a folder and SIGKILL itself at an exact point of batch 2.

The points are the worst moments for consistency: right after the batch's chunks reach Chroma (the
docstore does not know them yet), and inside the docstore update, after the content hashes were
written but before the document texts were (a re-run that trusted the hashes would skip documents
whose text is missing).
Usage: python tests/crash_ingest.py DATA_DIR FOLDER after_chunks|after_hashes
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llama_index.core.storage.docstore.keyval_docstore import KVDocumentStore  # noqa: E402
from llama_index.vector_stores.chroma import ChromaVectorStore  # noqa: E402

from ingest.pipeline import ingest  # noqa: E402
from ingest.storing import Store  # noqa: E402
from rag.config import Settings  # noqa: E402

DIE_ON_BATCH = 2


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class DyingVectorStore(ChromaVectorStore):
    def add(self, nodes, **kwargs):
        ids = super().add(nodes, **kwargs)
        calls = self.__dict__.setdefault("_calls", [0])
        calls[0] += 1
        if POINT == "after_chunks" and calls[0] == DIE_ON_BATCH:
            _die()
        return ids


class DyingDocstore(KVDocumentStore):
    calls = 0

    def set_document_hashes(self, doc_hashes):
        super().set_document_hashes(doc_hashes)
        DyingDocstore.calls += 1
        if POINT == "after_hashes" and DyingDocstore.calls == DIE_ON_BATCH:
            _die()


if __name__ == "__main__":
    data_dir, folder, POINT = sys.argv[1], sys.argv[2], sys.argv[3]
    settings = Settings(data_dir=Path(data_dir), _env_file=None)
    store = Store(settings)
    store.vector_store = DyingVectorStore(chroma_collection=store.collection)
    store.docstore = DyingDocstore(store.kv, batch_size=1000)
    ingest([folder], settings, store=store, show_progress=False)
    print("finished without dying")
