"""The local server process's own AWS calls answered in process, not over HTTP to itself.

The outbox sender, the stream poller, the schedules and the issuing poller run in the process that serves
local DynamoDB and SQS, and made more than half of the server's calls: each went through botocore's HTTP
stack, the loopback socket and waitress's parser and thread hand-off, only to reach the same WSGI app. A
`before-send` handler (botocore's hook for answering a request without sending it, as moto's own mock
does) hands such a request to the app directly; requests for any other host are sent as before. The app is
the journaled one, so these writes are kept exactly like the API's.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse

WsgiApp = Callable[..., Iterable[bytes]]


class _Body(io.BytesIO):
    """The raw body botocore reads a response from (AWSResponse.content calls stream())."""

    def stream(self, **_: Any) -> Iterable[bytes]:
        while chunk := self.read(65536):
            yield chunk


class InProcessRoute:
    """A botocore `before-send` handler: answers requests for one endpoint from a WSGI app."""

    def __init__(self) -> None:
        self._app: WsgiApp | None = None
        self._netloc = ""
        self._lock = threading.Lock()
        self.answered = 0  # requests answered in process (tests and the memory report read it)

    def attach(self, app: WsgiApp, endpoint: str) -> None:
        self._netloc = urlsplit(endpoint).netloc
        self._app = app

    def detach(self) -> None:
        self._app = None

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        app = self._app
        if app is None:
            return None
        url = urlsplit(request.url)
        body = request.body
        if url.netloc != self._netloc or not (body is None or isinstance(body, bytes | str)):
            return None  # another host, or a streamed upload: over HTTP as usual
        raw = body.encode() if isinstance(body, str) else body or b""
        host, _, port = url.netloc.partition(":")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method, "SCRIPT_NAME": "",
            "PATH_INFO": unquote(url.path or "/", encoding="latin-1"), "QUERY_STRING": url.query,
            "SERVER_NAME": host, "SERVER_PORT": port or "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(raw)),
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(raw),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = text
            elif key != "CONTENT_LENGTH":
                environ["HTTP_" + key] = text
        environ["HTTP_HOST"] = url.netloc
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = status, headers
            return lambda data: None  # the write() callable; moto's apps return their body instead

        result = app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        with self._lock:
            self.answered += 1
        return AWSResponse(request.url, int(answer["status"].split(" ", 1)[0]), dict(answer["headers"]),
                           _Body(content))


ROUTE = InProcessRoute()
