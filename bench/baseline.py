"""The stock LlamaIndex pipeline a user writes first, as the benchmark's point of comparison.

SimpleDirectoryReader → VectorStoreIndex (in memory) with SentenceSplitter(chunk_size=1024,
chunk_overlap=200) → retriever with similarity_top_k=2, using the same embedding model as ours
(rag.embeddings.load_embed_model). It has no answer step: the "answer" is the top passage's text, it
never abstains, and it cites that one passage. Everything here is LlamaIndex's own code; the only
hand-written part is the adapter to rag.models.Answer so rag.evaluation scores both pipelines alike.
"""

from __future__ import annotations

import time
from pathlib import Path

from llama_index.core import QueryBundle, SimpleDirectoryReader, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter

from rag.models import Answer, Citation, Passage

CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 1024, 200, 2


class StockPipeline:
    def __init__(self, files: list[Path], embed_model: BaseEmbedding):
        t0 = time.perf_counter()
        documents = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
        self.index = VectorStoreIndex.from_documents(
            documents,
            transformations=[SentenceSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)],
            embed_model=embed_model,
        )
        self.ingest_seconds = time.perf_counter() - t0
        self.chunks = len(self.index.docstore.docs)
        self.embed_model = embed_model
        self.retriever = self.index.as_retriever(similarity_top_k=TOP_K)

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        t0 = time.perf_counter()
        q_emb = self.embed_model.get_query_embedding(question)
        hits = self.retriever.retrieve(QueryBundle(query_str=question, embedding=q_emb))
        passages = [
            Passage(node_id=h.node.node_id, doc_id=h.node.ref_doc_id or "", text=h.node.get_content(),
                    score=float(h.score or 0.0), title=h.node.metadata.get("file_name", ""),
                    source=h.node.metadata.get("file_path", ""),
                    start=h.node.start_char_idx, end=h.node.end_char_idx)
            for h in hits
        ]
        total = (time.perf_counter() - t0) * 1000
        if not passages:
            return Answer(question, "", False, "stock-top-passage", timings_ms={"total": total})
        top = passages[0]
        citation = Citation(n=1, doc_id=top.doc_id, title=top.title, source=top.source, text=top.text,
                            quote=top.text, start=top.start, end=top.end, score=top.score, node_id=top.node_id)
        return Answer(question=question, answer=top.text, abstained=False, mode="stock-top-passage",
                      citations=[citation], retrieved=passages, timings_ms={"total": total})
