"""moto's DynamoDB server on loopback, with a journal of successful writes so data survives restarts.

moto keeps everything in memory. Its own recorder logs every request (reads and stream polls too),
so its replay grows with use; this journal keeps only the writes that succeeded, which replay to
the same state (timestamps and ids are made by the client, so the requests are deterministic).
"""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

WRITE_OPERATIONS = {"CreateTable", "UpdateTable", "DeleteTable", "UpdateTimeToLive", "PutItem", "UpdateItem",
                    "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
_REPLAY_HEADERS = ("Authorization", "Host", "Content-Type", "X-Amz-Target", "X-Amz-Date")


class JournalMiddleware:
    """WSGI middleware that appends each successful DynamoDB write to a JSON Lines file."""

    def __init__(self, app: Callable[..., Iterable[bytes]], journal: Path) -> None:
        self.app = app
        self.journal = journal
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        if operation not in WRITE_OPERATIONS:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        seen: dict[str, str] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status
            return start_response(status, headers, exc_info)

        # Hold the lock across the write so the journal order is the order moto applied them.
        with self._lock:
            result = list(self.app(environ, capture))
            if seen.get("status", "").startswith("200"):
                headers = {h: environ.get("HTTP_" + h.upper().replace("-", "_"), "") for h in _REPLAY_HEADERS}
                headers["Content-Type"] = environ.get("CONTENT_TYPE", "application/x-amz-json-1.0")
                entry = {"path": environ.get("PATH_INFO", "/"), "headers": headers, "body": body.decode()}
                with self.journal.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(entry) + "\n")
        return result


def replay(app: Callable[..., Iterable[bytes]], journal: Path) -> int:
    """Apply the journal to a fresh server app, in order; returns the number of writes replayed."""
    from werkzeug.test import Client

    if not journal.exists():
        return 0
    client = Client(app)
    count = 0
    with journal.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            entry = json.loads(line)
            client.post(entry["path"], data=entry["body"].encode(), headers=entry["headers"])
            count += 1
    return count


class LocalDynamoDB:
    """Start/stop the server in a thread. `journal=None` keeps nothing (tests of other things)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, journal: Path | None = None) -> None:
        self.host = host
        self.port = port
        self.journal = journal
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.replayed = 0

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalDynamoDB:
        from moto.server import DomainDispatcherApplication, create_backend_app

        from localmode import moto_patches

        moto_patches.apply()
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                """One line per DynamoDB call would drown the API's own log."""

        app: Any = DomainDispatcherApplication(create_backend_app)
        if self.journal is not None:
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            self.replayed = replay(app, self.journal)
            app = JournalMiddleware(app, self.journal)
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-dynamodb", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
