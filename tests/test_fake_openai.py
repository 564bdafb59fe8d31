"""The fake OpenAI server is accepted by the real openai client and by OpenAILike."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import openai
import pytest
from llama_index.core.llms import ChatMessage
from llama_index.llms.openai_like import OpenAILike

from fake_openai import FakeOpenAI  # tests/ is on sys.path (rootdir-less "prepend" import mode)

MESSAGES = [
    {"role": "system", "content": "Answer from the sources."},
    {"role": "user", "content": "What did the Kremlin say?"},
]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(timeout_delay=3.0) as server:
        yield server


def client(fake: FakeOpenAI, **kwargs: object) -> openai.OpenAI:
    options: dict[str, object] = {"max_retries": 0, "timeout": 5.0}
    options.update(kwargs)
    return openai.OpenAI(base_url=fake.base_url, api_key=fake.api_key, **options)  # type: ignore[arg-type]


def test_base_url_is_local_free_port(fake: FakeOpenAI) -> None:
    assert fake.base_url.startswith("http://127.0.0.1:")
    assert fake.base_url.endswith("/v1")
    assert fake.port > 0


def test_non_stream_reply(fake: FakeOpenAI) -> None:
    fake.queue("The Kremlin will not abandon Iran [1].")
    completion = client(fake).chat.completions.create(model="gpt-test", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-test"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "The Kremlin will not abandon Iran [1]."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_stream_reply_is_chunked(fake: FakeOpenAI) -> None:
    reply = "Peskov spoke to CNBC on Tuesday [2]."
    fake.queue(reply)
    stream = client(fake).chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    pieces = [chunk.choices[0].delta.content for chunk in stream if chunk.choices]
    texts = [p for p in pieces if p]
    assert "".join(texts) == reply
    assert len(texts) > 3  # really split into several chunks
    assert fake.requests[-1]["stream"] is True


def test_stream_include_usage(fake: FakeOpenAI) -> None:
    stream = client(fake).chat.completions.create(
        model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}  # type: ignore[arg-type]
    )
    chunks = list(stream)
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


def test_async_stream(fake: FakeOpenAI) -> None:
    fake.queue("async works")

    async def run() -> str:
        aclient = openai.AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key, max_retries=0)
        stream = await aclient.chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        out = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        await aclient.close()
        return "".join(out)

    assert asyncio.run(run()) == "async works"


def test_models_endpoint(fake: FakeOpenAI) -> None:
    models = client(fake).models.list()
    assert [m.id for m in models.data] == ["fake-model"]


def test_queue_order_then_responder() -> None:
    with FakeOpenAI(replies=["first"], responder=lambda body: f"n={len(body['messages'])}") as fake:
        fake.queue("second")
        c = client(fake)
        got = [c.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content for _ in range(3)]  # type: ignore[arg-type]
    assert got == ["first", "second", "n=2"]


def test_default_reply_echoes_last_user_message(fake: FakeOpenAI) -> None:
    completion = client(fake).chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "Echo: What did the Kremlin say?"


def test_requests_are_recorded(fake: FakeOpenAI) -> None:
    client(fake).chat.completions.create(model="gpt-test", messages=MESSAGES, temperature=0.1)  # type: ignore[arg-type]
    assert len(fake.requests) == 1
    body = fake.requests[0]
    assert body["model"] == "gpt-test"
    assert body["messages"] == MESSAGES
    assert body["temperature"] == 0.1
    assert not body.get("stream")


def test_openai_like_chat_and_stream_chat(fake: FakeOpenAI) -> None:
    llm = OpenAILike(model="fake-model", api_base=fake.base_url, api_key=fake.api_key, is_chat_model=True, max_retries=0)
    fake.queue("plain answer [1].", "streamed answer with several chunks [2].")
    messages = [ChatMessage(role="system", content="sys"), ChatMessage(role="user", content="question?")]

    response = llm.chat(messages)
    assert response.message.content == "plain answer [1]."

    deltas = [r.delta for r in llm.stream_chat(messages)]
    assert "".join(d or "" for d in deltas) == "streamed answer with several chunks [2]."
    assert len([d for d in deltas if d]) > 3

    assert [m["content"] for m in fake.requests[0]["messages"]] == ["sys", "question?"]
    assert fake.requests[1]["stream"] is True


def test_wrong_api_key_is_401(fake: FakeOpenAI) -> None:
    bad = openai.OpenAI(base_url=fake.base_url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


@pytest.mark.parametrize(
    ("kind", "exc"),
    [
        ("401", openai.AuthenticationError),
        ("429", openai.RateLimitError),
        ("500", openai.InternalServerError),
        ("503", openai.InternalServerError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_http_failures_map_to_openai_errors(fake: FakeOpenAI, kind: str, exc: type[Exception], stream: bool) -> None:
    fake.fail_next(kind)
    with pytest.raises(exc) as info:
        result = client(fake).chat.completions.create(model="m", messages=MESSAGES, stream=stream)  # type: ignore[arg-type]
        list(result) if stream else None  # type: ignore[call-overload]
    assert isinstance(info.value, openai.APIStatusError)
    assert info.value.status_code == int(kind)
    # the failure was consumed: next call succeeds
    ok = client(fake).chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert ok.choices[0].message.content


def test_rate_limit_retries_are_fast(fake: FakeOpenAI) -> None:
    fake.fail_next("429", times=2)
    fake.queue("after retries")
    start = time.monotonic()
    completion = client(fake, max_retries=2).chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "after retries"
    assert time.monotonic() - start < 1.0
    assert len(fake.requests) == 3


def test_timeout(fake: FakeOpenAI) -> None:
    fake.fail_next("timeout", delay=2.0)
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client(fake, timeout=0.3).chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert time.monotonic() - start < 1.5


def test_stop_releases_held_timeout_request() -> None:
    fake = FakeOpenAI(timeout_delay=30.0).start()
    fake.fail_next("timeout")
    with pytest.raises(openai.APITimeoutError):
        client(fake, timeout=0.2).chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    start = time.monotonic()
    fake.stop()
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("stream", [False, True])
def test_malformed_response(fake: FakeOpenAI, stream: bool) -> None:
    # The openai client does not wrap bad JSON in its own error type: it raises
    # json.JSONDecodeError, a ValueError.  Callers must catch ValueError too.
    fake.fail_next("malformed")
    with pytest.raises(ValueError):
        result = client(fake).chat.completions.create(model="m", messages=MESSAGES, stream=stream)  # type: ignore[arg-type]
        list(result) if stream else None  # type: ignore[call-overload]


def test_server_down_is_connection_error() -> None:
    fake = FakeOpenAI().start()
    c = client(fake)
    fake.stop()
    with pytest.raises(openai.APIConnectionError) as info:
        c.chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert not isinstance(info.value, openai.APITimeoutError)


def test_unknown_failure_kind_rejected(fake: FakeOpenAI) -> None:
    with pytest.raises(ValueError):
        fake.fail_next("418")
