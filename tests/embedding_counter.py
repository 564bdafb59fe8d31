"""Counts texts sent to the embedding model, through LlamaIndex's own instrumentation events."""

from __future__ import annotations

from typing import Any

from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events.embedding import EmbeddingEndEvent


class EmbeddingCounter(BaseEventHandler):
    texts: int = 0

    @classmethod
    def class_name(cls) -> str:
        return "EmbeddingCounter"

    def handle(self, event: Any, **kwargs: Any) -> None:
        if isinstance(event, EmbeddingEndEvent):
            self.texts += len(event.chunks)

    def __enter__(self) -> "EmbeddingCounter":
        get_dispatcher().add_event_handler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        root = get_dispatcher()
        root.event_handlers = [h for h in root.event_handlers if h is not self]
