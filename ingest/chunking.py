"""Sentence-aware chunking with LlamaIndex's SentenceSplitter, stable chunk ids and source offsets."""

from __future__ import annotations

import hashlib

from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import BaseNode

from rag.config import Settings


def stable_chunk_id(i: int, doc: BaseNode) -> str:
    """Same document content → same chunk ids, so re-ingesting never duplicates chunks."""
    digest = hashlib.sha1(f"{doc.node_id}:{doc.hash}:{i}".encode()).hexdigest()[:20]
    return f"{doc.node_id}:{digest}"


def make_splitter(settings: Settings) -> SentenceSplitter:
    # SentenceSplitter keeps each chunk a verbatim substring of the document and records
    # start_char_idx/end_char_idx, which the citations use to point into the source.
    return SentenceSplitter(
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        paragraph_separator="\n\n",
        id_func=stable_chunk_id,
        include_prev_next_rel=False,
    )
