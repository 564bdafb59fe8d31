"""Hybrid retrieval: Chroma vector search + BM25 over the same chunks, fused into one ranking.

All three pieces are LlamaIndex's (VectorIndexRetriever, BM25Retriever, QueryFusionRetriever with
num_queries=1 so no LLM is asked to write extra queries). BM25 reads the chunks back from Chroma.
Fusion defaults to min-max-normalised scores weighted 0.3 vector / 0.7 BM25 (RAG_FUSION_MODE,
RAG_BM25_WEIGHT); reciprocal-rank fusion is one setting away. Measured in docs/benchmarks.md: with
distractor documents MiniLM's ranking degrades first, and RRF lets that noise pull good BM25 hits down.
"""

from __future__ import annotations

import Stemmer
from llama_index.core import QueryBundle, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
from llama_index.core.schema import NodeWithScore
from llama_index.retrievers.bm25 import BM25Retriever

from ingest.storing import Store
from rag.config import Settings
from rag.models import Passage


def to_passage(item: NodeWithScore) -> Passage:
    node = item.node
    meta = node.metadata
    return Passage(
        node_id=node.node_id,
        doc_id=node.ref_doc_id or meta.get("document_id", ""),
        text=node.get_content(),
        score=float(item.score or 0.0),
        title=meta.get("title", ""),
        source=meta.get("source", ""),
        date=meta.get("date", ""),
        kind=meta.get("kind", ""),
        start=node.start_char_idx,
        end=node.end_char_idx,
    )


class HybridRetriever:
    """Built once per store version; rebuilding BM25 is the only cost that grows with the corpus."""

    def __init__(self, store: Store, settings: Settings, embed_model: BaseEmbedding):
        self.version = store.version()
        nodes = store.all_nodes()
        self.size = len(nodes)
        self._fusion: QueryFusionRetriever | None = None
        if not nodes:
            return
        candidates = min(max(settings.candidate_k, settings.top_k), len(nodes))
        index = VectorStoreIndex.from_vector_store(store.vector_store, embed_model=embed_model)
        vector = index.as_retriever(similarity_top_k=candidates)
        bm25 = BM25Retriever.from_defaults(
            nodes=nodes, similarity_top_k=candidates, stemmer=Stemmer.Stemmer("english"), language="english"
        )
        weighted = settings.fusion_mode != "reciprocal_rank"
        self._fusion = QueryFusionRetriever(
            [vector, bm25],
            similarity_top_k=max(settings.top_k, settings.rerank_pool),
            num_queries=1,
            mode=FUSION_MODES(settings.fusion_mode if weighted else "reciprocal_rerank"),
            retriever_weights=[1.0 - settings.bm25_weight, settings.bm25_weight] if weighted else None,
            use_async=False,
            llm=MockLLM(),  # never called: num_queries=1 means no generated queries
        )

    def retrieve(self, question: str, embedding: list[float] | None = None) -> list[Passage]:
        if self._fusion is None:
            return []
        bundle = QueryBundle(query_str=question, embedding=embedding)
        return [to_passage(item) for item in self._fusion.retrieve(bundle)]
