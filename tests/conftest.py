"""Shared fixtures: real Chroma, real offline MiniLM embeddings (loaded once per session), no network."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_BASE_URL", "RAG_LLM_API_KEY"):
    os.environ.pop(var, None)  # tests never reach a hosted API; LLM tests use the local fake

from rag.config import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpus" / "kremlin-iran-cnbc-2024-10.txt"
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def make_settings(data_dir: Path, **kw) -> Settings:
    return Settings(data_dir=data_dir, _env_file=None, **kw)


@pytest.fixture(scope="session")
def seed_path() -> Path:
    return SEED


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory) -> Settings:
    """A store holding only the seed article (ingested once per session)."""
    from ingest.pipeline import ingest

    settings = make_settings(tmp_path_factory.mktemp("seed") / "data")
    work = tmp_path_factory.mktemp("seed-src")
    shutil.copy(SEED, work / SEED.name)
    shutil.copy(SEED.with_name(SEED.name + ".meta.json"), work / (SEED.name + ".meta.json"))
    report = ingest([str(work / SEED.name)], settings, show_progress=False)
    assert report.added and not report.errors
    return settings


@pytest.fixture(scope="session")
def seed_engine(seed_settings):
    from rag.engine import Engine

    return Engine(seed_settings)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(settings: Settings, engine=None):
    """The Gradio UI (ui.build_app) served on 127.0.0.1:settings.port; yields its URL, closes it after."""
    from ui import build_app, launch

    app = build_app(settings, engine)
    launch(app, settings, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{settings.port}/"
    finally:
        app.close()


@pytest.fixture(scope="session")
def ui_url(seed_settings, seed_engine):
    """The UI over the seed store, for the whole session."""
    settings = seed_settings.model_copy(update={"host": "127.0.0.1", "port": free_port(), "share": False})
    with running_app(settings, seed_engine) as url:
        yield url


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def embed_model():
    from rag.embeddings import load_embed_model

    return load_embed_model(make_settings(Path("/nonexistent")))
