"""A tiny, real OpenAI-compatible HTTP server for tests (stdlib only).

Runs ``http.server.ThreadingHTTPServer`` on ``127.0.0.1`` with a free port in a
background thread and speaks enough of the OpenAI REST API for the official
``openai`` client and ``llama_index.llms.openai_like.OpenAILike``:

* ``POST /v1/chat/completions`` -- JSON reply, or SSE stream when ``stream`` is true
* ``GET  /v1/models``

Usage::

    with FakeOpenAI(replies=["Hello [1]."]) as fake:
        client = openai.OpenAI(base_url=fake.base_url, api_key=fake.api_key, max_retries=0)
        ...
        assert fake.requests[0]["messages"][-1]["content"] == "hi"

Failure injection (``fail_next(kind, times)``), consumed before any queued reply:

* ``"401"`` / ``"429"`` / ``"500"`` / ``"503"`` -- OpenAI-shaped JSON error with that
  status.  429 carries ``retry-after: 0`` *and* ``retry-after-ms: 1`` (the openai
  client treats ``retry-after: 0`` as "use default backoff", the ms header makes
  its retries near-instant).
* ``"timeout"`` -- holds the request ``delay`` seconds (``timeout_delay`` by
  default) before answering; use a client timeout shorter than that.
* ``"malformed"`` -- HTTP 200 whose body is invalid JSON (non-stream) or an SSE
  stream carrying a garbage ``data:`` line (stream).
* "down" is simulated by ``stop()``-ing the server (the port then refuses).

Every JSON body received (including failed ones) is appended to ``requests``;
the request path and headers are kept in ``request_log``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

FAIL_KINDS = frozenset({"401", "429", "500", "503", "timeout", "malformed"})

_ERROR_INFO: dict[str, tuple[int, str, str]] = {
    "401": (401, "invalid_request_error", "Incorrect API key provided."),
    "429": (429, "rate_limit_error", "Rate limit reached (fake)."),
    "500": (500, "server_error", "The server had an error while processing your request (fake)."),
    "503": (503, "server_error", "The engine is currently overloaded (fake)."),
}


def _message_text(content: Any) -> str:
    """Text of an OpenAI message ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        )
    return ""


