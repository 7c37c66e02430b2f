"""A local HTTP server speaking just enough of the OpenAI Responses API, scripted per test."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """What the server does with one request.

    kind: "answer" (200 with `text` as the output text), "status" (error `status`, `headers`),
    "reset" (drop the connection with a TCP reset), "slow" (sleep `delay` seconds, then answer).
    """

    kind: str = "answer"
    text: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error_message: str = "scripted error"
    delay: float = 0.0


def answer(name: str, description: str) -> Reply:
    return Reply("answer", json.dumps({"name": name, "description": description}))


def response_body(text: str, model: str, n: int) -> dict:
    return {
        "id": f"resp_{n:04d}",
        "object": "response",
        "created_at": 1_700_000_000 + n,
        "status": "completed",
        "model": model,
        "output": [
            {
                "type": "message",
                "id": f"msg_{n:04d}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 1000 + n,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 200 + n,
            "output_tokens_details": {"reasoning_tokens": 50},
            "total_tokens": 1200 + 2 * n,
        },
    }


class ResponsesServer:
    """Serves POST /v1/responses from a script: a list of Replies, or a function of the request body.

    Every request is recorded in `requests` as (headers, parsed JSON body).
    """

    def __init__(self) -> None:
        self.script: list[Reply] | Callable[[dict], Reply] = []
        self.requests: list[tuple[dict[str, str], dict]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server._lock:
                    server.requests.append((dict(self.headers.items()), body))
                    n = len(server.requests)
                    reply = server._next(body)
                if self.path.rstrip("/") != "/v1/responses":
                    reply = Reply("status", status=404, error_message=f"no route {self.path}")
                if reply.kind == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if reply.kind == "slow":
                    time.sleep(reply.delay)
                if reply.kind == "status":
                    payload = {"error": {"message": reply.error_message, "type": "scripted", "code": None}}
                    self._send(reply.status, payload, reply.headers)
                else:
                    self._send(200, response_body(reply.text, body.get("model", "?"), n), reply.headers)

            def _send(self, status: int, payload: dict, headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def _next(self, body: dict) -> Reply:
        if callable(self.script):
            return self.script(body)
        if not self.script:
            return Reply("status", status=500, error_message="script exhausted")
        return self.script.pop(0)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def bodies(self) -> list[dict]:
        return [body for _, body in self.requests]

    def __enter__(self) -> ResponsesServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
