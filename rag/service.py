"""Build the answering engine for the configured answer mode (the one place that picks a backend)."""

from __future__ import annotations

from rag.config import Settings
from rag.engine import Engine


def build_engine(settings: Settings) -> Engine:
    return Engine(settings)