def default_reply(body: dict[str, Any]) -> str:
    """Echo-ish reply used when no queued reply and no responder exist."""
    messages = body.get("messages") or []
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return "Echo: " + _message_text(message.get("content"))
    return "Echo: (no user message)"


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class FakeOpenAI:
    """OpenAI-compatible fake server; see module docstring."""

    def __init__(
        self,
        replies: list[str] | None = None,
        responder: Callable[[dict[str, Any]], str] | None = None,
        api_key: str = "test-key",
        *,
        timeout_delay: float = 3.0,
        chunk_size: int = 4,
        model: str = "fake-model",
    ) -> None:
        self.api_key = api_key
        self.responder = responder
        self.timeout_delay = timeout_delay
        self.chunk_size = max(1, chunk_size)
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.request_log: list[dict[str, Any]] = []
        self._replies: deque[str] = deque(replies or [])
        self._failures: deque[tuple[str, float]] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.host = "127.0.0.1"
        self.port = 0

    # ------------------------------------------------------------------ control
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._server is not None

    def queue(self, *replies: str) -> None:
        with self._lock:
            self._replies.extend(replies)

    def fail_next(self, kind: str, times: int = 1, delay: float | None = None) -> None:
        if kind not in FAIL_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; expected one of {sorted(FAIL_KINDS)}")
        hold = self.timeout_delay if delay is None else delay
        with self._lock:
            self._failures.extend([(kind, hold)] * times)

    def start(self) -> FakeOpenAI:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer((self.host, 0), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # releases requests held by "timeout"
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------- used by handler
    def _record(self, method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None) -> None:
        with self._lock:
            if body is not None:
                self.requests.append(body)
            self.request_log.append({"method": method, "path": path, "headers": headers, "body": body})

    def _next_failure(self) -> tuple[str, float] | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _next_reply(self, body: dict[str, Any]) -> str:
        with self._lock:
            queued = self._replies.popleft() if self._replies else None
        if queued is not None:
            return queued
        if self.responder is not None:
            return self.responder(body)
        return default_reply(body)


def _make_handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeOpenAI/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence
            return

        # ------------------------------------------------------------ helpers
        def _send_json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self._send_raw(status, data, "application/json", extra)

        def _send_raw(
            self, status: int, data: bytes, content_type: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _send_error(self, kind: str) -> None:
            status, err_type, message = _ERROR_INFO[kind]
            extra = {"retry-after": "0", "retry-after-ms": "1"} if kind == "429" else {}
            code = "invalid_api_key" if kind == "401" else None
            self._send_json(
                status,
                {"error": {"message": message, "type": err_type, "param": None, "code": code}},
                extra,
            )

        def _authorised(self) -> bool:
            return self.headers.get("Authorization", "") == f"Bearer {fake.api_key}"

        def _read_body(self) -> dict[str, Any] | None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return None
            return body if isinstance(body, dict) else None

        # ------------------------------------------------------------- routes
        def do_GET(self) -> None:  # noqa: N802
            fake._record("GET", self.path, dict(self.headers), None)
            if self.path.rstrip("/") != "/v1/models":
                self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error", "param": None, "code": None}})
                return
            if not self._authorised():
                self._send_error("401")
                return
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": fake.model, "object": "model", "created": int(time.time()), "owned_by": "fake"}
                    ],
                },
            )

        def do_POST(self) -> None:  # noqa: N802
            body = self._read_body()
            fake._record("POST", self.path, dict(self.headers), body)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error", "param": None, "code": None}})
                return
            if not self._authorised():
                self._send_error("401")
                return
            if body is None:
                self._send_json(400, {"error": {"message": "invalid JSON body", "type": "invalid_request_error", "param": None, "code": None}})
                return
            stream = bool(body.get("stream"))
            failure = fake._next_failure()
            if failure is not None:
                kind, delay = failure
                if kind == "timeout":
                    if fake._stopping.wait(delay):
                        return
                elif kind == "malformed":
                    self._send_malformed(stream)
                    return
                else:
                    self._send_error(kind)
                    return
            reply = fake._next_reply(body)
            try:
                if stream:
                    self._send_stream(body, reply)
                else:
                    self._send_completion(body, reply)
            except (BrokenPipeError, ConnectionResetError):
                return  # client gave up (e.g. after its own timeout)

        # ---------------------------------------------------------- responses
        def _send_malformed(self, stream: bool) -> None:
            if stream:
                data = b'data: {"id": "chatcmpl-broken", "choices": [{"delta": \n\ndata: [DONE]\n\n'
                self._send_raw(200, data, "text/event-stream")
            else:
                self._send_raw(200, b'{"id": "chatcmpl-broken", "choices": [', "application/json")

        def _send_completion(self, body: dict[str, Any], reply: str) -> None:
            prompt_tokens = sum(
                len(_message_text(m.get("content")).split())
                for m in body.get("messages") or []
                if isinstance(m, dict)
            )
            completion_tokens = len(reply.split())
            self._send_json(
                200,
                {
                    "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": str(body.get("model") or fake.model),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply, "refusal": None},
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                    "system_fingerprint": "fp_fake",
                },
            )

        def _send_stream(self, body: dict[str, Any], reply: str) -> None:
            completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
            created = int(time.time())
            model = str(body.get("model") or fake.model)

            def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
                payload = {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                }
                return b"data: " + json.dumps(payload).encode() + b"\n\n"

            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(chunk({"role": "assistant", "content": ""}, None))
            for piece in _chunks(reply, fake.chunk_size):
                if piece:
                    self.wfile.write(chunk({"content": piece}, None))
                    self.wfile.flush()
            self.wfile.write(chunk({}, "stop"))
            options = body.get("stream_options")
            if isinstance(options, dict) and options.get("include_usage"):
                usage = {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": {"prompt_tokens": 0, "completion_tokens": len(reply.split()), "total_tokens": len(reply.split())},
                }
                self.wfile.write(b"data: " + json.dumps(usage).encode() + b"\n\n")
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler
