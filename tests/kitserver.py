"""A local HTTP server (a real socket) that answers the client kits with scripted responses and
records what they sent, for calls whose server side is tested elsewhere."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Scripted:
    """``with Scripted() as srv: srv.script(Answer(...), ...)``; requests land in ``srv.seen``."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._answers: list[Answer] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                owner.seen.append(Seen(self.command, self.path, headers, body))
                answer = owner._answers.pop(0) if owner._answers else Answer(500, {"code": "x"})
                raw = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body)
                data = raw if isinstance(raw, bytes) else raw.encode()
                ctype = "image/png" if isinstance(answer.body, bytes) else "application/json"
                self.send_response(answer.status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                for k, v in answer.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def script(self, *answers: Answer) -> None:
        self._answers.extend(answers)

    def __enter__(self) -> Scripted:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
