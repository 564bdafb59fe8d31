"""Many users at once: 20 simultaneous chats through the running Gradio app, the queue's concurrency
limit from settings, and Engine.ask from many threads on cold caches (real Chroma, MiniLM, Gradio)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

from rag import ui_render as render
from rag.engine import Engine
from tests.conftest import free_port, running_app
from ui import message_text

TIMEOUT = 180  # seconds for any one request
QUESTIONS = [
    "What did Peskov say?",
    "Where is the BRICS summit taking place?",
    "What kind of missiles has Iran lately supplied to Russia?",
    "What did the Kremlin say about abandoning Iran?",
    "Who did Netanyahu say tried to assassinate him and his wife?",
    "What did Burcu Ozcelik say about the audience?",
    "Is Russia developing cooperation with Iran?",
    "What war did Netanyahu vow to continue?",
    "What is the capital of France?",  # abstains
    "When was Dmitry Peskov born?",  # abstains
]

pytestmark = pytest.mark.slow


def _ask_all(url: str, questions: list[str]) -> list[tuple]:
    """Each question from its own client (its own session), all submitted before any is awaited."""
    with ThreadPoolExecutor(len(questions)) as pool:
        clients = list(pool.map(lambda _: Client(url, verbose=False), questions))
    jobs = [client.submit(q, [], api_name="/ask") for client, q in zip(clients, questions)]
    return [job.result(timeout=TIMEOUT) for job in jobs]


def test_twenty_simultaneous_chats_are_all_answered_correctly(ui_url, seed_engine):
    expected = {q: seed_engine.ask(q) for q in QUESTIONS}
    asked = [QUESTIONS[i % len(QUESTIONS)] for i in range(20)]
    results = _ask_all(ui_url, asked)
    assert len(results) == 20
    for question, (chat, box, sources, status) in zip(asked, results):
        want = expected[question]
        assert message_text(chat[0]) == question
        got = message_text(chat[-1])
        assert render.answer_markdown(want).split("<small")[0].strip() in got, question
        assert sources == render.sources_html(want), question  # same passages, same highlights
        assert ("no answer found in the sources" in status) == want.abstained


class CountingEngine(Engine):
    """A real engine that records how many answers run at the same time (each held 0.3 s longer)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._count_guard = threading.Lock()
        self.active = 0
        self.peak = 0

    def stream(self, question, history=None, mode=None):
        with self._count_guard:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(0.3)
            yield from super().stream(question, history, mode)
        finally:
            with self._count_guard:
                self.active -= 1


def test_queue_runs_at_most_concurrency_limit_answers_at_once(seed_settings, seed_engine):
    settings = seed_settings.model_copy(update={"port": free_port(), "concurrency_limit": 3})
    engine = CountingEngine(settings, store=seed_engine.store)
    with running_app(settings, engine) as url:
        results = _ask_all(url, [QUESTIONS[i % 4] for i in range(12)])
    assert len(results) == 12 and all(message_text(chat[-1]) for chat, *_ in results)
    assert engine.peak == 3, f"peak concurrency {engine.peak}, limit 3"


def test_engine_ask_from_many_threads_on_cold_caches(seed_settings, seed_engine):
    """Threads share one fresh engine whose caches are tiny, so they race on fills and evictions."""
    expected = {q: seed_engine.ask(q).answer for q in QUESTIONS}
    engine = Engine(seed_settings, store=seed_engine.store)
    engine._sentence_vectors.size = 8
    engine._doc_quotes.size = 1
    asked = [QUESTIONS[i % len(QUESTIONS)] for i in range(40)]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda q: engine.ask(q).answer, asked))
    assert answers == [expected[q] for q in asked]
