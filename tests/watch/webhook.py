"""A webhook receiver on 127.0.0.1 (a free port) for the watch's tests: keeps each POSTed body, answers as told."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, status: int = 200, answer: bytes = b"ok") -> None:
        self.bodies: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.arrived = threading.Condition()
        self.status = status
        self.answer = answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.arrived:
                    receiver.bodies.append(json.loads(body))
                    receiver.headers.append(dict(self.headers))
                    receiver.arrived.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, predicate: Any, timeout: float = 60.0) -> Any:
        """The first body for which predicate holds, waiting up to ``timeout`` seconds for it; None if none came."""
        with self.arrived:
            found: list[Any] = []
            self.arrived.wait_for(lambda: bool(found.extend(b for b in self.bodies if predicate(b)) or found),
                                  timeout)
            return found[0] if found else None

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
